"""Bytes per contact held in the contacts table: in memory and in RocksDB, real records.

The records are the contact agent's table values (``streams.shell.contact_rows`` bytes:
header with offset, partition and deadline, then the deflated state) of contacts folded
through the pure core from generated traffic, then repeated under new contact ids up to the
wanted count (each row encoded again with its own id). Run in a child process
(``python -m streams.bench.state_size memory|rocksdb COUNT DIR``) so that the RSS delta is
this table's alone.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streams.bench import traffic
from streams.config import DEFAULT_MODEL_PATH, from_env

if TYPE_CHECKING:
    from streams.core.contact_state import ContactState

SAMPLE_EVENTS = 20_000
Sample = tuple["ContactState", int, "int | None"]  # state, offset, deadline


def sample_values(events: int = SAMPLE_EVENTS) -> list[Sample]:
    """The states (with offset and deadline) of the contacts that ``events`` generated
    behaviour messages make."""
    from streams.codecs import codec_for
    from streams.core import contact as core
    from streams.core.account import profiled
    from streams.core.account_events import AccountInput
    from streams.core.events import ContactInput, Origin
    from streams.core.model import parse_model
    from streams.ingest.errors import InvalidRecord
    from streams.ingest.normalise import normalise
    from streams.shell.app import ingest_policy

    codec = codec_for(None)
    model = parse_model(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    policy = ingest_policy(model, from_env({}))
    now = int(time.time() * 1000)
    states: dict[str, core.ContactState] = {}
    offsets: dict[str, int] = {}
    firmographics: dict[str, Any] = {}
    for offset, draft in enumerate(traffic.behaviour(events)):
        if draft.record is None or draft.kind.startswith("bad:"):
            continue
        try:
            out = normalise(draft.topic_base, draft.key,
                            codec.decode(draft.topic_base, draft.value),
                            Origin(draft.topic_base, 0, offset), now, policy)
        except (InvalidRecord, ValueError):
            continue
        if isinstance(out, AccountInput):
            facts = getattr(out.payload, "domain", None)
            if facts is not None and draft.topic_base == "crm.accounts":
                firmographics[out.domain] = profiled(out.payload)  # type: ignore[arg-type]
            continue
        if not isinstance(out, ContactInput):
            continue
        new, _ = core.apply(states.get(out.contact_id), out, model)
        if new is not None and new.account is None and new.email_domain in firmographics:
            joined = ContactInput(out.contact_id, firmographics[new.email_domain],
                                  Origin("firmographics", 0, offset))
            new, _ = core.apply(new, joined, model)
        if new is not None:
            states[out.contact_id] = new
            offsets[out.contact_id] = offset
    return [(s, offsets[cid], core.next_down_crossing(s, model)) for cid, s in states.items()]


def table_items(count: int, samples: list[Sample],
                partition_of: Callable[[str], int] = lambda _: 0) -> Iterator[tuple[str, bytes]]:
    """``count`` (contact id, table value) pairs cycling through ``samples`` with new ids:
    the rows the contact agent writes (``contact_rows.contact_row``)."""
    from streams.core.sla import SlaState
    from streams.shell.contact_rows import contact_row

    no_clocks = SlaState()
    for i in range(count):
        state, offset, deadline = samples[i % len(samples)]
        cid = f"con-{i:08d}"
        yield cid, contact_row(replace(state, contact_id=cid), no_clocks, partition_of(cid),
                               offset, deadline)


def rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def memory_bytes_per_contact(count: int) -> float:
    """RSS delta of holding ``count`` rows in a dict, as the memory store does (it keeps the
    values it is given: the row bytes)."""
    samples = sample_values()
    gc.collect()
    before = rss_bytes()
    table: dict[str, Any] = {}
    for cid, row in table_items(count, samples):
        table[cid] = row
    gc.collect()
    return (rss_bytes() - before) / len(table)


def rocksdb_bytes_per_contact(count: int, directory: Path) -> float:
    """On-disk size of ``count`` values written the way Faust's RocksDB store writes them
    (JSON key, raw row value, Faust's own RocksDB options), after a flush and a full
    compaction."""
    from faust.stores.rocksdb import RocksDBOptions
    from rocksdict import WriteBatch

    samples = sample_values()
    directory.mkdir(parents=True, exist_ok=True)
    db = RocksDBOptions().open(directory / "contacts-0.db")
    batch = WriteBatch(raw_mode=True)
    for n, (cid, raw) in enumerate(table_items(count, samples), 1):
        batch.put(json.dumps(cid).encode(), raw)
        if n % 10_000 == 0:
            db.write(batch)
            batch = WriteBatch(raw_mode=True)
    db.write(batch)
    db.flush()
    db.compact_range(None, None)
    db.close()
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    return size / count


def main(argv: list[str]) -> None:
    kind, count = argv[0], int(argv[1])
    if kind == "memory":
        result = memory_bytes_per_contact(count)
    else:
        result = rocksdb_bytes_per_contact(count, Path(argv[2]))
    print(json.dumps({"bytes_per_contact": result, "contacts": count,
                      "samples": len(sample_values(2_000)) if kind == "probe" else None}))


if __name__ == "__main__":
    main(sys.argv[1:])
