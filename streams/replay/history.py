"""The history file: input-topic records in an Avro container file (fastavro), event-time order.

Each record of the file is a ``qualstream.replay.HistoryRecord``: ``topic`` (the base name,
without any prefix), ``partition``, ``offset``, ``timestamp`` (the Kafka record timestamp,
epoch ms), ``key`` (UTF-8) and ``value``: the decoded input record (a union of the input
topics' current schemas, timestamps as epoch-ms longs), ``null`` for a tombstone, or the raw
bytes of a value that did not decode (kept so that nothing is silently lost). Records are
written in event-time order (``occurred_at``, else the Kafka timestamp; ties by topic,
partition, offset), the order in which a replay folds them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import fastavro

from streams.codecs import Codec, SerializationError
from streams.codecs.catalog import Catalog, default_catalog

INPUT_TOPICS = ("sales.reps", "crm.accounts", "crm.contacts", "events.web", "events.email",
                "events.product", "events.intent", "sales.activity")
RECORD_NAME = "qualstream.replay.HistoryRecord"

HistoryRecord = dict[str, Any]  # the fields above, as fastavro reads them


def _strip_logical_types(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_strip_logical_types(v) for v in node]
    return node


def history_schema(catalog: Catalog | None = None) -> dict[str, Any]:
    """The container file's record schema, built from the input topics' current schemas."""
    catalog = catalog or default_catalog()
    values = [_strip_logical_types(copy.deepcopy(catalog.for_topic(t).source))
              for t in INPUT_TOPICS]
    return {
        "type": "record", "name": "HistoryRecord", "namespace": "qualstream.replay",
        "doc": "One input-topic record, for what-if replay (qualstream export).",
        "fields": [
            {"name": "topic", "type": "string", "doc": "input topic base name, no prefix"},
            {"name": "partition", "type": "int"},
            {"name": "offset", "type": "long"},
            {"name": "timestamp", "type": "long", "doc": "Kafka record timestamp, epoch ms"},
            {"name": "key", "type": ["null", "string"]},
            {"name": "value", "type": ["null", *values, "bytes"],
             "doc": "decoded value; null = tombstone; bytes = a value that did not decode"},
        ],
    }


def event_time(record: HistoryRecord) -> int:
    value = record["value"]
    if isinstance(value, dict):
        at = value.get("occurred_at")
        if isinstance(at, int):
            return at
    return int(record["timestamp"])


def in_event_time_order(records: Iterable[HistoryRecord]) -> list[HistoryRecord]:
    """Sorted by event time, ties by topic, partition and offset (a deterministic order)."""
    return sorted(records, key=lambda r: (event_time(r), INPUT_TOPICS.index(r["topic"])
                                          if r["topic"] in INPUT_TOPICS else len(INPUT_TOPICS),
                                          r["partition"], r["offset"]))


def decoded_record(codec: Codec, base: str, partition: int, offset: int, timestamp_ms: int,
                   key: bytes | None, value: bytes | None) -> HistoryRecord:
    """A history record of one consumed message (raw bytes when the value does not decode)."""
    decoded: dict[str, Any] | bytes | None = None
    if value is not None:
        try:
            decoded = codec.decode(base, value)
        except SerializationError:
            decoded = bytes(value)
    return {"topic": base, "partition": partition, "offset": offset, "timestamp": timestamp_ms,
            "key": None if key is None else key.decode("utf-8", "replace"), "value": decoded}


def _tagged(record: HistoryRecord, names: dict[str, str]) -> HistoryRecord:
    """Name the union branch of a decoded value: records of different topics may look alike."""
    value = record["value"]
    if isinstance(value, dict):
        return {**record, "value": (names[record["topic"]], value)}
    return record


def write_history(path: Path, records: Iterable[HistoryRecord], *,
                  codec: str = "null", catalog: Catalog | None = None) -> int:
    """Write ``records`` (already in the order wanted) to ``path``; return how many."""
    catalog = catalog or default_catalog()
    schema = fastavro.parse_schema(history_schema(catalog))
    names = {t: catalog.for_topic(t).name for t in INPUT_TOPICS}
    count = 0

    def tagged() -> Iterator[HistoryRecord]:
        nonlocal count
        for record in records:
            count += 1
            yield _tagged(record, names)

    with path.open("wb") as out:
        fastavro.writer(out, schema, tagged(), codec=codec)
    return count


def read_history(path: Path) -> Iterator[HistoryRecord]:
    """The records of a history file, in file order (timestamps stay epoch-ms ints)."""
    with path.open("rb") as src:
        reader = fastavro.reader(src)
        schema = reader.writer_schema
        if not isinstance(schema, dict) or schema.get("name") != RECORD_NAME:
            raise ValueError(f"{path} is not a qualstream history file")
        for record in reader:
            yield cast(HistoryRecord, record)
