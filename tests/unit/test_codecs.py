"""Codec tests: golden bytes, round trips, schema resolution, invalid input, registry format."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.codecs import (
    MAX_MESSAGE_BYTES,
    Catalog,
    ConfluentCodec,
    SchemaRegistryError,
    SerializationError,
    SingleObjectCodec,
    codec_for,
    decode,
    decode_any,
    default_catalog,
    encode,
    schema_for_topic,
)
from streams.codecs.catalog import DEFAULT_SCHEMAS_DIR, build_schema

SCHEMAS = DEFAULT_SCHEMAS_DIR
PUBLIC_TOPICS = [
    "events.web",
    "events.email",
    "events.product",
    "events.intent",
    "crm.contacts",
    "crm.accounts",
    "sales.reps",
    "sales.activity",
    "qualification.events",
    "qualification.contacts",
    "qualification.accounts",
    "routing.assignments",
    "sla.events",
    "qualification.dlq",
]
INTERNAL_TOPICS = ["qualstream.contact-inputs", "qualstream.account-inputs", "qualstream.routing"]
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z in epoch ms

REASON = {"signal": "web.pricing_view", "category": "intent", "points": 12.5, "count": 3}
TOUCH = {
    "event_id": "w-1",
    "signal": "form.demo_request",
    "source": "web",
    "channel": "google",
    "occurred_at": T0,
}

# One representative record per topic; fields left out must come back with their default.
RECORDS: dict[str, dict[str, Any]] = {
    "events.web": {
        "event_id": "w-1",
        "occurred_at": T0,
        "type": "form_submit",
        "contact_id": "c-1",
        "email": "ada@example.com",
        "url": "https://example.org/demo",
        "page_category": "pricing",
        "form_type": "demo_request",
        "utm_source": "google",
        "utm_campaign": "q4",
    },
    "events.email": {
        "event_id": "m-1",
        "occurred_at": T0,
        "type": "click",
        "contact_id": "c-1",
        "campaign_id": "cmp-7",
        "link_url": "https://example.org/x",
    },
    "events.product": {
        "event_id": "p-1",
        "occurred_at": T0,
        "type": "team_invite",
        "contact_id": "c-1",
        "workspace_id": "ws-1",
        "quantity": 4,
    },
    "events.intent": {
        "event_id": "i-1",
        "occurred_at": T0,
        "type": "topic_surge",
        "domain": "example.com",
        "topic": "crm",
        "strength": 80,
        "provider": "bombora",
    },
    "crm.contacts": {
        "event_id": "cc-1",
        "occurred_at": T0,
        "contact_id": "c-1",
        "email": "ada@example.com",
        "title": "VP Engineering",
        "seniority": "vp",
        "persona": "decision_maker",
        "country": "DE",
        "account_id": "a-1",
    },
    "crm.accounts": {
        "event_id": "ca-1",
        "occurred_at": T0,
        "account_id": "a-1",
        "domain": "example.com",
        "employee_count": 1200,
        "annual_revenue": 5_000_000_000,
        "region": "EMEA",
        "tech_stack": ["salesforce", "snowflake"],
        "is_customer": False,
        "named_account": True,
    },
    "sales.reps": {
        "event_id": "r-1",
        "occurred_at": T0,
        "rep_id": "rep-1",
        "active": True,
        "pools": ["enterprise"],
        "territories": ["EMEA", "DE"],
        "timezone": "Europe/Berlin",
    },
    "sales.activity": {
        "event_id": "s-1",
        "occurred_at": T0,
        "contact_id": "c-1",
        "rep_id": "rep-1",
        "type": "rejected",
        "reason_code": "no_budget",
    },
    "qualification.events": {
        "event_id": "q-1",
        "entity_type": "contact",
        "entity_id": "c-1",
        "account_id": "a-1",
        "from_stage": "engaged",
        "to_stage": "sales_ready",
        "direction": "up",
        "trigger": "threshold",
        "threshold": 70.0,
        "fit": 40.0,
        "intent": 35.5,
        "total": 75.5,
        "fit_grade": "A",
        "segment": "enterprise",
        "model_version": "2024.1",
        "reasons": [REASON],
        "first_touch": TOUCH,
        "last_touch": {**TOUCH, "channel": None},
        "caused_by": "w-1",
        "occurred_at": T0,
        "committee_size": 3,
    },
    "qualification.contacts": {
        "contact_id": "c-1",
        "stage": "review",
        "fit": 10.0,
        "intent": 2.0,
        "total": 12.0,
        "fit_grade": "C",
        "segment": "smb",
        "model_version": "2024.1",
        "review_reasons": ["free_email_domain"],
        "reasons": [REASON, {**REASON, "signal": "fit.title"}],
        "last_touch": TOUCH,
        "events_applied": 2**40,
        "last_event_id": "w-1",
        "updated_at": T0,
    },
    "qualification.accounts": {
        "account_id": "a-1",
        "domain": "example.com",
        "stage": "engaged",
        "score": 55.0,
        "member_intent": 30.0,
        "third_party_intent": 25.0,
        "committee_size": 2,
        "committee_personas": ["champion", "decision_maker"],
        "has_decision_maker": True,
        "segment": "mid_market",
        "model_version": "2024.1",
        "updated_at": T0,
    },
    "routing.assignments": {
        "event_id": "as-1",
        "assignment_id": "asg-1",
        "contact_id": "c-1",
        "rep_id": "rep-1",
        "pool": "enterprise",
        "rule": "account_owner",
        "priority": "p1",
        "trigger": "instant",
        "sla_due_at": T0 + 3_600_000,
        "caused_by": "q-1",
        "occurred_at": T0,
        "model_version": "2024.1",
    },
    "sla.events": {
        "event_id": "sl-1",
        "sla_id": "sla-1",
        "assignment_id": "asg-1",
        "contact_id": "c-1",
        "rep_id": "rep-1",
        "kind": "first_touch",
        "status": "breached",
        "due_at": T0,
        "occurred_at": T0 + 1,
        "escalation_target": "rep-9",
        "priority": "p2",
    },
    "qualification.dlq": {
        "event_id": "d-1",
        "original_key": b"c-1",
        "original_value": b"\xc3\x01\xff\x00",
        "original_headers": [{"key": "trace", "value": b"abc"}, {"key": "empty", "value": None}],
        "stage": "decode",
        "error_class": "SerializationError",
        "error_message": "decode failed",
        "origin_topic": "events.web",
        "origin_partition": 3,
        "origin_offset": 2**33,
        "failed_at": T0,
    },
    "qualstream.contact-inputs": {
        "contact_id": "c-1",
        "origin": {"topic": "events.web", "partition": 0, "offset": 42},
        "payload": (
            "qualstream.internal.SignalObserved",
            {
                "event_id": "w-1",
                "occurred_at": T0,
                "signal": "web.pricing_view",
                "source": "web",
                "channel": "google",
                "email_domain": "example.com",
            },
        ),
    },
    "qualstream.account-inputs": {
        "domain": "example.com",
        "origin": None,
        "payload": (
            "qualstream.internal.MemberLeft",
            {"event_id": "x-1", "occurred_at": T0, "contact_id": "c-1"},
        ),
    },
    "qualstream.routing": {
        "key": "routing",
        "payload": (
            "qualstream.internal.AssignmentClosed",
            {"event_id": "x-2", "occurred_at": T0, "assignment_id": "a-1", "rep_id": "r-1"},
        ),
    },
}


@pytest.fixture(scope="module")
def codec() -> SingleObjectCodec:
    return SingleObjectCodec(Catalog.load(SCHEMAS))


# ---------------------------------------------------------------- schema files


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every named type and field definition in a schema."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        if node.get("type") in ("record", "enum") or "name" in node:
            yield node
        for key in ("type", "items", "fields"):
            if key in node:
                yield from _walk(node[key])


def test_one_schema_file_per_topic() -> None:
    assert sorted(p.stem for p in SCHEMAS.glob("*.avsc")) == sorted(PUBLIC_TOPICS)
    assert default_catalog().topics() == sorted(PUBLIC_TOPICS + INTERNAL_TOPICS)


@pytest.mark.parametrize("topic", PUBLIC_TOPICS + INTERNAL_TOPICS)
def test_every_record_field_and_enum_is_documented(topic: str) -> None:
    source = schema_for_topic(topic).source
    assert source["namespace"] == (
        "qualstream.internal" if topic.startswith("qualstream.") else "qualstream.v1"
    )
    for node in _walk(source):
        assert isinstance(node.get("doc"), str) and len(node["doc"]) > 5, node.get("name")


def test_optional_fields_default_to_null_and_times_are_timestamp_millis() -> None:
    for topic in PUBLIC_TOPICS:
        for node in _walk(schema_for_topic(topic).source):
            t = node.get("type")
            if isinstance(t, list) and "fields" not in node:
                assert t[0] == "null" and node["default"] is None, (topic, node["name"])
            if node.get("name") in ("occurred_at", "updated_at", "failed_at", "due_at"):
                assert t == {"type": "long", "logicalType": "timestamp-millis"}


# ---------------------------------------------------------------- golden bytes


def _crc64_avro(data: bytes) -> int:
    """CRC-64-AVRO as the Avro specification writes it out (independent of fastavro)."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def test_crc64_reference_vector() -> None:
    assert _crc64_avro(b'"int"') == 0x7275D51A3F395C8F  # Avro Java parsingFingerprint64(int)


@pytest.mark.parametrize("topic", PUBLIC_TOPICS + INTERNAL_TOPICS)
def test_fingerprint_is_crc64_of_canonical_form_little_endian(topic: str) -> None:
    schema = schema_for_topic(topic)
    expected = _crc64_avro(schema.canonical_form.encode()).to_bytes(8, "little")
    assert schema.fingerprint == expected
    assert "logicalType" not in schema.canonical_form and '"doc"' not in schema.canonical_form


def test_golden_bytes_events_intent() -> None:
    record = {
        "event_id": "e1",
        "occurred_at": 1,
        "type": "topic_surge",
        "topic": "crm",
        "strength": 80,
        "provider": "p",
    }
    expected = (
        b"\xc3\x01"  # single-object marker
        b"\x39\x55\x47\x6e\xc0\xfe\x07\xd4"  # CRC-64-AVRO 0xd407fec06e475539, little-endian
        b"\x04e1"  # event_id: zigzag(len 2) = 4, "e1"
        b"\x02"  # occurred_at: zigzag(1) = 2
        b"\x00"  # type: enum index 0 (topic_surge)
        b"\x00"  # account_id: union branch 0 (null)
        b"\x00"  # domain: union branch 0 (null)
        b"\x06crm"  # topic: zigzag(len 3) = 6, "crm"
        b"\xa0\x01"  # strength: zigzag(80) = 160 = varint a0 01
        b"\x02p"  # provider: zigzag(len 1) = 2, "p"
    )
    assert encode("events.intent", record) == expected
    assert decode("events.intent", expected) == {**record, "account_id": None, "domain": None}


def _zigzag_varint(n: int) -> bytes:
    z, out = (n << 1) ^ (n >> 63), bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    return bytes([*out, z])


def test_golden_bytes_of_a_real_timestamp() -> None:
    data = encode("events.intent", {**RECORDS["events.intent"], "occurred_at": T0})
    # zigzag(1_700_000_000_000) = 3_400_000_000_000 as base-128 groups, low group first
    assert data[10:20] == b"\x06i-1" + b"\x80\xa0\xab\xfe\xf9\x62"
    assert _zigzag_varint(T0) == b"\x80\xa0\xab\xfe\xf9\x62"
    assert _zigzag_varint(80) == b"\xa0\x01" and _zigzag_varint(-1) == b"\x01"


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("topic", PUBLIC_TOPICS + INTERNAL_TOPICS)
def test_round_trip(codec: SingleObjectCodec, topic: str) -> None:
    record = RECORDS[topic]
    data = codec.encode(topic, record)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == codec.catalog.for_topic(topic).fingerprint
    decoded = codec.decode(topic, data)
    assert {k: decoded[k] for k in record} == record
    assert set(decoded) == codec.catalog.for_topic(topic).fields
    assert codec.encode(topic, decoded) == data  # deterministic: a replay re-emits equal bytes
    name, again = codec.decode_any(data)
    assert name == codec.catalog.for_topic(topic).name and again == decoded


def test_timestamps_are_int_millis_both_ways() -> None:
    decoded = decode(
        "routing.assignments", encode("routing.assignments", RECORDS["routing.assignments"])
    )
    for field in ("occurred_at", "sla_due_at"):
        assert type(decoded[field]) is int
    nested = decode(
        "qualification.events", encode("qualification.events", RECORDS["qualification.events"])
    )
    assert type(nested["first_touch"]["occurred_at"]) is int


def test_defaults_fill_omitted_fields() -> None:
    decoded = decode("sales.reps", encode("sales.reps", RECORDS["sales.reps"]))
    assert decoded["weight"] == 1 and decoded["max_open"] == 10
    assert (decoded["work_start_minute"], decoded["work_end_minute"]) == (540, 1080)
    assert decoded["work_days"] == [1, 2, 3, 4, 5] and decoded["timezone"] == "Europe/Berlin"
    minimal = {"event_id": "a", "occurred_at": 0, "account_id": "a", "domain": "d.io"}
    account = decode("crm.accounts", encode("crm.accounts", minimal))
    assert account["tech_stack"] == [] and account["is_customer"] is False


def test_topic_prefix_resolves_to_the_base_schema() -> None:
    assert schema_for_topic("dev.events.web", prefix="dev.") is schema_for_topic("events.web")
    data = encode("staging-events.web", RECORDS["events.web"])
    assert decode("events.web", data)["event_id"] == "w-1"
    with pytest.raises(LookupError):
        schema_for_topic("events.nope")


def test_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()
    assert schema_for_topic("events.web") is default_catalog().for_name("qualstream.v1.WebEvent")


def test_schemas_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "events.intent.avsc").write_text((SCHEMAS / "events.intent.avsc").read_text())
    monkeypatch.setenv("QUALSTREAM_SCHEMAS_DIR", str(tmp_path))
    default_catalog.cache_clear()
    try:
        assert default_catalog().topics() == ["events.intent"]
    finally:
        monkeypatch.delenv("QUALSTREAM_SCHEMAS_DIR")
        default_catalog.cache_clear()


def test_union_of_records_must_name_its_branch() -> None:
    member = {"event_id": "x", "occurred_at": 1, "contact_id": "c"}
    with pytest.raises(SerializationError, match="tuple"):
        encode("qualstream.account-inputs", {"domain": "d", "origin": None, "payload": member})
    joined = ("qualstream.internal.MemberJoined", member)
    data = encode("qualstream.account-inputs", {"domain": "d", "payload": joined})
    assert decode("qualstream.account-inputs", data)["payload"] == joined


# ---------------------------------------------------------------- schema resolution


def _web_v0() -> dict[str, Any]:
    source = copy.deepcopy(schema_for_topic("events.web").source)
    source["fields"] = [f for f in source["fields"] if f["name"] != "utm_campaign"]
    return source


def test_older_writer_version_decodes_with_defaults() -> None:
    v0 = build_schema(_web_v0(), topic="events.web")
    old_record = {k: v for k, v in RECORDS["events.web"].items() if k != "utm_campaign"}
    data = SingleObjectCodec(Catalog([v0])).encode("events.web", old_record)
    current = Catalog.load(SCHEMAS)
    assert v0.fingerprint != current.for_topic("events.web").fingerprint
    with pytest.raises(SerializationError, match="unknown schema fingerprint"):
        SingleObjectCodec(current).decode("events.web", data)
    current.register(_web_v0())
    decoded = SingleObjectCodec(current).decode("events.web", data)
    assert decoded == {**old_record, **{k: decoded[k] for k in decoded if k not in old_record}}
    assert decoded["utm_campaign"] is None and decoded["utm_source"] == "google"
    assert current.for_topic("events.web").fingerprint != v0.fingerprint  # reader unchanged


def test_history_directory_holds_writer_only_versions(tmp_path: Path) -> None:
    for path in SCHEMAS.glob("events.web.avsc"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "events.web.v0.avsc").write_text(json.dumps(_web_v0()))
    catalog = Catalog.load(tmp_path)
    assert catalog.topics() == ["events.web"]
    v0 = build_schema(_web_v0(), topic="events.web")
    data = SingleObjectCodec(Catalog([v0])).encode(
        "events.web", {"event_id": "a", "occurred_at": 1, "type": "page_view"}
    )
    assert SingleObjectCodec(catalog).decode("events.web", data)["utm_campaign"] is None


# ---------------------------------------------------------------- invalid input


def _web() -> bytes:
    return encode("events.web", RECORDS["events.web"])


INVALID: dict[str, Any] = {
    "empty": lambda: b"",
    "random bytes": lambda: bytes(range(7, 200, 3)),
    "marker only": lambda: b"\xc3\x01",
    "wrong marker": lambda: b"\xc3\x02" + _web()[2:],
    "confluent framing": lambda: b"\x00\x00\x00\x00\x01" + _web()[10:],
    "unknown fingerprint": lambda: _web()[:2] + b"\x01" * 8 + _web()[10:],
    "truncated body": lambda: _web()[:-1],
    "truncated in a string": lambda: _web()[:14],
    "trailing garbage": lambda: _web() + b"\x00",
    "another topic's record": lambda: encode("events.email", RECORDS["events.email"]),
    "enum index out of range": lambda: _web()[:10] + b"\x02a\x02\x0a" + b"\x00" * 11,
    "negative string length": lambda: _web()[:10] + b"\x03",
    "invalid utf-8": lambda: _web()[:10] + b"\x04\xff\xfe\x02\x00" + b"\x00" * 11,
    "overlong varint": lambda: _web()[:10] + b"\x02a" + b"\xff" * 12 + b"\x00" * 12,
    "oversized": lambda: _web()[:10] + b"\x00" * MAX_MESSAGE_BYTES,
    "not bytes": lambda: "c3 01",
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_input_raises_serialization_error(case: str) -> None:
    data = INVALID[case]()
    with pytest.raises(SerializationError) as info:
        decode("events.web", data)
    assert info.value.stage == "decode"
    assert "@" not in str(info.value)


def test_another_topics_record_is_named_in_the_error() -> None:
    with pytest.raises(SerializationError, match="EmailEvent, expected qualstream.v1.WebEvent"):
        decode("events.web", encode("events.email", RECORDS["events.email"]))


def _without(field: str) -> dict[str, Any]:
    return {k: v for k, v in RECORDS["events.web"].items() if k != field}


INVALID_RECORDS: dict[str, dict[str, Any]] = {
    "missing required field": _without("event_id"),
    "missing required enum": _without("type"),
    "required field is None": {**RECORDS["events.web"], "event_id": None},
    "wrong type string for long": {**RECORDS["events.web"], "occurred_at": "ada@example.com"},
    "wrong type int for string": {**RECORDS["events.web"], "url": 5},
    "datetime instead of int millis": {
        **RECORDS["events.web"],
        "occurred_at": datetime.fromtimestamp(T0 / 1000, tz=UTC),
    },
    "bad enum symbol": {**RECORDS["events.web"], "type": "ada@example.com"},
    "bad optional enum symbol": {**RECORDS["events.web"], "page_category": "nope"},
    "unknown field": {**RECORDS["events.web"], "utm_campagin": "typo"},
    "long overflow": {**RECORDS["events.web"], "occurred_at": 2**70},
}


@pytest.mark.parametrize("case", list(INVALID_RECORDS))
def test_invalid_record_raises_serialization_error(case: str) -> None:
    with pytest.raises(SerializationError) as info:
        encode("events.web", INVALID_RECORDS[case])
    assert info.value.stage == "encode"
    assert "@" not in str(info.value) and "example.com" not in str(info.value)


def test_not_a_dict_and_nested_errors_are_wrapped() -> None:
    with pytest.raises(SerializationError):
        encode("events.web", ["not", "a", "dict"])  # type: ignore[arg-type]
    bad_reason = {**RECORDS["qualification.events"], "reasons": [{"signal": "x"}]}
    with pytest.raises(SerializationError):
        encode("qualification.events", bad_reason)


def test_serialization_error_is_a_value_error_with_a_cause_name() -> None:
    with pytest.raises(ValueError) as info:
        encode("events.web", INVALID_RECORDS["bad enum symbol"])
    assert isinstance(info.value, SerializationError)
    assert info.value.cause == "ValueError" and info.value.__cause__ is None


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_serialization_error(data: bytes) -> None:
    try:
        decode("events.web", data)
    except SerializationError:
        pass


BODY_TOPICS = [
    "events.web",
    "qualification.events",
    "qualification.dlq",
    "qualstream.contact-inputs",
]


@settings(max_examples=300, deadline=None)
@given(topic=st.sampled_from(BODY_TOPICS), body=st.binary(max_size=300))
def test_arbitrary_bodies_behind_a_valid_header_only_raise_serialization_error(
    topic: str, body: bytes
) -> None:
    try:
        record = decode(topic, schema_for_topic(topic).header + body)
    except SerializationError:
        return
    assert isinstance(record, dict)


# ---------------------------------------------------------------- Confluent wire format


class _Registry(BaseHTTPRequestHandler):
    """The two Schema Registry endpoints the codec uses, over real HTTP."""

    schemas: list[str] = []
    subjects: dict[str, list[int]] = {}
    requests: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        type(self).requests.append(f"POST {self.path}")
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "subjects" or parts[2] != "versions":
            self._answer(404, {"error_code": 404})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = json.dumps(json.loads(body["schema"]), sort_keys=True)
        if text not in self.schemas:
            self.schemas.append(text)
        schema_id = self.schemas.index(text) + 1
        self.subjects.setdefault(parts[1], []).append(schema_id)
        self._answer(200, {"id": schema_id})

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        type(self).requests.append(f"GET {self.path}")
        prefix = "/schemas/ids/"
        if self.path.startswith(prefix) and self.path[len(prefix) :].isdigit():
            index = int(self.path[len(prefix) :]) - 1
            if 0 <= index < len(self.schemas):
                self._answer(200, {"schema": self.schemas[index]})
                return
        self._answer(404, {"error_code": 40403, "message": "Schema not found"})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server API
        pass


@pytest.fixture()
def registry() -> Iterator[str]:
    _Registry.schemas, _Registry.subjects, _Registry.requests = [], {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_confluent_round_trip_and_wire_format(registry: str) -> None:
    codec = ConfluentCodec(registry)
    data = codec.encode("events.web", RECORDS["events.web"])
    assert data[:5] == b"\x00\x00\x00\x00\x01"  # magic 0, schema id 1 big-endian
    assert data[5:] == _web()[10:]  # same Avro body as single-object encoding
    assert _Registry.subjects == {"events.web-value": [1]}
    assert codec.decode("events.web", data)["utm_campaign"] == "q4"
    # a fresh consumer fetches the writer schema by id, once
    reader = ConfluentCodec(registry)
    for _ in range(3):
        assert reader.decode("events.web", data)["event_id"] == "w-1"
    assert _Registry.requests.count("GET /schemas/ids/1") == 1
    codec.encode("events.web", RECORDS["events.web"])
    assert _Registry.requests.count("POST /subjects/events.web-value/versions") == 1


def test_confluent_older_writer_resolves(registry: str) -> None:
    old = ConfluentCodec(registry, Catalog([build_schema(_web_v0(), topic="events.web")]))
    data = old.encode("events.web", _without("utm_campaign"))
    assert ConfluentCodec(registry).decode("events.web", data)["utm_campaign"] is None


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x00\x00", b"\xc3\x01" + b"\x00" * 12, b"\x00\x00\x00\x00\x63\x04e1"],
    ids=["empty", "short", "single-object", "unknown id"],
)
def test_confluent_invalid_input(registry: str, data: bytes) -> None:
    with pytest.raises(SerializationError):
        ConfluentCodec(registry).decode("events.web", data)


def test_confluent_other_topics_record_and_trailing_bytes(registry: str) -> None:
    codec = ConfluentCodec(registry)
    email = codec.encode("events.email", RECORDS["events.email"])
    with pytest.raises(SerializationError, match="expected qualstream.v1.WebEvent"):
        codec.decode("events.web", email)
    with pytest.raises(SerializationError, match="trailing"):
        codec.decode("events.email", email + b"\x00")


def test_registry_down_is_not_a_serialization_error() -> None:
    codec = ConfluentCodec("http://127.0.0.1:9", timeout=1.0)
    with pytest.raises(SchemaRegistryError):
        codec.encode("events.web", RECORDS["events.web"])
    with pytest.raises(SchemaRegistryError):
        codec.decode("events.web", b"\x00\x00\x00\x00\x01\x00")


def test_codec_for_picks_the_wire_format(registry: str) -> None:
    assert isinstance(codec_for(None), SingleObjectCodec)
    assert isinstance(codec_for(registry), ConfluentCodec)
    assert decode_any(codec_for(None).encode("events.web", RECORDS["events.web"]))[0] == (
        "qualstream.v1.WebEvent"
    )
