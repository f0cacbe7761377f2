"""Avro codecs for every topic value: schemas parsed once, one error type for bad data."""

from __future__ import annotations

from typing import Any, Protocol

from streams.codecs.avro import MAX_MESSAGE_BYTES, SingleObjectCodec, decode, decode_any, encode
from streams.codecs.avro import default_codec as _default_codec
from streams.codecs.catalog import Catalog, Schema, default_catalog, schema_for_topic
from streams.codecs.confluent import ConfluentCodec, SchemaRegistryClient
from streams.codecs.errors import SchemaRegistryError, SerializationError


class Codec(Protocol):
    """Turns a topic's records into value bytes and back."""

    def encode(self, topic: str, record: dict[str, Any]) -> bytes:
        """Serialize ``record`` for ``topic``; SerializationError when it does not fit."""
        ...

    def decode(self, topic: str, data: bytes) -> dict[str, Any]:
        """Deserialize a value of ``topic``; SerializationError for any bad input."""
        ...


def codec_for(schema_registry_url: str | None = None) -> Codec:
    """Single-object encoding by default; the Confluent wire format when a registry is given."""
    if schema_registry_url:
        return ConfluentCodec(schema_registry_url)
    return _default_codec()


__all__ = [
    "MAX_MESSAGE_BYTES",
    "Catalog",
    "Codec",
    "ConfluentCodec",
    "Schema",
    "SchemaRegistryClient",
    "SchemaRegistryError",
    "SerializationError",
    "SingleObjectCodec",
    "codec_for",
    "decode",
    "decode_any",
    "default_catalog",
    "encode",
    "schema_for_topic",
]
