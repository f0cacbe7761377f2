"""Confluent wire format (00 + 4-byte schema id + body) with a tiny Schema Registry client."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from streams.codecs.avro import Record, check_size, read_body, write_body
from streams.codecs.catalog import Catalog, Schema, build_schema, default_catalog
from streams.codecs.errors import SchemaRegistryError, SerializationError

MAGIC = b"\x00"
HEADER_BYTES = 5
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryClient:
    """Register and fetch schemas over the Schema Registry REST API; answers cached forever."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._ids: dict[tuple[str, bytes], int] = {}
        self._schemas: dict[int, Schema] = {}
        self._lock = threading.Lock()

    def register(self, subject: str, schema: Schema) -> int:
        """Id of ``schema`` under ``subject``, registering it on first use."""
        key = (subject, schema.fingerprint)
        found = self._ids.get(key)
        if found is not None:
            return found
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        answer = self._call("POST", path, {"schema": json.dumps(schema.source)})
        schema_id = answer.get("id")
        if not isinstance(schema_id, int):
            raise SchemaRegistryError(f"registry answered {path} without an id")
        with self._lock:
            self._ids[key] = schema_id
            self._schemas.setdefault(schema_id, schema)
        return schema_id

    def schema(self, schema_id: int) -> Schema | None:
        """The writer schema with ``schema_id``; None when the registry does not know it."""
        found = self._schemas.get(schema_id)
        if found is not None:
            return found
        try:
            answer = self._call("GET", f"/schemas/ids/{schema_id}", None)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise SchemaRegistryError(f"registry error {exc.code} for schema {schema_id}") from None
        text = answer.get("schema")
        if not isinstance(text, str):
            raise SchemaRegistryError(f"registry answered schema {schema_id} without a schema")
        try:
            schema = build_schema(json.loads(text))
        except (ValueError, SerializationError) as exc:
            message = f"registry schema {schema_id} does not parse: {exc}"
            raise SchemaRegistryError(message) from None
        with self._lock:
            self._schemas.setdefault(schema_id, schema)
        return schema

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is operator configuration
            self.url + path, data=data, method=method, headers={"Content-Type": CONTENT_TYPE}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if method == "GET":
                raise
            raise SchemaRegistryError(f"registry error {exc.code} on {method} {path}") from None
        except (OSError, ValueError) as exc:
            raise SchemaRegistryError(f"registry unreachable on {method} {path}: {exc}") from None
        if not isinstance(answer, dict):
            raise SchemaRegistryError(f"registry answered {method} {path} with a non-object")
        return answer


class ConfluentCodec:
    """Encode/decode topic values in the Confluent wire format (subject ``<topic>-value``)."""

    def __init__(
        self, registry_url: str, catalog: Catalog | None = None, timeout: float = 5.0
    ) -> None:
        self.registry = SchemaRegistryClient(registry_url, timeout)
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        """The local schemas used as writer (encode) and reader (decode) schemas."""
        if self._catalog is None:
            self._catalog = default_catalog()
        return self._catalog

    def encode(self, topic: str, record: Record) -> bytes:
        """Serialize ``record``; registers the topic's schema on first use (SchemaRegistryError)."""
        schema = self.catalog.for_topic(topic)
        schema_id = self.registry.register(f"{topic}-value", schema)
        out = io.BytesIO()
        out.write(MAGIC)
        out.write(schema_id.to_bytes(4, "big"))
        write_body(schema, record, topic, out)
        return out.getvalue()

    def decode(self, topic: str, data: bytes) -> Record:
        """Deserialize a value of ``topic``: writer schema by id, the topic's schema as reader."""
        reader = self.catalog.for_topic(topic)
        size = check_size(data, topic)
        if size < HEADER_BYTES or data[:1] != MAGIC:
            raise SerializationError("decode", "not in the Confluent wire format", topic=topic)
        schema_id = int.from_bytes(data[1:HEADER_BYTES], "big")
        writer = self.registry.schema(schema_id)
        if writer is None:
            raise SerializationError("decode", f"unknown schema id {schema_id}", topic=topic)
        return read_body(writer, reader, data, HEADER_BYTES, topic)
