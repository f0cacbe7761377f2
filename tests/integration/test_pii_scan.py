"""No e-mail address leaks: a worker gets valid and invalid traffic full of e-mail addresses
(valid contacts, invalid addresses, addresses in the wrong fields, in free text, in keys, in
undecodable bytes), then its log, its whole /metrics page, every dead letter's reason, error
and headers, and the Redis projection are scanned for anything e-mail-shaped and for each
address sent; every topic it wrote (outputs, internal topics, changelogs) for each address."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from streams.codecs import codec_for
from streams.config import Settings, from_env
from streams.shell.contact_rows import readable
from streams.shell.worker import ensure_topics
from tests.conftest import consume_until
from tests.integration.support import CODEC, Tail, Worker, producer, worker_env
from tests.integration.test_contact_pipeline import NOW, account, contact, demo_request

pytestmark = pytest.mark.integration

# Anything around an @ except the ``(1@0x7f...)`` object addresses in Faust's log lines.
EMAIL_SHAPED = re.compile(r"[^\s'\"<>@/=]+@(?!0x[0-9a-f]+\)\])[^\s'\"<>@]+")


class Traffic:
    """Records to send, each tagged valid or dead-letter, with the addresses they carry."""

    def __init__(self, prefix: str) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.addresses: list[str] = []
        self.messages: list[tuple[str, bytes, bytes, bool]] = []  # topic base, key, value, dlq

    def address(self, local: str, domain: str = "acme-corp.com") -> str:
        value = f"{local}.{self.tag}@{domain}"
        self.addresses.append(value)
        return value

    def add(self, base: str, key: str, record: dict[str, Any] | bytes, dlq: bool) -> None:
        value = record if isinstance(record, bytes) else CODEC.encode(base, record)
        self.messages.append((base, key.encode(), value, dlq))

    @property
    def dead_letters(self) -> int:
        return sum(dlq for *_, dlq in self.messages)


def traffic(prefix: str) -> Traffic:
    t = Traffic(prefix)
    a = t.address
    cid = f"pii-{t.tag}"
    t.add("crm.accounts", "A-pii", account("A-pii", "acme-corp.com"), False)
    # Valid: a contact with an address, behaviour identified only by an address.
    t.add("crm.contacts", cid, contact(cid, a("vera")), False)
    t.add("events.web", cid, demo_request(f"demo-{t.tag}", cid, NOW - 1000), False)
    web_by_email = {"event_id": f"w-{t.tag}", "occurred_at": NOW - 2000, "type": "page_view",
                    "email": a("walter"), "page_category": "pricing", "url": "/pricing"}
    t.add("events.web", a("walter-key"), web_by_email, False)
    # Free text that holds an address: accepted, but must not surface anywhere.
    titled = {**contact(f"{cid}-t", a("tina")), "title": f"CTO, write to {a('tina-title')}"}
    t.add("crm.contacts", f"{cid}-t", titled, False)
    # Invalid addresses.
    for i, bad in enumerate([f"{a('ivan')}".replace("@acme-corp.com", "@localhost"),
                             a("olga").replace("@", "@@"), f"{a('no-tld')}".split(".com")[0]]):
        t.add("crm.contacts", f"{cid}-bad{i}", contact(f"{cid}-bad{i}", bad), True)
    # Addresses in the wrong fields.
    t.add("events.intent", a("intent-key"),
          {"event_id": f"i-{t.tag}", "occurred_at": NOW - 1000, "type": "topic_surge",
           "domain": a("dom"), "topic": "crm", "strength": 50, "provider": "bombora"}, True)
    t.add("crm.accounts", f"A-{t.tag}", account(f"A-{t.tag}", a("acct")), True)
    t.add("sales.reps", f"rep-{t.tag}",
          {"event_id": f"r-{t.tag}", "occurred_at": NOW - 1000, "rep_id": f"rep-{t.tag}",
           "active": True, "pools": ["na:mid_market"], "territories": ["NA"],
           "timezone": a("tz")}, True)
    t.add("sales.activity", cid,
          {"event_id": f"s-{t.tag}", "occurred_at": NOW - 1000, "contact_id": cid,
           "type": "rejected", "reason_code": None, "rep_id": a("rep")}, True)
    t.add("events.web", cid,
          {"event_id": f"f-{t.tag}", "occurred_at": NOW + 10**10, "type": "page_view",
           "contact_id": cid, "page_category": "docs", "email": a("future")}, True)
    t.add("events.web", cid, {"event_id": "", "occurred_at": NOW - 1000, "type": "page_view",
                              "contact_id": a("cid-field"), "page_category": "docs"}, True)
    # Undecodable: random bytes around an address, another topic's record, truncated.
    t.add("events.web", a("junk-key"), b"\x00\xff" + a("junk").encode() + b"\x01", True)
    t.add("events.email", cid, CODEC.encode("crm.contacts", contact(cid, a("wrong-schema"))),
          True)
    t.add("events.product", cid, CODEC.encode("crm.contacts", contact(cid, a("cut")))[:40],
          True)
    return t


def leaks(text: str, addresses: list[str]) -> list[str]:
    found = [m.group(0) for m in EMAIL_SHAPED.finditer(text)]
    found += [address for address in addresses if address in text]
    local_parts = {address.split("@")[0] for address in addresses}
    found += [local for local in local_parts if local in text]
    return found


async def test_no_email_address_in_logs_metrics_dead_letters_or_the_projection(
    bootstrap: str, settings: Settings, unique_prefix: str, tmp_path: Path,
) -> None:
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data",
                     REDIS_URL=settings.redis_url or "")
    s = from_env(env)
    await ensure_topics(s)
    t = traffic(unique_prefix)
    worker = Worker(env, tmp_path / "worker.log").start()
    contacts = await Tail(bootstrap, s.topics.qualification_contacts,
                          "qualification.contacts").start()
    p = await producer(bootstrap)
    try:
        for base, key, value, _ in t.messages:
            await p.send_and_wait(s.topics.name(base), key=key, value=value)
        dead_letters = await consume_until(bootstrap, s.topics.dlq,
                                           lambda records: len(records) >= t.dead_letters, 90)
        _, vera, _ = await contacts.wait_for(
            lambda k, v: k == f"pii-{t.tag}" and v is not None
            and v["last_event_id"] == f"demo-{t.tag}", timeout=60)
        _, walter, _ = await contacts.wait_for(
            lambda k, v: v is not None and v["last_event_id"] == f"w-{t.tag}", timeout=30)
        walter_id = next(k for k, v, _ in contacts.records
                         if v is not None and v["last_event_id"] == f"w-{t.tag}")
        projected = await _projected(settings.redis_url or "", [f"pii-{t.tag}", walter_id])
        with urllib.request.urlopen(f"{worker.web}/metrics", timeout=10) as answer:  # noqa: S310
            metrics = answer.read().decode()
    finally:
        await p.stop()
        await contacts.stop()
        code = worker.stop()
    assert code in (0, -15), worker.log_tail()
    assert len(dead_letters) == t.dead_letters  # every invalid record, nothing else

    checked: dict[str, str] = {"worker log": worker.log_path.read_text(errors="replace"),
                               "/metrics": metrics}
    assert "qualstream_dlq_records_total" in metrics and len(checked["worker log"]) > 1000
    codec = codec_for(None)
    for i, msg in enumerate(dead_letters):
        record = codec.decode("qualification.dlq", msg.value)
        why = [str(record[f]) for f in ("stage", "error_class", "error_message", "origin_topic")]
        why += [f"{name}={(value or b'').decode(errors='replace')}"
                for name, value in msg.headers]
        checked[f"dead letter {i}"] = " ".join(why)
    for contact_id, values in projected.items():
        checked[f"redis {contact_id}"] = " ".join(f"{k}={v}" for k, v in values.items())
    # Every other topic the worker wrote (outputs, internal topics, table changelogs) as raw
    # bytes: no address sent may appear (inputs and the DLQ hold the originals by contract).
    originals = {s.topics.name(base) for base, *_ in t.messages} | {s.topics.dlq}
    written = await _written_bytes(bootstrap, unique_prefix, originals)
    assert any("changelog" in topic for topic in written), sorted(written)
    raw_found = {topic: [a for a in t.addresses + [x.split("@")[0] for x in t.addresses]
                         if a.encode() in blob] for topic, blob in written.items()}
    assert not any(raw_found.values()), {k: v for k, v in raw_found.items() if v}
    assert vera is not None and walter is not None
    assert walter_id is not None and t.tag not in walter_id  # an address-identified contact

    found = {where: leaks(text, t.addresses) for where, text in checked.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}
    print(f"scanned {len(checked)} texts ({sum(map(len, checked.values()))} chars) and "
          f"{len(written)} topics ({sum(map(len, written.values()))} bytes) for "
          f"{len(t.addresses)} addresses sent in {len(t.messages)} records: no leak")


async def _projected(url: str, contact_ids: list[str], timeout: float = 30.0
                     ) -> dict[str, dict[str, str]]:
    """The Redis hashes of ``contact_ids`` once the projection has written them all."""
    redis = Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            found = {cid: await redis.hgetall(f"qs:contact:{cid}") for cid in contact_ids}
            if all(found.values()):
                return {cid: {k.decode(): v.decode() for k, v in h.items()}
                        for cid, h in found.items()}
            assert time.monotonic() < deadline, f"not projected: {found}"
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


async def _written_bytes(bootstrap: str, prefix: str, skip: set[str],
                         idle_s: float = 3.0) -> dict[str, bytes]:
    """Keys and values of every record of the topics under ``prefix`` but ``skip``, read
    until nothing arrives for ``idle_s`` (end offsets are not trusted on Tansu)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, fetch_max_wait_ms=100)
    await consumer.start()
    blobs: dict[str, bytearray] = {}
    try:
        topics = [name for name in await consumer.topics()
                  if name.startswith(prefix) and name not in skip]
        partitions = [TopicPartition(name, n) for name in topics
                      for n in sorted(consumer.partitions_for_topic(name) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < idle_s:
            batch = await consumer.getmany(timeout_ms=200)
            if batch:
                idle_since = time.monotonic()
            for tp, records in batch.items():
                blob = blobs.setdefault(tp.topic, bytearray())
                for record in records:
                    value = record.value or b""
                    if value and tp.topic.endswith("-contacts-changelog"):
                        value = readable(value).encode()  # its body is deflated
                    blob += (record.key or b"") + b"\n" + value + b"\n"
    finally:
        await consumer.stop()
    return {topic: bytes(blob) for topic, blob in blobs.items()}
