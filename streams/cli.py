"""The ``qualstream`` command: dev stack, traffic generator, worker, demo, export, replay."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from streams.config import Settings, from_env
from streams.security import SecurityConfigError


def _dev(settings: Settings, args: argparse.Namespace) -> int:
    """Run Tansu and Redis in the foreground with every topic created, until Ctrl-C."""
    from streams.devstack import (
        compacted_topic_names,
        create_topics,
        start_broker,
        start_redis,
        topic_names,
    )

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with start_broker(args.port) as broker, start_redis(env={}) as redis_handle:
        topics = settings.topics
        created = asyncio.run(
            create_topics(
                broker.bootstrap,
                topic_names(topics),
                args.partitions or settings.partitions,
                compacted_topic_names(topics),
                replication_factor=settings.replication_factor,
            )
        )
        exports = {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "REDIS_URL": redis_handle.url,
            "QUALSTREAM_ONE_RECORD_BATCHES": "1",
        }
        if settings.topic_prefix:
            exports["QUALSTREAM_TOPIC_PREFIX"] = settings.topic_prefix
        print(f"Kafka (Tansu)  {broker.bootstrap}   log: {broker.log_path}")
        print(f"Redis          {redis_handle.url}   log: {redis_handle.log_path}")
        print(f"Topics         {len(created)} created: {', '.join(created)}")
        print("\nIn another shell:")
        for name, value in exports.items():
            print(f"  export {name}={shlex.quote(value)}")
        print("\nCtrl-C stops both (Tansu keeps nothing across a restart).", flush=True)
        while not stop.wait(0.5):
            for name, proc in (("Tansu", broker.process), ("Redis", redis_handle.process)):
                if proc is not None and proc.poll() is not None:
                    print(f"{name} exited with status {proc.returncode}", file=sys.stderr)
                    return 1
    print("stopped")
    return 0


def _generate(settings: Settings, args: argparse.Namespace) -> int:
    """Produce seeded synthetic traffic to ``KAFKA_BOOTSTRAP_SERVERS``."""
    from streams.generate import ProduceStats, TrafficConfig, produce

    config = TrafficConfig(accounts=args.accounts, bad_ratio=args.bad_ratio)
    duration = args.duration
    if duration is None and args.count is None:
        duration = 10.0

    def progress(stats: ProduceStats) -> None:
        print(f"  {stats.behaviour} behaviour messages, {stats.bad} bad", flush=True)

    print(f"generating to {settings.kafka_bootstrap_servers} (seed {args.seed}, {args.rate}/s)")
    stats = asyncio.run(
        produce(
            settings,
            seed=args.seed,
            rate=args.rate,
            duration_s=duration,
            count=args.count,
            config=config,
            on_progress=progress if args.progress else None,
        )
    )
    rate = stats.behaviour / stats.elapsed_s if stats.elapsed_s > 0 else 0.0
    print(
        f"sent {stats.reference} reference + {stats.behaviour} behaviour messages "
        f"({stats.bad} bad) in {stats.elapsed_s:.1f}s, {rate:.0f}/s"
    )
    for topic, n in sorted(stats.by_topic.items()):
        print(f"  {topic}: {n}")
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from streams.shell.worker import run_worker

    run_worker(settings)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from streams.demo import run_demo

    seconds = args.seconds if args.seconds is not None else settings.demo_seconds
    result = run_demo(settings, seconds)
    return result if isinstance(result, int) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qualstream",
        description="Streaming lead qualification. Settings come from the environment "
        "(KAFKA_BOOTSTRAP_SERVERS, REDIS_URL, QUALSTREAM_*).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run an embedded Tansu broker and Redis until Ctrl-C")
    dev.add_argument("--port", type=int, default=None, help="broker port (default: a free one)")
    dev.add_argument("--partitions", type=int, default=None, help="default: QUALSTREAM_PARTITIONS")
    dev.set_defaults(handler=_dev)

    gen = sub.add_parser("generate", help="produce seeded synthetic traffic")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--rate", type=float, default=100.0, help="events/s; 0 = unthrottled")
    limit = gen.add_mutually_exclusive_group()
    limit.add_argument("--duration", type=float, default=None, help="seconds (default 10)")
    limit.add_argument("--count", type=int, default=None, help="behaviour messages to send")
    gen.add_argument("--bad-ratio", type=float, default=0.01, help="share of bad records")
    gen.add_argument("--accounts", type=int, default=40)
    gen.add_argument("--progress", action="store_true", help="print every 1000 messages")
    gen.set_defaults(handler=_generate)

    worker = sub.add_parser("worker", help="run a stream-processing worker")
    worker.set_defaults(handler=_worker)

    demo = sub.add_parser("demo", help="run the self-contained demo")
    demo.add_argument("--seconds", type=float, default=None, help="default: DEMO_SECONDS")
    demo.set_defaults(handler=_demo)

    from streams.replay.commands import add_commands

    add_commands(sub)  # export, replay
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qualstream`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = from_env()
    except SecurityConfigError as exc:  # a clear line, not a traceback, and no connection
        print(f"qualstream: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        code: int = args.handler(settings, args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
