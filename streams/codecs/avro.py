"""Avro single-object encoding (C3 01 + CRC-64-AVRO fingerprint + body): the hot path."""

from __future__ import annotations

import io
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from streams.codecs.catalog import Catalog, Schema, default_catalog
from streams.codecs.errors import SerializationError

MARKER = b"\xc3\x01"
HEADER_BYTES = 10  # marker + 8-byte fingerprint
MAX_MESSAGE_BYTES = 1 << 20

Record = dict[str, Any]


def check_fields(schema: Schema, record: Any, topic: str) -> None:
    """Reject records missing a required field or carrying unknown top-level fields.

    Cheaper than fastavro's strict mode, which also demands every optional field.
    """
    if not isinstance(record, dict):
        raise SerializationError("encode", f"record for {topic} is not a dict", topic=topic)
    keys = record.keys()
    if not schema.required <= keys:
        missing = ", ".join(sorted(schema.required - keys))
        message = f"missing required field(s) for {topic}: {missing}"
        raise SerializationError("encode", message, topic=topic)
    if not keys <= schema.fields:
        unknown = ", ".join(sorted(str(k) for k in keys - schema.fields))
        message = f"unknown field(s) for {topic}: {unknown}"
        raise SerializationError("encode", message, topic=topic)
    for name in schema.tuple_fields:
        # Records of a union are told apart by name only: MemberJoined and MemberLeft have the
        # same fields, and fastavro would silently pick the first branch that fits.
        value = record[name]
        if not (isinstance(value, tuple) or (isinstance(value, dict) and "-type" in value)):
            message = f"{topic} field {name} must be a (full record name, dict) tuple"
            raise SerializationError("encode", message, topic=topic)


def write_body(schema: Schema, record: Any, topic: str, out: io.BytesIO) -> None:
    """Append the Avro binary body of ``record`` to ``out`` (timestamps as int millis)."""
    check_fields(schema, record, topic)
    try:
        schemaless_writer(out, schema.wire, record)
    except Exception as exc:  # fastavro raises ValueError/TypeError/OverflowError/AttributeError...
        raise SerializationError.wrap("encode", topic, exc) from None


def read_body(writer: Schema, reader: Schema, data: bytes, start: int, topic: str | None) -> Record:
    """Read the body at ``data[start:]`` written with ``writer`` as ``reader``; all of it."""
    if not reader.accepts_writer(writer):
        raise SerializationError(
            "decode", f"written as {writer.name}, expected {reader.name}", topic=topic
        )
    buffer = io.BytesIO(data)
    buffer.seek(start)
    named = reader.named_unions or writer.named_unions
    try:
        record = schemaless_reader(
            buffer,
            writer.wire,
            None if writer is reader else reader.wire,
            return_record_name=named,
            return_record_name_override=named,
        )
    except Exception as exc:  # EOFError, struct.error, UnicodeDecodeError, SchemaResolutionError...
        raise SerializationError.wrap("decode", topic, exc) from None
    if buffer.tell() != len(data):
        message = f"trailing bytes after the {reader.name} body"
        raise SerializationError("decode", message, topic=topic)
    if not isinstance(record, dict):
        raise SerializationError("decode", f"body of {reader.name} is not a record", topic=topic)
    return record


def check_size(data: Any, topic: str | None) -> int:
    """Length of ``data``; SerializationError when not bytes-like or over MAX_MESSAGE_BYTES."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SerializationError("decode", "message value is not bytes", topic=topic)
    size = len(data)
    if size > MAX_MESSAGE_BYTES:
        raise SerializationError(
            "decode", f"message of {size} bytes exceeds {MAX_MESSAGE_BYTES}", topic=topic
        )
    return size


class SingleObjectCodec:
    """Encode/decode topic values with Avro single-object encoding; no registry needed."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        """The schemas this codec knows (the process-wide catalog unless one was given)."""
        if self._catalog is None:
            self._catalog = default_catalog()
        return self._catalog

    def encode(self, topic: str, record: Record) -> bytes:
        """Serialize ``record`` with the current schema of ``topic``."""
        schema = self.catalog.for_topic(topic)
        out = io.BytesIO()
        out.write(schema.header)
        write_body(schema, record, topic, out)
        return out.getvalue()

    def decode(self, topic: str, data: bytes) -> Record:
        """Deserialize a value of ``topic``: writer by fingerprint, topic schema as reader."""
        reader = self.catalog.for_topic(topic)
        return read_body(self._writer(data, topic), reader, data, HEADER_BYTES, topic)

    def decode_any(self, data: bytes) -> tuple[str, Record]:
        """Deserialize any known value: (full record name, record), read as the current version."""
        writer = self._writer(data, None)
        reader = self.catalog.for_name(writer.name) or writer
        return writer.name, read_body(writer, reader, data, HEADER_BYTES, None)

    def _writer(self, data: bytes, topic: str | None) -> Schema:
        size = check_size(data, topic)
        if size < HEADER_BYTES or data[:2] != MARKER:
            raise SerializationError("decode", "not Avro single-object encoded", topic=topic)
        digest = bytes(data[2:HEADER_BYTES])
        writer = self.catalog.for_fingerprint(digest)
        if writer is None:
            raise SerializationError(
                "decode", f"unknown schema fingerprint {digest.hex()}", topic=topic
            )
        return writer


_default = SingleObjectCodec()


def encode(topic: str, record: Record) -> bytes:
    """Serialize ``record`` for ``topic`` with the process-wide catalog."""
    return _default.encode(topic, record)


def decode(topic: str, data: bytes) -> Record:
    """Deserialize a value of ``topic`` with the process-wide catalog."""
    return _default.decode(topic, data)


def decode_any(data: bytes) -> tuple[str, Record]:
    """Deserialize any known value: (full record name, record)."""
    return _default.decode_any(data)


def default_codec() -> SingleObjectCodec:
    """The process-wide single-object codec."""
    return _default
