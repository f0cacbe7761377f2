"""The loop every agent runs: process, dead-letter what fails, then (and only then) ack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from streams.shell.dead_letters import send_dead_letter
from streams.shell.offset_guard import OffsetGuard, Verdict
from streams.shell.strict_commits import commit_stalled

if TYPE_CHECKING:
    from faust.types import TP, EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.agent")
REWIND_RETRY_S = 0.5
STALL_CHECK_S = 5.0  # a partition's commit stuck this long twice in a row is sought back
SILENT_ROUNDS = 6  # ... or six times when nothing of it was handed out since the commit
SILENT = "nothing handed out"


async def run_agent(
    p: Pipeline,
    stream: StreamT,
    name: str,
    process: Callable[[Pipeline, EventT], Awaitable[None]],
) -> None:
    """Iterate ``stream`` acking each event only after it was fully processed.

    Faust acks the current event in a ``finally`` when the agent is cancelled (a clean
    shutdown or a rebalance): an input half-processed at that moment would be committed and
    lost. With acks turned off here, a cancelled event stays unacked and is read again.
    """
    stream.enable_acks = False
    guard: OffsetGuard[TP] = OffsetGuard()
    retries: set[asyncio.Future[None]] = set()
    gapless = p.gapless_topics()

    def _forget(sender: object, revoked: set[TP], **_: object) -> None:
        guard.forget(set(revoked))

    p.app.on_partitions_revoked.connect(_forget, weak=False)  # type: ignore[arg-type]

    async def _keep_seeking(tp: TP) -> None:
        # Faust's fetch loop can overwrite its read offset with a batch fetched before our
        # seek and then drop the re-fetched messages as old; when no newer message arrives to
        # trigger another seek, nothing would. So seek again until the re-fetch shows up.
        while guard.rewinding(tp):
            await asyncio.sleep(REWIND_RETRY_S)
            expected = guard.expected(tp)
            if guard.rewinding(tp) and expected is not None:
                await _seek(p, tp, expected)

    def _rewound(tp: TP) -> None:
        nonlocal retries
        p.metrics.rewinds.labels(name).inc()
        retries.add(asyncio.ensure_future(_keep_seeking(tp)))
        retries = {task for task in retries if not task.done()}

    async def _watch_commits() -> None:
        """Seek a partition back to its committed offset when its commits stalled: the
        message there was dropped before reaching us and nothing after it showed the hole
        (the strict commit rule turns such a loss into this stall)."""
        suspects: dict[TP, tuple[int, int]] = {}  # tp -> (committed offset, rounds seen)
        while True:
            await asyncio.sleep(STALL_CHECK_S)
            try:
                stalled = _stalled_partitions(p, topics, guard)
            except Exception:  # noqa: BLE001 - Faust internals mid-rebalance: look again
                log.exception("%s agent: commit watch failed", name)
                continue
            seen = {tp for tp, _, _ in stalled}
            for tp in set(suspects) - seen:
                del suspects[tp]
            for tp, committed, why in stalled:
                before, rounds = suspects.get(tp, (committed, 0))
                rounds = rounds + 1 if before == committed else 1
                suspects[tp] = (committed, rounds)
                # a hole shows in two rounds; a partition from which nothing came at all may
                # just be waiting behind a backlog on the others, so it gets longer
                if rounds < (SILENT_ROUNDS if why.startswith(SILENT) else 2):
                    continue
                del suspects[tp]
                log.warning("%s agent: commits of %s/%s stalled at offset %s (%s); seeking back",
                            name, tp.topic, tp.partition, committed, why)
                guard.rewind_to(tp, committed)
                await _seek(p, tp, committed)
                _rewound(tp)

    topics = _topics_of(stream) & gapless
    watch = asyncio.ensure_future(_watch_commits()) if topics else None
    try:
        await _loop(p, stream, name, process, guard, gapless, _rewound)
    finally:  # the agent stopped: so do its helpers (else they outlive the event loop)
        for task in (*retries, *([watch] if watch is not None else [])):
            task.cancel()


async def _loop(p: Pipeline, stream: StreamT, name: str,
                process: Callable[[Pipeline, EventT], Awaitable[None]],
                guard: OffsetGuard[TP], gapless: frozenset[str],
                rewound: Callable[[TP], None]) -> None:
    # bound once: ``labels()`` looks its child up on every call
    input_wait = p.metrics.input_wait.labels(name)
    processed = p.metrics.processed.labels(name)
    processing = p.metrics.processing.labels(name)
    async for event in stream.events():
        msg = event.message
        if p.app.should_stop or (p.app.rebalancing and msg.topic in gapless):
            # Fetched after the shutdown began, or before a rebalance (Faust clears the agents'
            # queues when one starts, yet a batch in flight still arrives). Processing it now
            # would send after Faust flushed its producer, or apply it before the cleared ones
            # that precede it. Unacked, it is read again from the committed offset (the guard
            # or the commit watch seeks back if Faust does not deliver it again by itself).
            _release_unprocessed(p, event)
            continue
        if msg.topic in gapless:
            if not guard.live(msg.tp):
                guard.starts_at(msg.tp, _committed_offset(p, msg.tp))
            verdict = guard.check(msg.tp, msg.offset)
            if verdict is Verdict.REWIND:
                expected = guard.expected(msg.tp)
                assert expected is not None  # noqa: S101 - REWIND implies an expectation
                log.warning("%s agent: offsets %s..%s of %s/%s never arrived; seeking back",
                            name, expected, msg.offset - 1, msg.topic, msg.partition)
                await _seek(p, msg.tp, expected)
                _release_unprocessed(p, event)
                rewound(msg.tp)
                continue
            if verdict is Verdict.SKIP:
                # Faust's fetch loop may still be handing out a batch fetched before our seek
                # and moving its read offset past the re-fetch: seek again until it settles.
                expected = guard.expected(msg.tp)
                assert expected is not None  # noqa: S101 - SKIP implies a rewind
                await _seek(p, msg.tp, expected)
                _release_unprocessed(p, event)
                continue
        if msg.timestamp:
            input_wait.observe(max(0.0, time.time() - msg.timestamp))
        started = time.perf_counter()
        try:
            await process(p, event)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the worker
            log.exception("%s agent failed on %s/%s/%s", name, msg.topic, msg.partition,
                          msg.offset)
            p.metrics.errors.labels(name).inc()
            await send_dead_letter(p, event, "process" if name != "ingest" else "normalise",
                                   exc, f"{name}_agent_error")
        processed.inc()
        processing.observe(time.perf_counter() - started)
        guard.processed(msg.tp, msg.offset)
        # the highest offset applied, not the last: a replay (after a seek back) applies
        # lower ones again, and every input up to the highest was applied in order already
        p.applied[msg.tp] = max(msg.offset, p.applied.get(msg.tp, -1))
        await stream.ack(event)


async def _seek(p: Pipeline, tp: TP, offset: int) -> None:
    try:
        await p.app.consumer.seek_wait({tp: offset})
    except Exception as exc:  # noqa: BLE001 - revoked meanwhile, or a busy broker: retried
        log.info("seek of %s/%s to %s failed (%s)", tp.topic, tp.partition, offset, exc)


def _topics_of(stream: StreamT) -> set[str]:
    return set(getattr(stream.channel, "topics", ()))


def _committed_offset(p: Pipeline, tp: TP) -> int | None:
    """The group's committed offset of ``tp`` (the next to read) as Faust's consumer recorded
    it when a rebalance completed (and ``strict_commits`` when the group had none)."""
    offset = p.app.consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
    return offset if isinstance(offset, int) and offset >= 0 else None


def _stalled_partitions(p: Pipeline, topics: set[str],
                        guard: OffsetGuard[TP]) -> list[tuple[TP, int, str]]:
    """Assigned partitions of ``topics`` whose committed offset cannot move: nothing there
    is queued or being processed, yet later offsets were acked or exist on the broker."""
    consumer = p.app.consumer
    if p.app.rebalancing or not getattr(consumer, "flow_active", True):
        return []
    unacked = list(consumer._unacked_messages)  # type: ignore[attr-defined]
    stalled = []
    for tp in consumer.assignment():
        committed = _committed_offset(p, tp)
        if tp.topic not in topics or committed is None or guard.rewinding(tp):
            continue
        if any(m.tp == tp and m.offset >= committed and not m.acked for m in unacked):
            continue  # on its way or being processed
        acked = consumer._acked.get(tp) or ()  # type: ignore[attr-defined]
        try:
            highwater = consumer.highwater(tp) or 0
        except Exception:  # noqa: BLE001, S112 - revoked meanwhile: look again next round
            continue
        read_offset = consumer._read_offset.get(tp)  # type: ignore[attr-defined]
        if commit_stalled(committed, acked, highwater):
            waiting = [offset for offset in acked if offset >= committed]
            why = (f"acked from {min(waiting)}" if waiting
                   else f"handed out up to {read_offset}"
                   if read_offset is not None and read_offset > committed
                   else f"{SILENT} (read offset {read_offset})")
            applied = p.applied.get(tp)
            stalled.append((tp, committed, f"{why}, highwater {highwater}, "
                                           f"last processed here {applied}"))
    return stalled


def _release_unprocessed(p: Pipeline, event: EventT) -> None:
    """Let go of a message we skipped because it will be fetched again after our seek.

    It must not be acked (its offset would count as processed and could be committed before
    the re-fetched copy is), yet Faust waits for every delivered message to be acked before a
    rebalance or a shutdown completes. So drop our reference to it without acking.
    """
    message = event.message
    message.decref()
    unacked = getattr(p.app.consumer, "_unacked_messages", None)
    if unacked is not None:
        unacked.discard(message)
