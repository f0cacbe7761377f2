"""Scenarios over a stream of scored traffic: crashes, restarts, rebalances, a frozen broker,
poison records. Each judges the final state against the pure core's recomputation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from streams.config import Topics
from tests.chaos.cluster import ChaosEnv, Cluster
from tests.chaos.result import ChaosResult
from tests.chaos.traffic import Poison, Row, interleave, traffic
from tests.chaos.verify import read_all, settle, verify
from tests.integration.support import CODEC

Fault = Callable[[Cluster, int], Awaitable[None]]


@dataclass(frozen=True)
class Stream:
    """How much traffic, how many workers, how many faults."""

    events: int
    contacts: int
    faults: int
    workers: int = 1
    poison: int = 0
    stall_s: float = 0.0


async def run_stream(env: ChaosEnv, name: str, size: Stream, fault: Fault, criterion: str,
                     seed: int, zero_duplicates: bool = False) -> ChaosResult:
    """Start the workers, send the traffic, inject ``size.faults`` faults spread over the
    processing (by the inputs the published states count), then judge."""
    started = time.monotonic()
    now = int(time.time() * 1000)
    rows, expected = traffic(seed, size.contacts, size.events, now)
    items: list[Row | Poison] = (interleave(rows, size.poison, seed, now) if size.poison
                                 else list(rows))
    total = sum(expected.values())
    sent: list[tuple[Poison, str, int, int]] = []
    async with Cluster(env, name) as c:
        c.total = total
        for label in "ab"[: size.workers]:
            c.start(label)
        for worker in list(c.current.values()):
            await c.ready(worker)
        producing = asyncio.ensure_future(c.produce(items, sent))
        for i in range(size.faults):
            target = total * (i + 1) // (size.faults + 1)
            await c.processed(target, timeout=600, what=f"{target} inputs before fault {i + 1}")
            await fault(c, i)
        await producing
        behind: list[str] = []
        settled = await settle(c.states, expected, max(300, total / 20), c.bootstrap,  # type: ignore[arg-type]
                               c.topics, behind)
        crashed = [label for label, w in c.current.items() if not w.alive()]
        exits = {label: w.stop() for label, w in c.current.items()}
        model = c.model()
        t = c.topics
        verdict = await verify(c.bootstrap, t, rows, expected, model, now)
        details: dict[str, Any] = {"settled": settled, "behind": behind[:6],
                                   "crashed_workers": crashed,
                                   "exit_codes": exits, "workers": size.workers,
                                   "worker_starts": c.starts, **verdict.details}
        passed = verdict.exact and not crashed and settled
        if zero_duplicates:
            passed = passed and verdict.duplicate_output_ids == 0
        if size.poison:
            dead = await dead_letters(c.bootstrap, t, sent)
            details.update(dead)
            passed = passed and dead["poison_in_dlq"] == len(sent) == size.poison and \
                dead["valid_in_dlq"] == 0 and dead["without_reason"] == 0
        if not passed:
            details["log_tail"] = {label: w.log_tail(30) for label, w in c.current.items()}
    return ChaosResult(
        name=name, events=size.events + size.poison, faults=size.faults, lost=verdict.lost,
        double_counted=verdict.double_counted,
        duplicate_output_ids=verdict.duplicate_output_ids,
        state_matches_recompute=verdict.state_matches_recompute, passed=passed,
        duration_s=round(time.monotonic() - started, 1), criterion=criterion, details=details)


async def dead_letters(bootstrap: str, t: Topics,
                       sent: list[tuple[Poison, str, int, int]]) -> dict[str, Any]:
    """Every poison record in the dead-letter topic with a reason; no valid one there."""
    origins: dict[tuple[str, int, int], dict[str, Any]] = {}
    for _, _, _, value in await read_all(bootstrap, t.dlq, quiet_s=0.5):
        if value is not None:
            record = CODEC.decode("qualification.dlq", value)
            origins[(record["origin_topic"], record["origin_partition"],
                     record["origin_offset"])] = record
    poison = {(topic, partition, offset): item for item, topic, partition, offset in sent}
    found = [origins[o] for o in poison if o in origins]
    reasons: dict[str, set[str]] = {}
    for origin, item in poison.items():
        if origin in origins:
            reason = origins[origin]["error_message"].split(":", 1)[0]
            reasons.setdefault(item.kind, set()).add(f"{origins[origin]['stage']}:{reason}")
    return {
        "poison_sent": len(sent),
        "poison_in_dlq": len(found),
        "valid_in_dlq": len(set(origins) - set(poison)),
        "without_reason": sum(1 for r in found if not r["error_message"] or not r["stage"]),
        "dlq_reasons_by_kind": {kind: sorted(v) for kind, v in sorted(reasons.items())},
    }


async def kill_minus_9(c: Cluster, i: int) -> None:
    """kill -9 the workers in turn; restart each, every other time on an empty data dir."""
    label = "ab"[i % len(c.current)]
    c.current[label].kill()
    await c.ready(c.start(label, fresh_data=i % 2 == 0))


async def clean_restart(c: Cluster, i: int) -> None:
    """SIGTERM the worker mid-stream and start it again on its data dir."""
    worker = c.current["a"]
    code = worker.stop()
    if code not in (0, -15):
        raise AssertionError(f"worker exited with {code} on SIGTERM:\n{worker.log_tail()}")
    await c.ready(c.start("a"))


async def join_and_leave(c: Cluster, i: int) -> None:
    """A second worker joins (partitions move to it), works for a while, and leaves."""
    joined = c.start("b")
    await c.ready(joined)
    before = c.applied()
    # 300 more inputs, or all that are left when fewer are (a fast worker may have worked
    # through nearly all the backlog while the second one was starting)
    target = min(before + 300, c.total) if c.total else before + 300
    await c.processed(target, timeout=300, what="progress with two workers")
    code = joined.stop()
    if code not in (0, -15):
        raise AssertionError(f"second worker exited with {code}:\n{joined.log_tail()}")
    del c.current["b"]


def broker_stall(stall_s: float) -> Fault:
    async def stall(c: Cluster, i: int) -> None:
        """SIGSTOP the broker for ``stall_s``, then SIGCONT; the workers must cope alone."""
        c.env.broker.pause()
        try:
            await asyncio.sleep(stall_s)
        finally:
            c.env.broker.resume()
    return stall


async def no_fault(c: Cluster, i: int) -> None:
    """Poison records are the fault: nothing else happens."""
