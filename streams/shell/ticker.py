"""Delivers wall-clock ticks to each contact-inputs partition this worker owns.

Faust timers run on every worker and may not write tables, so a tick is a message: the agent
that owns the partition reads it in order with the partition's other inputs and fires the
deadlines that are due, inside stream iteration, where it may write its table.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from streams.core.events import TICK_KEY, TimerTick
from streams.core.ids import derive_id
from streams.shell.app import wall_clock_ms
from streams.shell.ingest_agent import CONTACT_INPUTS
from streams.shell.records import timer_tick_record

if TYPE_CHECKING:
    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.ticker")


def register(p: Pipeline) -> None:
    topic = p.topics["contact_inputs"]
    name = p.settings.topics.contact_inputs

    @p.app.timer(interval=p.settings.tick_interval_s)
    async def tick(*_: Any) -> None:  # Faust passes the app
        now = wall_clock_ms()
        for tp in p.app.consumer.assignment():
            if tp.topic != name:
                continue
            record = timer_tick_record(
                TimerTick(derive_id("tick", str(tp.partition), str(now)), now))
            await topic.send(key=TICK_KEY.encode(), partition=tp.partition,
                             value=p.codec.encode(CONTACT_INPUTS, record))

    def forget(sender: Any, revoked: set[Any], **_: Any) -> None:
        p.forget_deadlines({tp.partition for tp in revoked if tp.topic == name})

    p.app.on_partitions_revoked.connect(forget, weak=False)  # type: ignore[arg-type]
