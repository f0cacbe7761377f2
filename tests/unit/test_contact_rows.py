"""Contact table rows: golden bytes, lossless round trips, headers read alone, bad rows."""

from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import given, settings

from streams.core.contact_record import to_record
from streams.core.contact_state import ContactState
from streams.core.effects import Touch
from streams.core.events import AccountProfiled, ContactProfiled
from streams.core.sla import SlaState, SlaTimer
from streams.shell.contact_rows import (
    CONTACT,
    ERASED,
    FIELDS,
    HEADER,
    TICK_MARK,
    RowHeader,
    contact_row,
    erased_row,
    read_contact,
    read_header,
    readable,
    tick_mark_row,
)
from tests.unit.test_core_properties import ContactPayload, fold, histories

STATE = ContactState(
    contact_id="c-1", stage="sales_ready", email_domain="acme.io", account_id="A-1",
    profile=ContactProfiled("crm-1", 1_000, "acme.io", "A-1", "CTO", "c_level", "engineering",
                            "decision_maker", "US"),
    account=AccountProfiled("acc-1", 1_000, "A-1", "acme.io", "software", 500, 9_000_000, "US",
                            "NA", ("aws", "okta"), "rep-1", False, True),
    ref_ms=5_000, signal_values=(("web.pricing", 44.5), ("form.demo_request", 60.0)),
    signal_counts=(("form.demo_request", 1), ("web.pricing", 2)),
    first_touch=Touch("ev-1", "web.pricing", "web", None, 2_000),
    last_touch=Touch("ev-3", "form.demo_request", "web", "cmp-1", 5_000),
    recent_event_ids=("0123456789ab", "ba9876543210"), watermarks=(("events.web:0", 42),),
    events_applied=3, hold_until=None, stage_since=5_000, last_event_id="ev-3",
    updated_at=5_000, account_score=12.5, committee_size=3, account_stage="engaged")
SLAS = SlaState(timers=(SlaTimer("sla-1", "first_touch", "asg-1", "c-1", "rep-1", "p1", 5_000,
                                 5_225, 5_300, "open", "reassign", None),),
                finished=("sla-0",))
# Written by version 1: rows in changelogs must stay readable (decoding is what must not
# change; deflate's output may differ between zlib builds, so the writer is checked on text).
GOLDEN_ROW = bytes.fromhex(
    "010003004d00000000000000691400000000000001006d52cb6edb3010fc973dab829e4eac5b907b7b487b1204614dad14c212e590548c20c8bf7748f950a3b9ed637667f6d192fa9153428e6771bd151e3ee0b15a24d52baca7906d49d92518799665ff65e9f9f72f20553fcbbbccb0c44cda88586d26788328edf46afa85cf6211f8f3421d5ab28acc7bcb48f30fad5b477f652b94d4603c823632a334a19f4f41115f1decf5ec19ddc8ca25e81b79769278bb49170ab3a46de92aa7f462b58a6aaa2aad03f9b8da251d645931f2db26ce5372c8d2ac43eedb641e8aee3a15014bf21eb7779709384acc36cf49010d375809b5dfb0ee60524bd41f34639a2c2fcaaa3e3c3c1ef974e2e3e3c3a1aeca22cf3077a014e35d0a9206812ae82877b638719004ae68e7455a23190ec2930c947c92d78b58474dfb496ee65e0fd404234e71d626b8a3b6cef77eddd42b34b3737a320b387730bb2982d56a3cab5b70ff211c61c7dcae4158fb6ab5ff40d34b7c32cfd6cbd0b3a766178b1b9bdd2d8a1abfb2c9ee95e1cf9c67bf412bad173190224ef1cc1ebf84185e352abb8bf7209804ddc3f6bfb0c9511bed5e317ad3c63133eabebabf")
GOLDEN_BODY = (
    '["c-1","sales_ready","acme.io","A-1",["crm-1",1000,"acme.io","A-1","CTO","c_level","engineering","decision_maker","US"],["acc-1",1000,"A-1","acme.io","software",500,9000000,"US","NA",["aws","okta"],"rep-1",false,true],5000,[["web.pricing",44.5],["form.demo_request",60.0]],[["form.demo_request",1],["web.pricing",2]],["ev-1","web.pricing","web",null,2000],["ev-3","form.demo_request","web","cmp-1",5000],"0123456789abba9876543210",[["events.web:0",42]],3,null,5000,"ev-3",5000,12.5,3,"engaged",{"timers":[{"sla_id":"sla-1","kind":"first_touch","assignment_id":"asg-1","contact_id":"c-1","rep_id":"rep-1","priority":"p1","started_at":5000,"warn_at":5225,"due_at":5300,"status":"open","escalation":"reassign","escalation_target":null}],"finished":["sla-0"]}]')


def test_golden_row_decodes_to_the_state_it_was_written_from() -> None:
    assert read_contact(GOLDEN_ROW) == (STATE, SLAS)
    head = read_header(GOLDEN_ROW)
    assert (head.kind, head.partition, head.offset, head.deadline, head.sla_kinds) == (
        CONTACT, 3, 77, 5_225, ("first_touch",))


def test_writer_produces_the_golden_header_and_body() -> None:
    row = contact_row(STATE, SLAS, 3, 77, 5_225)
    size = HEADER.size + 1
    assert row[:size] == GOLDEN_ROW[:size]
    assert zlib.decompress(row[size:], wbits=-15).decode() == GOLDEN_BODY
    assert readable(row).endswith(GOLDEN_BODY)


def test_the_body_holds_every_field_of_the_state_and_the_clocks() -> None:
    body = json.loads(readable(contact_row(STATE, SLAS, 0, 0, None)).split("\n")[1])
    assert len(body) == len(FIELDS) + 1  # a new ContactState field needs a new ROW_VERSION


@settings(max_examples=100, deadline=None)
@given(histories(max_size=20))
def test_round_trip_is_lossless(payloads: list[ContactPayload]) -> None:
    state, _ = fold(payloads, origins=True)
    assert state is not None
    row = contact_row(state, SlaState(), 1, 9, None)
    assert read_contact(row) == (state, SlaState())
    head = read_header(row)
    assert (head.kind, head.partition, head.offset, head.deadline, head.sla_kinds) == (
        CONTACT, 1, 9, None, ())


def test_ids_that_are_not_short_hashes_round_trip_as_a_list() -> None:
    odd = ContactState("c-2", recent_event_ids=("0123456789ab", "short", "x" * 12))
    row = contact_row(odd, SlaState(), 0, 0, None)
    assert read_contact(row)[0] == odd
    assert '"rid"' not in readable(row) and '["0123456789ab","short","xxxxxxxxxxxx"]' in (
        readable(row))


def test_markers_are_headers_without_personal_data() -> None:
    erased, mark = erased_row(2, 41), tick_mark_row(2, 7)
    assert len(erased) == len(mark) == HEADER.size
    assert (read_header(erased).kind, read_header(erased).offset) == (ERASED, 41)
    assert (read_header(mark).kind, read_header(mark).offset) == (TICK_MARK, 7)
    with pytest.raises(ValueError, match="not a version 1 contact row"):
        read_contact(erased)


def test_a_row_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported contact row version 9"):
        read_header(b"\x09" + GOLDEN_ROW[1:])
    with pytest.raises(ValueError, match="not a version 1 contact row"):
        read_contact(b"\x09" + GOLDEN_ROW[1:])


def test_a_row_is_much_smaller_than_the_json_record() -> None:
    row = contact_row(STATE, SlaState(), 0, 0, None)
    assert len(row) < 0.7 * len(json.dumps(to_record(STATE)))


def test_values_written_before_rows_existed_still_read() -> None:
    legacy = {"s": to_record(STATE), "o": 77, "p": 3, "d": 5_225,
              "sla": {"timers": [vars_of(t) for t in SLAS.timers], "finished": ["sla-0"]}}
    row = json.dumps(legacy).encode()
    assert read_contact(row) == (STATE, SLAS)
    assert read_header(row) == read_header(GOLDEN_ROW)
    erased = read_header(json.dumps({"erased": True, "o": 5}).encode())
    mark = read_header(json.dumps({"o": 6}).encode())
    assert (erased.kind, erased.offset, mark.kind, mark.offset) == (ERASED, 5, TICK_MARK, 6)


def vars_of(timer: SlaTimer) -> dict[str, object]:
    return {name: getattr(timer, name) for name in SlaTimer.__dataclass_fields__}


def test_the_header_the_contact_agent_keeps_is_the_rows_own() -> None:
    """The contact agent keeps the header and state of what it wrote instead of reading the
    row back (``Pipeline.contact_states``): both must be what the row says."""
    row = contact_row(STATE, SLAS, 2, 77, 5_225)
    assert read_header(row) == RowHeader(CONTACT, 2, 77, 5_225, ("first_touch",))
    assert read_contact(row) == (STATE, SLAS)
