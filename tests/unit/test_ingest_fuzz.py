"""Fuzzing the whole ingest path, raw bytes to the internal record, for every source topic.

The path is what the ingest agent runs: ``codec.decode`` -> ``normalise_input`` ->
``internal_record``. Whatever the bytes, it may only fail with the product's own errors
(``SerializationError`` while decoding, ``InvalidRecord`` while validating); a validated input
must always encode for its internal topic; reasons are bounded labels and no message repeats
an e-mail address it was given. ``test_codecs.py`` fuzzes the decoder alone; this goes on
through validation, with structured mutations of valid records besides random bytes.
"""

from __future__ import annotations

import copy
import io
import re
from typing import Any

import fastavro
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.codecs import SerializationError, codec_for, schema_for_topic
from streams.core.events import Origin
from streams.ingest.errors import InvalidRecord
from streams.ingest.normalise import Dropped, IngestPolicy
from streams.shell.ingest_agent import internal_record, normalise_input
from tests.unit.test_codecs import RECORDS, T0

SOURCE_TOPICS = ["events.web", "events.email", "events.product", "events.intent",
                 "crm.contacts", "crm.accounts", "sales.reps", "sales.activity"]
CODEC = codec_for(None)
NOW = T0 + 3_600_000
POLICY = IngestPolicy(
    free_mail_domains=frozenset({"gmail.com"}), internal_domains=frozenset({"qualstream.io"}),
    internal_ip_prefixes=("10.",), bot_user_agent_patterns=("bot",), future_skew_ms=300_000)
SKEW_MS = 300_000
EMAIL_SHAPED = re.compile(r"[^\s'\"<>@]+@[^\s'\"<>@]+")
REASON = re.compile(r"[a-z][a-z_]{0,40}")
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

EMAILS = ["ann.lee@acme-corp.com", "Bob.Smith+crm@Example.CO.UK", "x@localhost",
          "bob@@acme.com", "not-an-email@", "@no-local-part.com", "ünïcödé@exämple.de",
          "carol@gmail.com", "dave@qualstream.io", "a b@c d.com"]
HOSTILE_STRINGS = st.one_of(
    st.sampled_from(EMAILS + ["", " ", "\x00", "\u202e", "../../etc/passwd", "a" * 5000,
                              "UTC", "Europe/Atlantis", "rep-1", "-1", "9" * 40]),
    st.emails().map(str),
    st.text(max_size=40),
)


def ingest(topic: str, data: bytes | None, key: str | None = "c-1") -> object:
    """The ingest agent's path for one message: only the product's own errors escape."""
    record = None if data is None else CODEC.decode(topic, data)
    out = normalise_input(topic, key, record, Origin(topic, 0, 1), NOW, POLICY, SKEW_MS,
                          timestamp_ms=NOW)
    if isinstance(out, Dropped):
        return out
    return internal_record(CODEC, out)  # a validated input always encodes


def check(topic: str, data: bytes | None, key: str | None = "c-1",
          sent: tuple[str, ...] = ()) -> None:
    try:
        ingest(topic, data, key)
    except SerializationError as exc:
        assert exc.stage == "decode"
        _no_email_in(str(exc), sent)
    except InvalidRecord as exc:
        assert REASON.fullmatch(exc.reason), exc.reason  # a bounded metric label
        _no_email_in(str(exc), sent)


def _no_email_in(message: str, sent: tuple[str, ...]) -> None:
    assert not EMAIL_SHAPED.search(message), message
    for value in sent:
        if EMAIL_SHAPED.search(value):
            assert value not in message, message


# ---------------------------------------------------------------- value strategies by Avro type


def _strategy(avro_type: Any) -> st.SearchStrategy[Any]:
    """Values of ``avro_type`` (as written in the .avsc) that a producer could legally send,
    biased to hostile ones: e-mails in every string, extreme numbers, NaN, empty arrays."""
    if isinstance(avro_type, list):
        return st.one_of([_strategy(branch) for branch in avro_type])
    if isinstance(avro_type, dict):
        kind = avro_type["type"]
        if kind == "enum":
            return st.sampled_from(avro_type["symbols"])
        if kind == "array":
            return st.lists(_strategy(avro_type["items"]), max_size=5)
        if kind == "map":
            return st.dictionaries(st.text(max_size=10), _strategy(avro_type["values"]),
                                   max_size=3)
        if kind == "record":
            return st.fixed_dictionaries({f["name"]: _strategy(f["type"])
                                          for f in avro_type["fields"]})
        return _strategy(kind)  # a primitive with a logical type
    return {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([-1, 0, 101])),
        "long": st.one_of(st.integers(-(2**63), 2**63 - 1),
                          st.sampled_from([0, -1, T0, NOW + 10**12, 2**62])),
        "float": st.floats(width=32),
        "double": st.floats(),
        "string": HOSTILE_STRINGS,
        "bytes": st.binary(max_size=20),
    }[avro_type]


def _fields(topic: str) -> dict[str, Any]:
    return {f["name"]: f["type"] for f in schema_for_topic(topic).source["fields"]}


@st.composite
def mutated_records(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid record of a source topic with some fields replaced by legal but hostile
    values of their type."""
    topic = draw(st.sampled_from(SOURCE_TOPICS))
    types = _fields(topic)
    names = draw(st.lists(st.sampled_from(sorted(types)), min_size=1, max_size=4, unique=True))
    record = copy.deepcopy(RECORDS[topic])
    for name in names:
        record[name] = draw(_strategy(types[name]))
    return topic, record


WRONG_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    ("long", st.integers(-(2**63), 2**63 - 1)),
    ("string", HOSTILE_STRINGS),
    ("boolean", st.booleans()),
    ("double", st.floats()),
    ({"type": "array", "items": "string"}, st.lists(HOSTILE_STRINGS, max_size=3)),
    ("null", st.none()),
]


@st.composite
def lying_writer_messages(draw: st.DrawFn) -> tuple[str, bytes, tuple[str, ...]]:
    """A valid record with one field removed or typed wrong, written under a schema that
    says so, behind the header (fingerprint) of the real schema: a producer that lies."""
    topic = draw(st.sampled_from(SOURCE_TOPICS))
    schema = schema_for_topic(topic)
    writer = copy.deepcopy(schema.source)
    record = copy.deepcopy(RECORDS[topic])
    index = draw(st.integers(0, len(writer["fields"]) - 1))
    field = writer["fields"][index]
    sent: tuple[str, ...] = ()
    if draw(st.booleans()):
        del writer["fields"][index]
        record.pop(field["name"], None)
    else:
        wrong_type, values = draw(st.sampled_from(WRONG_TYPES))
        field["type"] = wrong_type
        field.pop("default", None)
        value = draw(values)
        record[field["name"]] = value
        sent = tuple(v for v in (value if isinstance(value, list) else [value])
                     if isinstance(v, str))
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(writer), record)
    return topic, schema.header + out.getvalue(), sent


# ---------------------------------------------------------------- the properties


@FUZZ
@given(topic=st.sampled_from(SOURCE_TOPICS), data=st.binary(max_size=400))
def test_random_bytes_on_every_source_topic(topic: str, data: bytes) -> None:
    check(topic, data)


@FUZZ
@given(topic=st.sampled_from(SOURCE_TOPICS), body=st.binary(max_size=400))
def test_random_bodies_behind_each_topics_valid_header(topic: str, body: bytes) -> None:
    check(topic, schema_for_topic(topic).header + body)


@FUZZ
@given(topic=st.sampled_from(SOURCE_TOPICS), data=st.data())
def test_valid_messages_truncated_extended_or_bit_flipped(topic: str, data: st.DataObject
                                                          ) -> None:
    valid = CODEC.encode(topic, RECORDS[topic])
    cut = data.draw(st.integers(0, len(valid)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 7)),
                               max_size=4))
    tail = data.draw(st.binary(max_size=20))
    mutated = bytearray(valid)
    for position, bit in flips:
        mutated[position] ^= 1 << bit
    check(topic, bytes(mutated[:cut]) + tail)


@FUZZ
@given(case=mutated_records(), key=st.one_of(st.none(), HOSTILE_STRINGS))
def test_valid_records_with_hostile_field_values(case: tuple[str, dict[str, Any]],
                                                 key: str | None) -> None:
    topic, record = case
    try:
        data = CODEC.encode(topic, record)
    except SerializationError:
        return  # the producer side refuses it (e.g. a non-string map key): never on the wire
    sent = tuple(v for v in (*record.values(), key) if isinstance(v, str))
    check(topic, data, key, sent)


@FUZZ
@given(case=lying_writer_messages())
def test_fields_removed_or_typed_wrong_under_the_real_schemas_header(
    case: tuple[str, bytes, tuple[str, ...]],
) -> None:
    topic, data, sent = case
    check(topic, data, sent=sent)


@FUZZ
@given(writer=st.sampled_from(SOURCE_TOPICS), reader=st.sampled_from(SOURCE_TOPICS))
def test_another_topics_record_is_refused_or_validated(writer: str, reader: str) -> None:
    body = CODEC.encode(writer, RECORDS[writer])[10:]
    check(reader, schema_for_topic(reader).header + body)
    check(reader, CODEC.encode(writer, RECORDS[writer]))


def test_tombstones_on_every_source_topic() -> None:
    for topic in SOURCE_TOPICS:
        check(topic, None)
        check(topic, None, key=None)


def test_the_representative_records_are_valid() -> None:
    """The fuzzers start from records that pass: a mutation is what makes them fail."""
    for topic in SOURCE_TOPICS:
        assert ingest(topic, CODEC.encode(topic, RECORDS[topic])) is not None
