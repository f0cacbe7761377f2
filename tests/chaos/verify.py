"""What a chaos run is judged by: the published state against the pure core's recomputation,
and every output id against the ids the recomputation says must exist."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer

from streams.config import Topics, from_env
from streams.core import contact as core
from streams.core.account import AccountEffect, account_snapshot, profiled, recompute_accounts
from streams.core.account_events import AccountInput
from streams.core.contact_state import evaluate
from streams.core.effects import ContactEffect
from streams.core.events import ContactInput, ContactProfiled, Origin
from streams.core.model import ScoringModel
from streams.core.replay import recompute, recompute_partitions
from streams.ingest.normalise import normalise
from streams.shell.app import ingest_policy
from streams.shell.records import (
    account_input_from_record,
    account_state_record,
    contact_input_from_record,
    contact_state_record,
)
from tests.chaos.traffic import Row
from tests.integration.support import CODEC, Tail

# Outputs with a deterministic event id: a repeat must be a byte-identical replay.
OUTPUTS = ("qualification.events", "routing.assignments", "sla.events")


async def read_all(bootstrap: str, topic: str, quiet_s: float = 0.5,
                   timeout: float = 300) -> list[tuple[int, int, bytes | None, bytes | None]]:
    """Every record of ``topic`` in partition order: reads until it is past the end offsets
    seen at the start and then ``quiet_s`` pass without a new record. The end offsets are only
    a lower bound (Tansu reports them short for multi-record batches), never the stop."""
    from aiokafka import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_partition_fetch_bytes=4 << 20)
    await consumer.start()
    rows: list[tuple[int, int, bytes | None, bytes | None]] = []
    try:
        await consumer.topics()  # loads the metadata of every topic
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=int(quiet_s * 1000), max_records=20_000)
            for tp, msgs in batch.items():
                rows.extend((tp.partition, m.offset, m.key, m.value) for m in msgs)
            if not batch and all([await consumer.position(tp) >= ends[tp] for tp in partitions]):
                break
    finally:
        await consumer.stop()
    return sorted(rows, key=lambda r: (r[0], r[1]))


def applied_total(states: Tail) -> int:
    """Inputs counted by the latest published state of every contact."""
    return sum(v["events_applied"] for v in states.latest_by_key().values() if v)


async def settle(states: Tail, expected: Counter[str], timeout: float, bootstrap: str,
                 t: Topics, behind: list[str] | None = None) -> bool:
    """Wait until every contact's state counts all its inputs and the workers' group has
    committed every input that existed by then (the account agent may still be folding
    contributions when the contacts are complete), then a little longer so that an over-count
    would show too. False if that never happened."""
    def complete() -> bool:
        latest = states.latest_by_key()
        return all(latest.get(cid) and latest[cid]["events_applied"] >= n  # type: ignore[index]
                   for cid, n in expected.items())

    deadline = time.monotonic() + timeout
    while not complete() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    done = complete() and await drained(bootstrap, t, deadline - time.monotonic(), behind)
    await asyncio.sleep(2.0)
    return done and complete()


async def drained(bootstrap: str, t: Topics, timeout: float,
                  behind: list[str] | None = None) -> bool:
    """True once the app's consumer group has committed, on every input and internal topic,
    the end offsets seen before, and no new account input or routing request appeared
    meanwhile (ticks keep coming to the contact inputs, so those only need catching up)."""
    from aiokafka import TopicPartition

    behind = [] if behind is None else behind
    topics = [*t.contact_sources(), *t.account_sources(), *t.sales_sources(), t.contact_inputs,
              t.account_inputs, t.routing]
    # A consumer of the workers' group that never subscribes (so never joins it) reads the
    # group's committed offsets the way the workers do.
    group = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"{t.prefix}qualstream",
                             enable_auto_commit=False)
    await group.start()
    deadline = time.monotonic() + max(timeout, 30.0)
    try:
        await group.topics()
        tps = [TopicPartition(name, p) for name in topics
               for p in sorted(group.partitions_for_topic(name) or ())]
        previous: dict[Any, int] | None = None

        async def caught_up(ends: dict[Any, int]) -> bool:
            behind.clear()
            for tp in tps:
                committed = await group.committed(tp) or 0
                if ends[tp] > 0 and committed < ends[tp]:
                    behind.append(f"{tp.topic.removeprefix(t.prefix)}/{tp.partition}: {committed} < {ends[tp]}")
            return not behind

        while time.monotonic() < deadline:
            ends = await group.end_offsets(tps)
            while not await caught_up(ends):
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.5)
            quiet = {tp: end for tp, end in ends.items() if tp.topic != t.contact_inputs}
            if quiet == previous:
                return True
            previous = quiet
            await asyncio.sleep(1.0)
        return False
    finally:
        await group.stop()


@dataclass
class Verdict:
    """The judged figures of one run."""

    lost: int = 0
    double_counted: int = 0
    state_matches_recompute: bool = False
    duplicate_output_ids: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Nothing lost or double-counted, the state is the recomputation, every expected
        output id is present, none is unexpected, and every repeat is byte-identical."""
        d = self.details
        return (self.lost == 0 and self.double_counted == 0 and self.state_matches_recompute
                and d.get("missing_output_ids", 1) == 0 and d.get("unexpected_output_ids", 1) == 0
                and d.get("non_identical_duplicates", 1) == 0)


def counts(latest: dict[str, dict[str, Any] | None], expected: Counter[str]) -> tuple[int, int]:
    """(lost, double-counted) inputs: each contact's events_applied against what was sent."""
    lost = doubled = 0
    for cid, n in expected.items():
        state = latest.get(cid)
        got = state["events_applied"] if state else 0
        lost += max(0, n - got)
        doubled += max(0, got - n)
    return lost, doubled


async def verify(bootstrap: str, t: Topics, rows: list[Row], expected: Counter[str],
                 model: ScoringModel, now: int) -> Verdict:
    """Judge a finished run from the topics alone (read from the beginning)."""
    latest = await latest_by_key(bootstrap, t.qualification_contacts, "qualification.contacts")
    lost, doubled = counts(latest, expected)
    verdict = Verdict(lost=lost, double_counted=doubled)

    emitted: list[ContactEffect | AccountEffect] = []
    contact_records = [(partition, contact_input_from_record(
                           CODEC.decode("qualstream.contact-inputs", value)))
                       for partition, _, _, value in await read_all(bootstrap, t.contact_inputs)
                       if value is not None]
    contacts = recompute_partitions(contact_records, model, emitted)  # type: ignore[arg-type]
    account_records = [account_input_from_record(CODEC.decode("qualstream.account-inputs", value))
                       for _, _, _, value in await read_all(bootstrap, t.account_inputs)
                       if value is not None]
    accounts = recompute_accounts(account_records, model, emitted)  # type: ignore[arg-type]

    contact_mismatch = sorted(
        cid for cid in set(contacts) | set(latest)
        if cid not in contacts or latest.get(cid) is None
        or contact_state_record(core.snapshot(contacts[cid], model)) != latest[cid])
    published_accounts = await latest_by_key(bootstrap, t.qualification_accounts,
                                             "qualification.accounts")
    recomputed_accounts = {}
    for state in accounts.values():
        snap = account_snapshot(state, model)
        recomputed_accounts[snap.account_id] = account_state_record(snap)
    account_mismatch = sorted(
        key for key in set(recomputed_accounts) | set(published_accounts)
        if recomputed_accounts.get(key) != published_accounts.get(key))
    if account_mismatch:
        verdict.details["account_diff"] = field_diff(
            published_accounts.get(account_mismatch[0]),
            recomputed_accounts.get(account_mismatch[0]))
    if contact_mismatch and contact_mismatch[0] in contacts:
        verdict.details["contact_diff"] = field_diff(
            latest.get(contact_mismatch[0]),
            contact_state_record(core.snapshot(contacts[contact_mismatch[0]], model)))
    independent = independent_mismatches(rows, t, model, contacts, now)
    verdict.state_matches_recompute = not (contact_mismatch or account_mismatch or independent)

    expected_ids = {e.event_id for e in emitted if hasattr(e, "event_id")
                    and type(e).__name__ in ("StageChanged", "AccountStageChanged")}
    published = await output_ids(bootstrap, t)
    transitions = set(published["qualification.events"])
    verdict.duplicate_output_ids = sum(c - 1 for out in published.values()
                                       for c in Counter(out.elements()).values() if c > 1)
    verdict.details.update(
        contacts=len(contacts), accounts=len(accounts),
        contact_state_mismatches=len(contact_mismatch), mismatched_contacts=contact_mismatch[:5],
        account_state_mismatches=len(account_mismatch), mismatched_accounts=account_mismatch[:5],
        independent_recompute_mismatches=len(independent),
        transitions=len(transitions),
        missing_output_ids=len(expected_ids - transitions),
        unexpected_output_ids=len(transitions - expected_ids),
        unexpected_transitions=[
            {k: published.transitions[i].get(k) for k in (
                "entity_type", "entity_id", "from_stage", "to_stage", "trigger", "occurred_at",
                "caused_by")}
            for i in sorted(transitions - expected_ids)[:4]],
        non_identical_duplicates=published.non_identical,
        repeated_transitions=[
            {"entity_type": published.transitions[i].get("entity_type"),
             "trigger": published.transitions[i].get("trigger"),
             "to_stage": published.transitions[i].get("to_stage"),
             "positions": published.positions[i]}
            for i, n in sorted(published["qualification.events"].items()) if n > 1][:6],
        duplicates_by_topic={name: sum(c - 1 for c in ids.values() if c > 1)
                             for name, ids in published.items()},
    )
    return verdict


def field_diff(published: dict[str, Any] | None,
               recomputed: dict[str, Any] | None) -> dict[str, Any]:
    """The fields where a published record and its recomputation differ (for the report)."""
    if published is None or recomputed is None:
        return {"published": published is not None, "recomputed": recomputed is not None}
    return {k: {"published": published.get(k), "recomputed": recomputed.get(k)}
            for k in sorted(set(published) | set(recomputed))
            if published.get(k) != recomputed.get(k)}


class Published(dict[str, Counter[str]]):
    """Output event ids per topic (with multiplicity) and how many repeats differed."""

    non_identical: int = 0
    transitions: dict[str, dict[str, Any]]  # qualification.events by id (for the report)
    positions: dict[str, list[tuple[int, int]]]  # its (partition, offset)s, for repeats


async def output_ids(bootstrap: str, t: Topics) -> Published:
    published = Published()
    published.transitions = {}
    published.positions = {}
    for base in OUTPUTS:
        seen: dict[str, bytes | None] = {}
        ids: Counter[str] = Counter()
        for partition, offset, _, value in await read_all(bootstrap, t.name(base), quiet_s=0.5):
            if value is None:
                continue
            record = CODEC.decode(base, value)
            event_id = record["event_id"]
            if base == "qualification.events":
                published.transitions.setdefault(event_id, record)
                published.positions.setdefault(event_id, []).append((partition, offset))
            ids[event_id] += 1
            if event_id in seen and seen[event_id] != value:
                published.non_identical += 1
            seen.setdefault(event_id, value)
        published[base] = ids
    return published


async def latest_by_key(bootstrap: str, topic: str, base: str) -> dict[str, dict[str, Any] | None]:
    latest: dict[str, dict[str, Any] | None] = {}
    for _, _, key, value in await read_all(bootstrap, topic, quiet_s=0.5):
        if key is not None:
            latest[key.decode()] = None if value is None else CODEC.decode(base, value)
    return latest


def independent_mismatches(rows: list[Row], t: Topics, model: ScoringModel,
                           live: dict[str, Any], now: int) -> list[str]:
    """From the source events in the order they were produced (through the same validation
    and the account join, without any topic), the order-free parts agree with the state the
    topics give. Decay timers may have moved a contact's evaluation time past its last event,
    so both are scored at the live state's reference time."""
    independent = recompute(source_inputs(rows, t, model, now), model)
    wrong = sorted(set(independent) ^ set(live))
    for cid, state in independent.items():
        theirs_state = live.get(cid)
        if theirs_state is None:
            continue
        mine = evaluate(state, model, at_ms=theirs_state.ref_ms)
        theirs = evaluate(theirs_state, model)
        same = (state.events_applied == theirs_state.events_applied
                and mine.at_ms == theirs.at_ms
                and all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) for a, b in (
                    (mine.fit.score, theirs.fit.score), (mine.intent.intent, theirs.intent.intent),
                    (mine.total, theirs.total))))
        if not same:
            wrong.append(cid)
    return wrong


def source_inputs(rows: list[Row], t: Topics, model: ScoringModel,
                  now: int) -> list[ContactInput]:
    """The contact inputs the sources imply, with each contact's account firmographics."""
    policy = ingest_policy(model, from_env({}))
    accounts: dict[str, Any] = {}
    inputs: list[ContactInput] = []
    per_topic: defaultdict[str, int] = defaultdict(int)
    for base, key, record in rows:
        per_topic[base] += 1
        origin = Origin(t.name(base), 0, per_topic[base])
        out = normalise(base, key, record, origin, now + 60_000, policy)
        if isinstance(out, AccountInput):
            accounts[out.domain] = profiled(out.payload)  # type: ignore[arg-type]
        elif isinstance(out, ContactInput):
            inputs.append(out)
            payload = out.payload
            if isinstance(payload, ContactProfiled) and payload.email_domain in accounts:
                inputs.append(ContactInput(out.contact_id, accounts[payload.email_domain]))
    return inputs
