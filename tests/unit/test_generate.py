"""The traffic generator: seeded, shaped as configured, and every good record decodes."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from streams.generate import BAD_KINDS, COMPETITOR_DOMAINS, Draft, TrafficConfig, TrafficGenerator

codecs = pytest.importorskip("streams.codecs", reason="streams.codecs is not written yet")

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CODEC: Any = codecs.codec_for(None)
BEHAVIOUR = 20_000


def run(seed: int, config: TrafficConfig | None = None, n: int = BEHAVIOUR) -> list[Draft]:
    generator = TrafficGenerator(CODEC, seed, NOW_MS, config or TrafficConfig())
    return list(generator.reference_data()) + [generator.next_behaviour() for _ in range(n)]


@pytest.fixture(scope="module")
def drafts() -> list[Draft]:
    return run(seed=42)


def test_the_same_seed_gives_the_same_bytes() -> None:
    first = TrafficGenerator(CODEC, 7, NOW_MS, TrafficConfig())
    second = TrafficGenerator(CODEC, 7, NOW_MS, TrafficConfig())
    assert list(itertools.islice(first, 3000)) == list(itertools.islice(second, 3000))


def test_another_seed_gives_other_traffic() -> None:
    assert [d.value for d in run(1, n=200)] != [d.value for d in run(2, n=200)]


def test_reference_data_comes_first(drafts: list[Draft]) -> None:
    config = TrafficConfig()
    kinds = [d.kind for d in drafts]
    reference = [k for k in kinds if k in ("rep", "account", "contact")]
    assert kinds[: len(reference)] == reference
    counts = Counter(reference)
    assert counts["rep"] == config.reps
    assert counts["account"] == config.accounts
    assert counts["contact"] >= config.accounts + config.free_mail_contacts


def test_mix_follows_the_configured_shares(drafts: list[Draft]) -> None:
    config = TrafficConfig()
    behaviour = [d for d in drafts if d.kind not in ("rep", "account", "contact")]
    kinds = Counter("bad" if d.kind.startswith("bad:") else d.kind for d in behaviour)
    n = len(behaviour)
    assert kinds["bad"] / n == pytest.approx(config.bad_ratio, rel=0.25)
    assert kinds["bot"] / n == pytest.approx(config.bot_ratio, rel=0.25)
    assert kinds["internal"] / n == pytest.approx(config.internal_ratio, rel=0.3)
    good_total = sum(config.mix.values())
    good_n = sum(kinds[k] for k in config.mix)
    for kind, weight in config.mix.items():
        assert kinds[kind] / good_n == pytest.approx(weight / good_total, rel=0.2), kind
    assert {d.kind.removeprefix("bad:") for d in behaviour if d.kind.startswith("bad:")} == set(
        BAD_KINDS
    )


def test_bad_ratio_is_configurable() -> None:
    drafts = run(3, TrafficConfig(bad_ratio=0.2), n=5000)
    bad = sum(d.kind.startswith("bad:") for d in drafts) / 5000
    assert bad == pytest.approx(0.2, rel=0.15)
    assert not any(d.kind.startswith("bad:") for d in run(3, TrafficConfig(bad_ratio=0), n=3000))


def test_every_good_record_decodes_to_what_was_encoded(drafts: list[Draft]) -> None:
    for draft in drafts:
        if draft.kind.startswith("bad:"):
            continue
        assert draft.record is not None
        decoded = CODEC.decode(draft.topic_base, draft.value)
        assert {k: decoded[k] for k in draft.record} == draft.record, draft.kind


def test_malformed_bad_records_do_not_decode(drafts: list[Draft]) -> None:
    malformed = [d for d in drafts if d.kind in ("bad:random_bytes", "bad:truncated")]
    assert malformed
    for draft in malformed:
        with pytest.raises(codecs.SerializationError):
            CODEC.decode(draft.topic_base, draft.value)


def test_contract_breaking_bad_records_say_how(drafts: list[Draft]) -> None:
    by_kind = {d.kind: d for d in drafts if d.kind.startswith("bad:")}
    assert CODEC.decode("events.email", by_kind["bad:missing_event_id"].value)["event_id"] == ""
    future = CODEC.decode("events.email", by_kind["bad:future_timestamp"].value)
    assert future["occurred_at"] > NOW_MS + 7 * 86_400_000
    with pytest.raises(codecs.SerializationError):
        CODEC.decode("events.email", by_kind["bad:wrong_schema"].value)


def test_event_clock_starts_at_now_and_only_moves_forward(drafts: list[Draft]) -> None:
    times = [
        d.record["occurred_at"]
        for d in drafts
        if d.record is not None and d.kind not in ("duplicate", "bad:future_timestamp")
    ]
    assert times[0] == NOW_MS
    assert times == sorted(times)
    # ~200 ms per message by default: 20k messages cover about an hour of event time.
    assert NOW_MS + 1_000_000 < times[-1] < NOW_MS + 10_000_000


def test_population_looks_like_a_b2b_funnel(drafts: list[Draft]) -> None:
    accounts = [d.record for d in drafts if d.kind == "account" and d.record]
    contacts = [d.record for d in drafts if d.kind == "contact" and d.record]
    assert {a["domain"] for a in accounts} >= set(COMPETITOR_DOMAINS)
    assert any(a["region"] == "LATAM" for a in accounts)
    assert any(a["is_customer"] for a in accounts)
    assert any(a["owner_rep_id"] for a in accounts)
    sizes = [a["employee_count"] for a in accounts if a["employee_count"]]
    assert min(sizes) < 200 and max(sizes) >= 2000
    assert any(c["account_id"] is None for c in contacts)  # free-mail contacts
    assert len({c["persona"] for c in contacts}) >= 5


def test_sessions_share_a_session_id(drafts: list[Draft]) -> None:
    sessions = Counter(
        d.record["session_id"] for d in drafts if d.kind == "web" and d.record is not None
    )
    assert max(sessions.values()) > 1


def test_behaviour_sales_forms_and_bots_are_there(drafts: list[Draft]) -> None:
    forms = Counter(d.record["form_type"] for d in drafts if d.kind == "form" and d.record)
    assert forms["demo_request"] > 0 and forms["contact_sales"] > 0
    bots = [d.record for d in drafts if d.kind == "bot" and d.record]
    assert all("bot" in r["user_agent"].lower() for r in bots)
    duplicates = [d for d in drafts if d.kind == "duplicate"]
    originals = {d.value for d in drafts if d.kind != "duplicate"}
    assert duplicates and all(d.value in originals for d in duplicates)
