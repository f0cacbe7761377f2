"""`qualstream demo`: embedded broker and Redis, one worker, live traffic and a live view."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from streams.config import Settings, to_env
from streams.devstack import free_port, start_broker, start_redis

STAGE_STYLE = {"sales_ready": "bold green", "nurture": "cyan", "review": "yellow",
               "excluded": "red", "new": "dim"}


@dataclass
class DemoView:
    """What the live view shows; updated by the consumer task."""

    settings: Settings
    worker_log: Path
    token_file: Path
    started: float = field(default_factory=time.monotonic)
    produced: int = 0
    bad_produced: int = 0
    transitions: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=14))
    by_stage: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0
    assignments: int = 0
    unassigned: int = 0
    sla: Counter[str] = field(default_factory=Counter)
    contacts: set[str] = field(default_factory=set)

    def render(self) -> Group:
        s = self.settings
        head = Text.assemble(
            ("qualstream demo", "bold"), f"  model {self._model_version()}  ",
            (f"{time.monotonic() - self.started:5.0f}s", "dim"), "\n",
            "broker ", (s.kafka_bootstrap_servers, "bold"), "   redis ",
            (s.redis_url or "-", "bold"), "\n",
            "metrics ", (f"http://{s.web_host}:{s.web_port}/metrics", "bold underline"),
            "   API ", (f"http://{s.web_host}:{s.web_port}/api/v1/", "bold underline"),
            " (bearer token in ", (str(self.token_file), "dim"), ")\n",
            "worker log ", (str(self.worker_log), "dim"))
        counts = Text.assemble(
            f"events produced {self.produced:,} (bad {self.bad_produced:,})   ",
            f"leads {len(self.contacts):,}   ",
            ("sales-ready ", "green"), (f"{self.by_stage['sales_ready']:,}", "bold green"),
            f"   nurture {self.by_stage['nurture']:,}   review {self.by_stage['review']:,}   "
            f"excluded {self.by_stage['excluded']:,}   ",
            ("dead letters ", "red"), (f"{self.dead_letters:,}", "bold red"), "\n",
            f"assigned to reps {self.assignments:,} (unassigned {self.unassigned:,})   SLA "
            f"started {self.sla['started']:,}  met {self.sla['met']:,}  warning "
            f"{self.sla['warning']:,}  breached {self.sla['breached']:,}")
        table = Table(expand=True, title="latest stage transitions", title_justify="left")
        for col in ("contact", "from", "to", "trigger", "total", "fit", "segment",
                    "top reasons"):
            table.add_column(col, no_wrap=col != "top reasons")
        for t in reversed(self.transitions):
            reasons = ", ".join(f"{r['signal']} {r['points']:.0f}" for r in t["reasons"][:3])
            table.add_row(
                t["entity_id"][:14], t["from_stage"],
                Text(t["to_stage"], style=STAGE_STYLE.get(t["to_stage"], "")),
                t["trigger"], f"{t['total']:.1f}", t["fit_grade"], t["segment"], reasons)
        return Group(Panel(head), counts, table)

    def _model_version(self) -> str:
        return self.transitions[-1]["model_version"] if self.transitions else "…"

    def summary(self) -> str:
        return (f"produced {self.produced:,} events ({self.bad_produced:,} bad), "
                f"{len(self.contacts):,} leads with transitions, "
                f"{self.by_stage['sales_ready']:,} sales-ready transitions, "
                f"{self.assignments:,} assigned to reps, {self.sla['breached']:,} SLA breaches, "
                f"{self.dead_letters:,} dead letters")


async def _follow(view: DemoView, settings: Settings) -> None:
    from aiokafka import AIOKafkaConsumer

    from streams.codecs import codec_for
    from streams.security import kafka_client_kwargs

    codec = codec_for(settings.schema_registry_url)
    t = settings.topics
    consumer = AIOKafkaConsumer(
        t.qualification_events, t.dlq, t.assignments, t.sla_events,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None, auto_offset_reset="earliest", metadata_max_age_ms=1000,
        **kafka_client_kwargs(settings.kafka_security))
    await consumer.start()
    try:
        async for msg in consumer:
            if msg.topic == t.dlq:
                view.dead_letters += 1
                continue
            if msg.topic == t.assignments:
                assignment = codec.decode("routing.assignments", msg.value)
                view.assignments += assignment["rep_id"] is not None
                view.unassigned += assignment["rep_id"] is None
                continue
            if msg.topic == t.sla_events:
                view.sla[codec.decode("sla.events", msg.value)["status"]] += 1
                continue
            event = codec.decode("qualification.events", msg.value)
            view.transitions.append(event)
            view.by_stage[event["to_stage"]] += 1
            view.contacts.add(event["entity_id"])
    finally:
        await consumer.stop()


async def _run(settings: Settings, seconds: float | None, view: DemoView,
               console: Console) -> None:
    from streams.generate import ProduceStats, produce

    def progress(stats: ProduceStats) -> None:
        view.produced = stats.reference + stats.behaviour
        view.bad_produced = stats.bad

    generator = asyncio.create_task(produce(
        settings, seed=42, rate=150.0, duration_s=seconds, on_progress=progress))
    follower = asyncio.create_task(_follow(view, settings))
    deadline = None if seconds is None else time.monotonic() + seconds
    interactive = console.is_terminal
    last_line = 0.0
    try:
        with Live(view.render(), console=console, refresh_per_second=4,
                  auto_refresh=False) if interactive else contextlib.nullcontext() as live:
            while deadline is None or time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                if generator.done() and generator.exception() is not None:
                    raise RuntimeError("the traffic generator failed") from generator.exception()
                if live is not None:
                    live.update(view.render(), refresh=True)
                elif time.monotonic() - last_line >= 5:
                    last_line = time.monotonic()
                    console.print(view.summary())
            if not interactive:
                console.print(view.render())
    finally:
        for task in (generator, follower):
            task.cancel()
        await asyncio.gather(generator, follower, return_exceptions=True)


def run_demo(settings: Settings, seconds: float | None) -> int:
    """Run everything in-process (broker, Redis, worker child process) and show the view."""
    console = Console()
    workdir = Path(tempfile.mkdtemp(prefix="qualstream-demo-"))
    with start_broker(log_dir=workdir) as broker, start_redis() as redis:
        demo = dataclasses.replace(
            settings, kafka_bootstrap_servers=broker.bootstrap, redis_url=redis.url,
            one_record_batches=True, fetch_max_wait_ms=20, data_dir=workdir / "data", app_id="qualstream-demo",
            web_port=settings.web_port if _port_free(settings.web_port) else free_port(),
            session_timeout_s=10.0, heartbeat_interval_s=1.0, standby_replicas=0,
            api_token=settings.api_token or secrets.token_urlsafe(24))
        token_file = workdir / "api-token"
        token_file.touch(mode=0o600)
        token_file.write_text(f"{demo.api_token}\n")
        from streams.shell.worker import ensure_topics

        asyncio.run(ensure_topics(demo))
        log_path = workdir / "worker.log"
        env = {**os.environ, **to_env(demo)}
        env.pop("QUALSTREAM_API_TOKEN_FILE", None)  # the token is in QUALSTREAM_API_TOKEN
        with log_path.open("ab") as log:
            worker = subprocess.Popen(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "streams.cli", "worker"], env=env, stdout=log,
                stderr=subprocess.STDOUT)
        view = DemoView(demo, log_path, token_file)
        web = f"http://{demo.web_host}:{demo.web_port}"
        shown = "yours" if settings.api_token else demo.api_token
        console.print(f"[bold]qualstream demo[/]: broker {broker.bootstrap}, redis {redis.url}, "
                      f"metrics {web}/metrics, worker log {log_path}\n"
                      f"API {web}/api/v1/ (OpenAPI: {web}/api/v1/openapi.json), bearer token "
                      f"{shown} in {token_file}; try:\n  curl -H \"Authorization: Bearer "
                      f"$(cat {token_file})\" {web}/api/v1/hot-leads/mid_market",
                      soft_wrap=True)
        try:
            asyncio.run(_run(demo, seconds, view, console))
        except KeyboardInterrupt:
            pass
        finally:
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        console.print(view.summary())
        if view.by_stage["sales_ready"] == 0:
            console.print("[red]no lead became sales-ready: see the worker log above[/]")
            return 1
        return 0


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
