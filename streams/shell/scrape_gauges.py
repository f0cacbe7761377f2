"""Gauges computed when /metrics is scraped: table sizes, open SLA clocks, consumer lag."""

from __future__ import annotations

import logging
from collections import Counter
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from streams.core.sla_rules import KINDS

if TYPE_CHECKING:
    import faust

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.metrics")


def ready(app: faust.App) -> bool:
    """Table recovery finished: the worker serves current state (what /readyz answers)."""
    recovery = getattr(app.tables, "recovery", None)
    return recovery is not None and recovery.completed.is_set()


@cache
def package_version() -> str:
    try:
        return version("qualstream")
    except PackageNotFoundError:  # run from a source tree without an install
        return "unknown"


def agent_topics(p: Pipeline) -> list[str]:
    """The topics the agents consume (inputs and internal hops; not table changelogs)."""
    names: list[str] = []
    for key in ("sources", "contact_inputs", "account_inputs", "routing"):
        names.extend(p.topics[key].topics)
    return sorted(set(names))


def consumer_lag(consumer: Any, topics: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Per topic: messages between the committed offset and the end offset of each assigned
    partition, and the number of assigned partitions.

    Reads only what the consumer already knows (the end offsets its last fetches reported and
    the offsets Faust committed): no broker round trip per scrape. A partition whose end offset
    is not known yet is left out of the lag; one with nothing committed counts from the offset
    Faust last read, else from 0 (the group reads from the earliest offset).
    """
    wanted = set(topics)
    lag: Counter[str] = Counter()
    assigned: Counter[str] = Counter()
    for tp in consumer.assignment():
        if tp.topic not in wanted:
            continue
        assigned[tp.topic] += 1
        try:
            end = consumer.highwater(tp)
        except AssertionError:  # aiokafka: revoked since assignment() was read
            continue
        if end is None:
            continue
        done = consumer._committed_offset.get(tp)
        if done is None:
            read = consumer._read_offset.get(tp)
            done = read + 1 if read is not None else 0
        lag[tp.topic] += max(0, end - done)
    return lag, assigned


def refresh(p: Pipeline) -> None:
    """Set every scrape-time gauge of ``p.metrics`` from the worker's current state."""
    m = p.metrics
    m.build_info.labels(package_version(), p.model.version).set(1)
    m.ready.set(1 if ready(p.app) else 0)
    for name, table in p.tables.items():
        # the contacts table may hold millions of keys: counted as they come, not walked
        m.table_keys.labels(name).set(p.contact_keys() if name == "contacts" else len(table))
    open_slas = p.open_sla_timers()
    for kind in KINDS:
        m.sla_open_timers.labels(kind).set(open_slas[kind])
    topics = agent_topics(p)
    try:
        lag, assigned = consumer_lag(p.app.consumer, topics)
    except Exception:  # noqa: BLE001 - e.g. no consumer yet during a rebalance; scrape anyway
        log.debug("consumer lag unavailable", exc_info=True)
        return
    for topic in topics:
        base = p.topic_base(topic)
        m.consumer_lag.labels(base).set(lag[topic])
        m.assigned_partitions.labels(base).set(assigned[topic])
