"""Schema catalog: every .avsc parsed once, indexed by topic, record name and fingerprint."""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from streams.codecs.errors import SerializationError

SCHEMAS_DIR_ENV = "QUALSTREAM_SCHEMAS_DIR"
DEFAULT_SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
INTERNAL_SUBDIR = "internal"
INTERNAL_PREFIX = "qualstream."
# Older versions of a schema kept only so that old messages still decode (writer schemas).
HISTORY_SUBDIR = "history"

JsonSchema = dict[str, Any]


@dataclass(frozen=True, slots=True, eq=False)
class Schema:
    """One parsed Avro record schema and everything the hot path precomputes from it."""

    name: str  # full record name, e.g. qualstream.v1.WebEvent
    fingerprint: bytes  # CRC-64-AVRO of the parsing canonical form, little-endian as on the wire
    canonical_form: str
    source: JsonSchema  # the JSON as written in the .avsc (docs, logical types)
    parsed: JsonSchema  # fastavro-parsed source, with logical types
    wire: JsonSchema  # fastavro-parsed with logical types stripped: timestamps stay int millis
    aliases: frozenset[str]
    required: frozenset[str]  # top-level fields without a default
    fields: frozenset[str]
    named_unions: bool  # has a union of several records: read them as (name, dict) tuples
    tuple_fields: frozenset[str]  # top-level unions of several records: must be written as tuples
    topic: str | None = None

    @property
    def header(self) -> bytes:
        """Single-object encoding header: marker C3 01 and the fingerprint."""
        return b"\xc3\x01" + self.fingerprint

    def accepts_writer(self, writer: Schema) -> bool:
        """Whether data written with ``writer`` is meant to be read as this record."""
        return writer.name == self.name or writer.name in self.aliases


def _strip_logical_types(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_strip_logical_types(v) for v in node]
    return node


def _has_named_union(node: Any) -> bool:
    if isinstance(node, list):
        named = sum(1 for t in node if isinstance(t, dict) and t.get("type") == "record")
        return named > 1 or any(_has_named_union(t) for t in node)
    if isinstance(node, dict):
        return any(_has_named_union(v) for v in node.values())
    return False


def _full_name(source: JsonSchema) -> str:
    name = str(source["name"])
    namespace = source.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


def build_schema(source: JsonSchema, topic: str | None = None) -> Schema:
    """Parse one record schema (JSON already loaded) and precompute its codec state."""
    if not isinstance(source, dict) or source.get("type") != "record":
        raise SerializationError("decode", "schema is not an Avro record", topic=topic)
    try:
        parsed = cast(JsonSchema, fastavro.parse_schema(copy.deepcopy(source)))
        wire = cast(JsonSchema, fastavro.parse_schema(_strip_logical_types(source)))
        canonical = to_parsing_canonical_form(parsed)
        digest = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    except Exception as exc:  # fastavro raises many types for bad schemas
        raise SerializationError.wrap("decode", topic, exc) from None
    namespace = source.get("namespace")
    aliases = frozenset(
        a if "." in a or not namespace else f"{namespace}.{a}" for a in source.get("aliases", [])
    )
    fields = source["fields"]
    return Schema(
        name=_full_name(source),
        fingerprint=digest,
        canonical_form=canonical,
        source=source,
        parsed=parsed,
        wire=wire,
        aliases=aliases,
        required=frozenset(f["name"] for f in fields if "default" not in f),
        fields=frozenset(f["name"] for f in fields),
        named_unions=_has_named_union(source),
        tuple_fields=frozenset(
            f["name"] for f in fields if isinstance(f["type"], list) and _has_named_union(f["type"])
        ),
        topic=topic,
    )


def _topic_of(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    parts = rel.parts
    if HISTORY_SUBDIR in parts[:-1]:
        return None
    if parts[:-1] == (INTERNAL_SUBDIR,):
        return INTERNAL_PREFIX + path.stem
    return path.stem if len(parts) == 1 else None


class Catalog:
    """Schemas by topic (the current reader schema), by record name and by fingerprint."""

    def __init__(self, schemas: Iterable[Schema] = ()) -> None:
        self._by_topic: dict[str, Schema] = {}
        self._by_name: dict[str, Schema] = {}
        self._by_fingerprint: dict[bytes, Schema] = {}
        self._resolved: dict[str, Schema] = {}
        for schema in schemas:
            self.add(schema)

    @classmethod
    def load(cls, directory: Path) -> Catalog:
        """Parse every ``*.avsc`` under ``directory`` (topic files first, history last)."""
        paths = sorted(directory.rglob("*.avsc"))
        if not paths:
            raise FileNotFoundError(f"no .avsc schemas under {directory}")
        current = [(p, _topic_of(p, directory)) for p in paths]
        current.sort(key=lambda item: item[1] is None)
        catalog = cls()
        for path, topic in current:
            catalog.add(build_schema(json.loads(path.read_text(encoding="utf-8")), topic))
        return catalog

    def add(self, schema: Schema) -> Schema:
        """Index ``schema``; a schema without a topic is a writer-only (older) version."""
        if schema.topic is not None:
            self._by_topic[schema.topic] = schema
            self._by_name[schema.name] = schema
            self._resolved.clear()
        else:
            self._by_name.setdefault(schema.name, schema)
        if schema.topic is not None or schema.fingerprint not in self._by_fingerprint:
            self._by_fingerprint[schema.fingerprint] = schema
        return schema

    def register(self, source: JsonSchema) -> Schema:
        """Make an extra writer schema (e.g. an older version) decodable; returns it."""
        return self.add(build_schema(source))

    def for_topic(self, topic: str, prefix: str = "") -> Schema:
        """The current schema of ``topic``; a known base name behind any prefix also matches."""
        schema = self._resolved.get(topic)
        if schema is not None and not prefix:
            return schema
        base = topic[len(prefix) :] if prefix and topic.startswith(prefix) else topic
        schema = self._by_topic.get(base)
        if schema is None:
            matches = [t for t in self._by_topic if base.endswith(t)]
            if not matches:
                # A wiring mistake, not bad data: deliberately not a SerializationError.
                raise LookupError(f"no schema for topic {topic}")
            schema = self._by_topic[max(matches, key=len)]
        if not prefix:
            self._resolved[topic] = schema
        return schema

    def for_fingerprint(self, digest: bytes) -> Schema | None:
        """The schema with this 8-byte fingerprint (wire byte order), if known."""
        return self._by_fingerprint.get(digest)

    def for_name(self, name: str) -> Schema | None:
        """The current schema of a full record name, e.g. ``qualstream.v1.WebEvent``."""
        return self._by_name.get(name)

    def topics(self) -> list[str]:
        """Every topic with a schema, sorted."""
        return sorted(self._by_topic)

    def __iter__(self) -> Iterator[Schema]:
        return iter(self._by_topic.values())


def schemas_dir() -> Path:
    """Where the schemas live: ``$QUALSTREAM_SCHEMAS_DIR`` or ``<repo>/schemas``."""
    configured = os.environ.get(SCHEMAS_DIR_ENV)
    return Path(configured) if configured else DEFAULT_SCHEMAS_DIR


@functools.cache
def default_catalog() -> Catalog:
    """The process-wide catalog, loaded on first use."""
    return Catalog.load(schemas_dir())


def schema_for_topic(topic: str, prefix: str = "") -> Schema:
    """The current schema of ``topic`` (``prefix`` is stripped first)."""
    return default_catalog().for_topic(topic, prefix)
