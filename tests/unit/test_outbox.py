"""The outbox keeps a key's sends until the broker acknowledged them, and sends them again."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import Any

from streams.shell.contact_rows import contact_row, erased_row, read_contact, read_outbox
from streams.shell.outbox import Outbox
from tests.unit.test_contact_rows import SLAS, STATE


@dataclass
class FakeTopic:
    """A topic whose sends complete only when the test says so."""

    sent: list[tuple[bytes, bytes]] = field(default_factory=list)
    futures: list[asyncio.Future[Any]] = field(default_factory=list)

    async def send(self, *, key: bytes, value: bytes) -> asyncio.Future[Any]:
        self.sent.append((key, value))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future


@dataclass
class FakePipeline:
    topics: dict[str, FakeTopic] = field(
        default_factory=lambda: {"events": FakeTopic(), "routing": FakeTopic()})

    async def send(self, slot: str, key: bytes, value: bytes) -> asyncio.Future[Any]:
        return await self.topics[slot].send(key=key, value=value)


def entry(slot: str, key: str, value: bytes) -> list[str]:
    return [slot, key, base64.b64encode(value).decode()]


async def test_a_row_carries_its_unacknowledged_sends_until_the_broker_acknowledges_them() -> None:
    p, box = FakePipeline(), Outbox()
    await box.send(p, "c1", "events", "c1", b"transition")
    await box.send(p, "c1", "routing", "route", b"request")
    assert p.topics["events"].sent == [(b"c1", b"transition")]  # sent at once, not awaited
    assert await box.pending(p, "c1") == [entry("events", "c1", b"transition"),
                                          entry("routing", "route", b"request")]
    p.topics["events"].futures[0].set_result(None)
    # the next row keeps only what is still in flight, whoever wrote the rows in between
    assert await box.pending(p, "c1") == [entry("routing", "route", b"request")]
    p.topics["routing"].futures[0].set_result(None)
    assert await box.pending(p, "c1") == []
    assert await box.pending(p, "other") == []


async def test_a_failed_send_is_sent_again_and_stays_in_the_outbox() -> None:
    p, box = FakePipeline(), Outbox()
    await box.send(p, "c1", "events", "c1", b"t")
    p.topics["events"].futures[0].set_exception(ConnectionError("broker gone"))
    assert await box.pending(p, "c1") == [entry("events", "c1", b"t")]
    assert p.topics["events"].sent == [(b"c1", b"t"), (b"c1", b"t")]


async def test_a_replay_sends_the_stored_outbox_again() -> None:
    p, box = FakePipeline(), Outbox()
    stored = [entry("events", "c1", b"t1"), entry("routing", "route", b"r")]
    await box.resend(p, "c1", stored)
    await box.resend(p, "c2", None)
    assert p.topics["events"].sent == [(b"c1", b"t1")]
    assert p.topics["routing"].sent == [(b"route", b"r")]
    assert await box.pending(p, "c1") == stored


async def test_settle_waits_for_every_send_of_the_key() -> None:
    p, box = FakePipeline(), Outbox()
    await box.send(p, "c1", "events", "c1", b"t")
    waiting = asyncio.ensure_future(box.settle("c1"))
    await asyncio.sleep(0)
    assert not waiting.done()
    p.topics["events"].futures[0].set_result(None)
    await asyncio.wait_for(waiting, 5)
    assert await box.pending(p, "c1") == []


def test_a_contact_row_carries_its_outbox_and_reads_the_same_state() -> None:
    sends = [entry("events", "c-1", b"\xc3\x01transition"), entry("routing", "route", b"r")]
    with_outbox = contact_row(STATE, SLAS, 3, 77, 5_225, sends)
    assert read_contact(with_outbox) == (STATE, SLAS)
    assert read_outbox(with_outbox) == sends
    without = contact_row(STATE, SLAS, 3, 77, 5_225, [])
    assert without == contact_row(STATE, SLAS, 3, 77, 5_225)  # no outbox: the same bytes
    assert read_outbox(without) == [] and read_outbox(erased_row(3, 77)) == []
