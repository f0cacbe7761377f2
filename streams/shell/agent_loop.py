"""The loop every agent runs: process, dead-letter what fails, then (and only then) ack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from streams.shell.dead_letters import send_dead_letter
from streams.shell.offset_guard import OffsetGuard, Verdict

if TYPE_CHECKING:
    from faust.types import TP, EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.agent")
REWIND_RETRY_S = 0.5


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
                await p.app.consumer.seek_wait({tp: expected})

    async for event in stream.events():
        msg = event.message
        if msg.topic in gapless:
            verdict = guard.check(msg.tp, msg.offset)
            if verdict is Verdict.REWIND:
                expected = guard.expected(msg.tp)
                assert expected is not None  # noqa: S101 - REWIND implies an expectation
                log.warning("%s agent: offsets %s..%s of %s/%s never arrived; seeking back",
                            name, expected, msg.offset - 1, msg.topic, msg.partition)
                p.metrics.rewinds.labels(name).inc()
                await p.app.consumer.seek_wait({msg.tp: expected})
                _release_unprocessed(p, event)
                retries.add(asyncio.ensure_future(_keep_seeking(msg.tp)))
                retries = {task for task in retries if not task.done()}
                continue
            if verdict is Verdict.SKIP:
                # Faust's fetch loop may still be handing out a batch fetched before our seek
                # and moving its read offset past the re-fetch: seek again until it settles.
                expected = guard.expected(msg.tp)
                assert expected is not None  # noqa: S101 - SKIP implies a rewind
                await p.app.consumer.seek_wait({msg.tp: expected})
                _release_unprocessed(p, event)
                continue
        started = time.perf_counter()
        try:
            await process(p, event)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the worker
            log.exception("%s agent failed on %s/%s/%s", name, msg.topic, msg.partition,
                          msg.offset)
            p.metrics.errors.labels(name).inc()
            await send_dead_letter(p, event, "process" if name != "ingest" else "normalise",
                                   exc, f"{name}_agent_error")
        p.metrics.processed.labels(name).inc()
        p.metrics.processing.labels(name).observe(time.perf_counter() - started)
        guard.processed(msg.tp, msg.offset)
        await stream.ack(event)


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
