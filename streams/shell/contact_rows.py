"""The contacts table's values as compact versioned bytes: a fixed header, then a deflated body.

A row is what the memory store holds and the changelog carries (the table's value serializer
is raw), so a million contacts cost bytes, not nested Python objects (~9.6 KB each as decoded
JSON dicts). The header (version, kind, partition, offset, deadline, the kinds of the running
SLA clocks) is read without touching the body, so rebuilding the deadline indexes after a
restart reads only the first bytes of each row. The body is the contact's
state (``FIELDS``, then the SLA clocks, then the outbox when the row has one: the sends
not yet acknowledged by the broker, see ``streams/shell/outbox.py``) as a positional JSON
array, deflated (raw, no zlib header). Positional: field names would cost bytes in every row; a change of ``ContactState``
or of its facts' fields needs a new ``ROW_VERSION`` (the golden-row test says when).
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, fields, replace
from typing import Any

from streams.core.contact_state import ContactState
from streams.core.effects import Touch
from streams.core.events import AccountProfiled, ContactProfiled
from streams.core.sla import SlaState
from streams.core.sla_rules import KINDS
from streams.shell.contact_sales import sla_from_record, sla_to_record

ROW_VERSION = 1
CONTACT, ERASED, TICK_MARK = 0, 1, 2
HEADER = struct.Struct("<BBHqqB")  # version, kind, partition, offset, deadline, clock count
NO_DEADLINE = -(2**63)
DEFLATE_LEVEL = 1  # level 6 saves ~4% more bytes for ~no extra time; 1 is the cheaper bet
# The body's fields, in order: ContactState's (then the SLA clocks); facts by field order.
FIELDS = tuple(f.name for f in fields(ContactState))
PROFILE_FIELDS = tuple(f.name for f in fields(ContactProfiled))
ACCOUNT_FIELDS = tuple(f.name for f in fields(AccountProfiled))
ID_CHARS = 12  # short event ids (``core.short_event_id``) are joined into one string


@dataclass(frozen=True, slots=True)
class RowHeader:
    """What a row says without its body: enough to skip a replay and index its deadline."""

    kind: int
    partition: int
    offset: int  # the input offset last applied (the key's replay watermark)
    deadline: int | None
    sla_kinds: tuple[str, ...]  # the kind of each running SLA clock


def _header(kind: int, partition: int, offset: int, deadline: int | None,
            sla_kinds: tuple[str, ...] = ()) -> bytes:
    clocks = bytes(KINDS.index(k) for k in sla_kinds)
    return HEADER.pack(ROW_VERSION, kind, partition, offset,
                       NO_DEADLINE if deadline is None else deadline, len(clocks)) + clocks


def read_header(row: bytes) -> RowHeader:
    if row[:1] == b"{":
        row = upgrade(row)
    version, kind, partition, offset, deadline, n = HEADER.unpack_from(row)
    if version != ROW_VERSION:
        raise ValueError(f"unsupported contact row version {version!r}")
    kinds = tuple(KINDS[i] for i in row[HEADER.size:HEADER.size + n])
    return RowHeader(kind, partition, offset, None if deadline == NO_DEADLINE else deadline,
                     kinds)


def erased_row(partition: int, offset: int) -> bytes:
    """The marker an erased contact leaves: no personal data, only the replay watermark."""
    return _header(ERASED, partition, offset, None)


def tick_mark_row(partition: int, offset: int) -> bytes:
    """The offset of the last tick of ``partition`` processed."""
    return _header(TICK_MARK, partition, offset, None)


def _touch(t: Touch | None) -> list[Any] | None:
    return None if t is None else [t.event_id, t.signal, t.source, t.channel, t.occurred_at]


def _facts(f: ContactProfiled | AccountProfiled | None) -> list[Any] | None:
    if f is None:
        return None
    values = [getattr(f, name) for name in (
        ACCOUNT_FIELDS if isinstance(f, AccountProfiled) else PROFILE_FIELDS)]
    if isinstance(f, AccountProfiled):
        values[ACCOUNT_FIELDS.index("tech_stack")] = list(f.tech_stack)
    return values


def _account(values: list[Any] | None) -> AccountProfiled | None:
    if values is None:
        return None
    facts = AccountProfiled(*values)
    return replace(facts, tech_stack=tuple(facts.tech_stack))


def _ids_out(ids: tuple[str, ...]) -> str | list[str]:
    # one string, not a list, when every id has the short hash's length: the reader splits it
    return "".join(ids) if all(len(i) == ID_CHARS for i in ids) else list(ids)


def _ids_in(raw: str | list[str]) -> tuple[str, ...]:
    if isinstance(raw, list):
        return tuple(raw)
    return tuple(raw[i:i + ID_CHARS] for i in range(0, len(raw), ID_CHARS))


def contact_row(state: ContactState, slas: SlaState, partition: int, offset: int,
                deadline: int | None, outbox: list[list[str]] | None = None) -> bytes:
    """The table value of a live contact: header, then its state, SLA clocks and outbox (a
    row without one is the same bytes as before the outbox existed)."""
    s = state
    body = [s.contact_id, s.stage, s.email_domain, s.account_id, _facts(s.profile),
            _facts(s.account), s.ref_ms, s.signal_values, s.signal_counts, _touch(s.first_touch),
            _touch(s.last_touch), _ids_out(s.recent_event_ids), s.watermarks, s.events_applied,
            s.hold_until, s.stage_since, s.last_event_id, s.updated_at, s.account_score,
            s.committee_size, s.account_stage,
            sla_to_record(slas) if slas.timers or slas.finished else None]
    if outbox:
        body.append(outbox)
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    head = _header(CONTACT, partition, offset, deadline, tuple(t.kind for t in slas.timers))
    return head + zlib.compress(text.encode(), DEFLATE_LEVEL, wbits=-15)


def read_contact(row: bytes) -> tuple[ContactState, SlaState]:
    """The state and SLA clocks of a ``CONTACT`` row."""
    if row[:1] == b"{":
        row = upgrade(row)
    if row[0] != ROW_VERSION or row[1] != CONTACT:
        raise ValueError(f"not a version {ROW_VERSION} contact row ({row[:2]!r})")
    (cid, stage, domain, account_id, pf, af, ref, values, counts, ft, lt, ids, marks, applied,
     hold, since, last, updated, ascore, acomm, astage, slas) = _body(row)[:OUTBOX_AT]
    state = ContactState(
        contact_id=cid, stage=stage, email_domain=domain, account_id=account_id,
        profile=None if pf is None else ContactProfiled(*pf), account=_account(af),
        ref_ms=ref, signal_values=tuple((name, float(v)) for name, v in values),
        signal_counts=tuple((name, c) for name, c in counts),
        first_touch=None if ft is None else Touch(*ft),
        last_touch=None if lt is None else Touch(*lt), recent_event_ids=_ids_in(ids),
        watermarks=tuple((name, o) for name, o in marks), events_applied=applied,
        hold_until=hold, stage_since=since, last_event_id=last, updated_at=updated,
        account_score=ascore, committee_size=acomm, account_stage=astage)
    return state, sla_from_record(slas)


OUTBOX_AT = len(FIELDS) + 1  # the body's index of the outbox (after the state and SLA clocks)


def _body(row: bytes) -> list[Any]:
    body: list[Any] = json.loads(zlib.decompress(row[HEADER.size + row[HEADER.size - 1]:],
                                                 wbits=-15))
    return body


def read_outbox(row: bytes) -> list[list[str]]:
    """The outbox of a ``CONTACT`` row (empty when it has none)."""
    if row[1] != CONTACT:
        return []
    body = _body(row)
    return body[OUTBOX_AT] if len(body) > OUTBOX_AT else []


def readable(row: bytes) -> str:
    """A row as text (the header, then the body's JSON on a line of its own): for inspection
    and scans."""
    head = read_header(row)
    text = f"{head}"
    if head.kind == CONTACT:
        text += "\n" + zlib.decompress(row[HEADER.size + len(head.sla_kinds):], wbits=-15).decode()
    return text


def upgrade(legacy: bytes) -> bytes:
    """A table value written before rows existed (a JSON dict: ``{"s": contact record, "o",
    "p", "d", "sla"}``, ``{"erased": true, "o"}`` or a tick mark ``{"o"}``) as a row, so a
    changelog written by an older worker still recovers. Markers had no partition: 0."""
    from streams.core.contact_record import from_record

    old = json.loads(legacy)
    if "s" in old:
        return contact_row(from_record(old["s"]), sla_from_record(old.get("sla")),
                           old.get("p", 0), old["o"], old.get("d"))
    return (erased_row if old.get("erased") else tick_mark_row)(0, old["o"])
