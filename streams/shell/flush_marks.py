"""Flush marks: which replayed inputs need not send their row's outbox again.

A row's outbox (``streams/shell/outbox.py``) is sent again when the input the row last
applied is read a second time, because the worker that applied it may have crashed before the
broker acknowledged those sends. After a *clean* hand-over that is a needless repeat, and a
rebalance reads inputs again more often than one would think: the group's committed offset
can stay behind the inputs already applied (Faust commits only a gapless run of acked
offsets, and a commit during the rebalance can be refused), so the next owner of a partition
reads from there and met rows whose sends had long been acknowledged (chaos join/leave: 3-7
repeated transitions per run).

When partitions are revoked (and at a clean shutdown), Faust has waited for the agents and flushed the producer: every
send made for an input applied so far is acknowledged. This module then flushes once more
and records, per revoked partition of the contact, account and routing inputs, the highest offset applied
("every send for an input up to here was acknowledged"; never lower than the mark before):

- in memory, for this worker if it keeps or gets back the partition;
- as a row of the partition's table (``__flushed__:<partition>``), sent straight to the
  table's changelog partition, so the worker that takes the partition over recovers it with
  the table.

A replay of a row's last input then sends its outbox again only if that input is past the
mark, the row was not written by this worker since its assignment, and it was not sent
again already (``needs_resend``). After a crash there is no new mark, so every row written since the last one still sends
its outbox again: the guarantee is unchanged, only the needless repeats go. No mark is written
while a send of the agent's outbox has failed (its entries still need their replay).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from faust.serializers import codecs

from streams.shell.contact_rows import read_header, tick_mark_row

if TYPE_CHECKING:
    from faust.types import TP

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.flush_marks")
MARK_KEY = "__flushed__:{partition}"


def mark_key(partition: int) -> str:
    return MARK_KEY.format(partition=partition)


def flushed_through(p: Pipeline, table: str, tp: TP) -> int:
    """The last input offset of ``tp`` whose sends are known acknowledged (-1: none)."""
    known = p.flushed.get(tp, -1)
    row = p.tables[table].get(mark_key(tp.partition))
    if row is None:
        return known
    stored = read_header(row).offset if table == "contacts" else int(row.get("flushed", -1))
    return max(known, stored)


def needs_resend(p: Pipeline, table: str, tp: TP, offset: int) -> bool:
    """Whether the replay of the input at ``offset`` must send its row's outbox again.

    Not if this worker wrote that row since it was assigned the partition (its sends went to
    this worker's producer, which retries them, and the outbox keeps a failed one for the
    key's next row), nor if it already sent it again once (Faust can deliver a stale batch
    twice after a seek), nor if the input is at or below the partition's flush mark.
    """
    first = p.first_written.get(tp)
    if first is not None and offset >= first:
        return False
    mark = flushed_through(p, table, tp)
    if (tp, offset) in p.resent or offset <= mark:
        return False
    p.resent.add((tp, offset))
    log.info("%s/%s/%s read again past the flush mark %s (first row written here: %s)",
             tp.topic, tp.partition, offset, mark, first)
    return True


def wrote_row(p: Pipeline, tp: TP, offset: int) -> None:
    """This worker wrote a row for the input at ``offset``: inputs are applied in order, so no
    earlier owner applied it or any later one, and every row at or above it is this worker's."""
    if tp not in p.first_written:
        p.first_written[tp] = offset


def new_mark(p: Pipeline, table: str, tp: TP) -> int:
    """The mark to record for ``tp`` at a revocation: the highest input offset applied here
    (``Pipeline.applied``), or the mark already recorded if that is higher. A mark never goes
    back: after a rebalance, or a seek that ran late, the partition is often read again from
    an offset behind it, and the last input applied is then a replayed one (chaos join/leave:
    a mark of 1047 written while rows up to 1206 had been applied made the replay of those
    rows send their acknowledged outboxes again)."""
    return max(p.applied[tp], flushed_through(p, table, tp))


def _mark_value(table: str, partition: int, offset: int) -> Any:
    return tick_mark_row(partition, offset) if table == "contacts" else {"flushed": offset}


async def mark_revoked(p: Pipeline, revoked: set[TP]) -> None:
    """Record the flush marks of the revoked input partitions (see the module's text)."""
    for tp in revoked:  # whoever gets them next, rows there are no longer known as ours
        p.first_written.pop(tp, None)
        p.resent.difference_update({key for key in p.resent if key[0] == tp})
    t = p.settings.topics
    owners = {t.contact_inputs: ("contacts", "contact"), t.account_inputs: ("accounts", "account"),
              t.routing: ("router", "router")}
    wanted = {tp: new_mark(p, owners[tp.topic][0], tp) for tp in revoked
              if tp.topic in owners and tp in p.applied}
    if not wanted:
        return
    await p.app.producer.flush()  # every send of the inputs in ``wanted`` acknowledged
    sends = []
    for tp, offset in sorted(wanted.items()):
        table_name, agent = owners[tp.topic]
        if p.outboxes[agent].failed():
            log.warning("%s outbox holds a failed send: no flush mark for %s/%s",
                        agent, tp.topic, tp.partition)
            continue
        p.flushed[tp] = offset
        table = p.tables[table_name]
        sends.append(await p.app.producer.send(
            table.changelog_topic.get_topic_name(),
            codecs.dumps(table.key_serializer, mark_key(tp.partition)),
            codecs.dumps(table.value_serializer, _mark_value(table_name, tp.partition, offset)),
            partition=tp.partition, timestamp=None, headers=None))
    await p.app.producer.flush()
    for future in sends:
        await future  # raises if the mark was not written: then no mark, as after a crash
    log.info("flush marks written for %d revoked input partitions: %s", len(sends),
             ", ".join(f"{tp.topic}/{tp.partition} at {p.flushed[tp]}" for tp in sorted(wanted)
                       if tp in p.flushed))


def install(p: Pipeline) -> None:
    async def _on_revoked(sender: object, revoked: set[TP], **_: object) -> None:
        try:
            await mark_revoked(p, set(revoked))
        except Exception:  # noqa: BLE001 - without marks, replays resend: safe, not silent
            log.exception("flush marks not written")

    async def _on_shutdown(sender: object, **_: object) -> None:
        # Faust stopped the consumer's flow and waited for the agents; the producer is
        # flushed after this signal, so the marks go out with the rest.
        try:
            await mark_revoked(p, set(p.app.consumer.assignment()))
        except Exception:  # noqa: BLE001 - as above
            log.exception("flush marks not written at shutdown")

    p.app.on_partitions_revoked.connect(_on_revoked, weak=False)  # type: ignore[arg-type]
    p.app.on_before_shutdown.connect(_on_shutdown, weak=False)  # type: ignore[arg-type]
