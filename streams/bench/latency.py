"""Route latency and timer lateness of one worker under 1,000 events/s of background traffic."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streams.bench import probes
from streams.bench.stack import Stack, WorkerProcess, repo_root, scrape, wait_until
from streams.codecs import SerializationError, codec_for
from streams.config import Settings, to_env
from streams.shell.worker import ensure_topics

CODEC = codec_for(None)


@dataclass
class Watch:
    """Reads an output topic from the start and keeps (key, record, wall ms at receipt)."""

    bootstrap: str
    topic: str
    base: str
    seen: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _consumer: Any = None

    async def start(self) -> Watch:
        from aiokafka import AIOKafkaConsumer

        self._consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest",
            group_id=None, enable_auto_commit=False, metadata_max_age_ms=1000,
            fetch_max_wait_ms=5)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        async for msg in self._consumer:
            if msg.key is None or msg.value is None:
                continue
            try:
                record = CODEC.decode(self.base, msg.value)
            except SerializationError:
                continue
            self.seen.append((msg.key.decode(), record, int(time.time() * 1000)))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            # a fetch that timed out on a busy broker may still be backing off: not our result
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._consumer.stop()


BACKLOG_CAP_S = 1800.0  # the longest a run waits for the worker to work off its backlog


def backlog(worker: WorkerProcess) -> float | None:
    """Messages the worker has yet to read on the topics its agents consume (None: no
    answer from /metrics)."""
    got = scrape(worker.metrics_url)
    if not got:
        return None
    return sum(v for k, v in got.items() if k.startswith("qualstream_consumer_lag_messages{"))


async def wait_behind_backlog(done: Callable[[], bool], worker: WorkerProcess, quiet_s: float,
                              what: str, idle_backlog: float) -> None:
    """Wait for ``done`` as long as the worker still works off a backlog, then ``quiet_s``
    more; give up (TimeoutError) after that or after ``BACKLOG_CAP_S``.

    An output of the probes queues behind every input sent before it: when the worker cannot
    keep up with the background traffic, a fixed wait ends before it arrives and the figure
    is lost (SLA outputs need two passes through the queue: the assignment, then the tick
    that fires the clock). ``idle_backlog`` is the lag that counts as none (timer ticks).
    """
    started = time.monotonic()
    quiet_since = started
    while not done():
        worker.check_alive()
        now = time.monotonic()
        lag = backlog(worker)
        if lag is None or lag > idle_backlog:
            quiet_since = now
        if now - quiet_since > quiet_s or now - started > BACKLOG_CAP_S:
            raise TimeoutError(f"{what}: not within {now - started:.0f}s (backlog {lag})")
        await asyncio.sleep(1.0)


WARMUP_CAP_S = 120.0  # the longest the probes wait for the background's start-up burst
WARMUP_QUIET_S = 3.0  # ... and how long the backlog must stay at the background's own level
GROWTH_AFTER_S = 30.0  # from then on, a backlog that keeps growing ends the wait early:
GROWTH_WINDOW_S = 20.0  # ... grown over this window by more than
GROWTH_TRAFFIC_S = 2.0  # ... this many seconds of the background's traffic


async def warm_up(worker: WorkerProcess, steady_backlog: float, waited_s: float,
                  background_rate: float = 0.0,
                  clock: Callable[[], float] = time.monotonic) -> float | None:
    """Wait until the worker has worked off the background's start-up burst (the generator
    sends its reference data, hundreds of accounts and contacts, before the behaviour at its
    rate): the backlog at or under ``steady_backlog`` for ``WARMUP_QUIET_S``. Returns the
    seconds since the background started, or None when it never got there within
    ``WARMUP_CAP_S``, or when after ``GROWTH_AFTER_S`` the backlog grew over the last
    ``GROWTH_WINDOW_S`` by more than ``GROWTH_TRAFFIC_S`` of the background's traffic (a worker
    slower than the background: the probes then queue behind a growing backlog, and the
    figures say so; waiting the whole cap there only made that backlog two minutes longer).
    Without this wait the first probes measured the burst: p50 1.5 s and p99 8 s at 5
    events/s, against 50 ms once it was worked off."""
    started = clock()
    quiet_since: float | None = None
    seen: list[tuple[float, float]] = []  # (time, backlog) for the growth rule
    while clock() - started < WARMUP_CAP_S:
        worker.check_alive()
        lag = backlog(worker)
        now = clock()
        if lag is not None and lag <= steady_backlog:
            quiet_since = quiet_since if quiet_since is not None else now
            if now - quiet_since >= WARMUP_QUIET_S:
                return round(waited_s + now - started, 1)
        else:
            quiet_since = None
        if lag is not None and background_rate > 0:
            seen.append((now, lag))
            earlier = [b for t, b in seen if t <= now - GROWTH_WINDOW_S]
            if (now - started >= GROWTH_AFTER_S and earlier
                    and lag - earlier[-1] > GROWTH_TRAFFIC_S * background_rate):
                return None
        await asyncio.sleep(0.5)
    return None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


@dataclass
class LatencyRun:
    route_ms: list[float]
    sla_lateness_ms: list[float]
    decay_lateness_ms: list[float]
    background_eps: float
    unrouted: int = 0
    warmup_s: float | None = None  # None: the backlog never cleared (probes queued behind it)
    background_s: float | None = None  # how long the background traffic ran

    def summary(self) -> dict[str, Any]:
        return {
            "route_latency_ms": {"p50": percentile(self.route_ms, 0.5),
                                 "p99": percentile(self.route_ms, 0.99),
                                 "max": max(self.route_ms, default=None),
                                 "samples": len(self.route_ms),
                                 "never_assigned": self.unrouted},
            "timer_lateness_ms": {"sla_p99": percentile(self.sla_lateness_ms, 0.99),
                                  "sla_samples": len(self.sla_lateness_ms),
                                  "decay_p99": percentile(self.decay_lateness_ms, 0.99),
                                  "decay_samples": len(self.decay_lateness_ms)},
            "latency_background_eps": self.background_eps,
            "warmup_s": self.warmup_s,
            "background_s": self.background_s,
        }


def _generator(settings: Settings, rate: float, seconds: float, log: Any) -> subprocess.Popen[bytes]:
    env = dict(os.environ) | to_env(settings)
    env["PYTHONPATH"] = str(repo_root())
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "streams.cli", "generate", "--rate", str(rate), "--duration",
         str(seconds), "--accounts", "400", "--seed", "11"], env=env, stdout=log,
        stderr=subprocess.STDOUT, cwd=repo_root())


async def route_and_timers(stack: Stack, probes_n: int, background_rate: float = 1000.0,
                           probe_rate: float = 10.0, half_life_s: float = 5.0,
                           first_touch_s: float = 5.0, name: str = "latency") -> LatencyRun:
    """Demo requests from fit contacts, produced one by one while the generator sends
    ``background_rate`` events/s: produced -> assignment consumed; SLA and decay timers of
    the probes: deadline -> output consumed."""
    model = stack.workdir / f"{name}-timers-model.toml"
    model.write_text(probes.timers_model_text(half_life_s, first_touch_s))
    settings = stack.settings(name, model_path=model)
    await ensure_topics(settings)
    t = settings.topics
    watches = {name: await Watch(settings.kafka_bootstrap_servers, topic, base).start()
               for name, topic, base in (
                   ("assignments", t.assignments, "routing.assignments"),
                   ("sla", t.sla_events, "sla.events"),
                   ("events", t.qualification_events, "qualification.events"),
                   ("contacts", t.qualification_contacts, "qualification.contacts"))}
    worker = WorkerProcess(settings, stack.workdir / f"{name}-worker.log").start()
    gen_log = (stack.workdir / f"{name}-generator.log").open("ab")
    generator: subprocess.Popen[bytes] | None = None
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                max_batch_size=16 if settings.one_record_batches else 16384)
    await producer.start()

    async def send(topic: str, base: str, key: str, record: dict[str, Any]) -> None:
        await producer.send_and_wait(topic, key=key.encode(), value=CODEC.encode(base, record))

    try:
        now = int(time.time() * 1000)
        ids = [f"probe-{i:04d}" for i in range(probes_n)]
        for r in ("probe-rep-a", "probe-rep-b"):
            await send(t.reps, "sales.reps", r, probes.rep(r, now))
        for cid in ids:
            domain = f"{cid}.bench-corp.com"
            await send(t.crm_accounts, "crm.accounts", f"A-{cid}",
                       probes.account(f"A-{cid}", domain, now))
            await send(t.crm_contacts, "crm.contacts", cid, probes.contact(cid, domain, now))
        wanted = set(ids)

        def profiled() -> bool:
            ready = {k for k, v, _ in watches["contacts"].seen if v.get("segment") == "mid_market"}
            return wanted <= ready

        await wait_until(profiled, 300, "probe contacts profiled", check=worker.check_alive)
        settle_s, spacing = 5.0, 1.0 / probe_rate
        # the background runs on while the probes' timers come due, then stops: a worker
        # slower than the background works off a bounded backlog instead of an endless one
        tail_s = 3 * (half_life_s + first_touch_s) + 30
        run_s = settle_s + probes_n * spacing + tail_s
        generator = _generator(settings, background_rate, run_s + WARMUP_CAP_S, gen_log)
        background_started = time.monotonic()
        await asyncio.sleep(settle_s)  # the background reaches its rate first
        idle = 4.0 * settings.partitions  # a few timer ticks per partition
        warmup_s = await warm_up(worker, idle + background_rate * 0.5, settle_s, background_rate)
        sent_ms: dict[str, int] = {}
        for cid in ids:
            at = int(time.time() * 1000)
            sent_ms[f"demo-{cid}"] = at
            await send(t.web, "events.web", cid, probes.demo_request(f"demo-{cid}", cid, at))
            await asyncio.sleep(spacing)

        background_s: list[float] = []

        def stop_background() -> None:
            if generator is not None and generator.poll() is None:
                generator.terminate()
            if not background_s:
                background_s.append(round(time.monotonic() - background_started, 1))

        stopper = asyncio.get_running_loop().call_later(tail_s, stop_background)

        def routed() -> dict[str, int]:
            return {v["caused_by"]: at for _, v, at in watches["assignments"].seen
                    if v.get("caused_by") in sent_ms}

        with contextlib.suppress(TimeoutError):
            await wait_behind_backlog(lambda: len(routed()) == len(sent_ms), worker, 60,
                                      "probe assignments", idle)
        arrived, gave_up = routed(), int(time.time() * 1000)
        # a probe still unassigned when we stopped waiting counts with the time waited so far
        route_ms = [float(arrived.get(e, gave_up) - sent_ms[e]) for e in sent_ms]
        unrouted = len(sent_ms) - len(arrived)

        def breached() -> set[str]:
            return {k for k, v, _ in watches["sla"].seen
                    if k in wanted and v.get("status") == "breached"}

        def decayed() -> set[str]:
            return {k for k, v, _ in watches["events"].seen
                    if k in wanted and v.get("trigger") == "decay"}

        with contextlib.suppress(TimeoutError):
            await wait_behind_backlog(lambda: breached() == wanted and decayed() == wanted,
                                      worker, 6 * (half_life_s + first_touch_s) + 60,
                                      "probe timers", idle)
        sla = [float(at - v["occurred_at"]) for k, v, at in watches["sla"].seen
               if k in wanted and v.get("status") in ("warning", "breached")]
        decay = [float(at - v["occurred_at"]) for k, v, at in watches["events"].seen
                 if k in wanted and v.get("trigger") == "decay"]
        stopper.cancel()
        stop_background()  # when everything came before the tail ran out
        return LatencyRun(route_ms, sla, decay, background_rate, unrouted, warmup_s,
                          background_s[0])
    finally:
        if generator is not None and generator.poll() is None:
            generator.terminate()
            generator.wait(30)
        gen_log.close()
        await producer.stop()
        worker.stop()
        for watch in watches.values():
            await watch.stop()
