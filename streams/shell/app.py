"""The Faust application: topics, tables and agents wired in one place."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import faust
from faust.types import TopicT

from streams.adapters.metrics import Metrics
from streams.codecs import Codec, codec_for
from streams.config import Settings
from streams.core.model import ScoringModel
from streams.ingest.normalise import IngestPolicy
from streams.security import faust_credentials
from streams.shell.account_state import AccountStates
from streams.shell.deadline_index import DeadlineIndex
from streams.shell.last_written import LastWritten
from streams.shell.outbox import Outbox
from streams.shell.router_states import RouterStates
from streams.shell.strict_commits import install_strict_commits

if TYPE_CHECKING:
    from streams.core.contact_state import ContactState
    from streams.core.sla import SlaState
    from streams.shell.contact_rows import RowHeader

log = logging.getLogger("qualstream")
# Decoded contacts kept per worker (the most recently written; a few KB each).
CACHED_CONTACTS = 4096


def faust_settings(settings: Settings) -> dict[str, Any]:
    """Faust configuration for ``settings``; the Tansu workaround only when asked for."""
    conf: dict[str, Any] = {
        "broker": [f"kafka://{server}" for server in settings.kafka_bootstrap_servers.split(",")],
        "store": settings.store,
        "datadir": str(settings.data_dir),
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "consumer_auto_offset_reset": "earliest",
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": settings.heartbeat_interval_s,
        "broker_commit_interval": settings.commit_interval_s,
        "web_enabled": True,
        "web_port": settings.web_port,
        "web_bind": settings.web_host,
        "web_host": settings.web_host,
        "table_standby_replicas": settings.standby_replicas,
        "topic_allow_declare": True,
        "producer_acks": -1,
        "producer_linger": settings.producer_linger_ms / 1000,  # seconds
    }
    credentials = faust_credentials(settings.kafka_security)
    if credentials is not None:  # TLS (and SASL) for every client Faust makes
        conf["broker_credentials"] = credentials
    return conf


def set_fetch_max_wait(ms: int) -> None:
    """Shorten the consumer's fetch long-poll (Faust passes a fixed 1500 ms to aiokafka).

    Only for the embedded Tansu broker, which may hold a multi-partition fetch for the whole
    wait although data arrived: measured 750 ms extra on some hops. A real Kafka answers a
    fetch as soon as data arrives and needs no such setting.
    """
    from faust.transport.drivers import aiokafka as driver

    thread = driver.AIOKafkaConsumerThread
    original = getattr(thread, "_qualstream_original", thread._create_worker_consumer)

    def create(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = ms  # read by aiokafka when the consumer starts
        return consumer

    thread._qualstream_original = original  # type: ignore[attr-defined]
    thread._create_worker_consumer = create  # type: ignore[method-assign]


def ingest_policy(model: ScoringModel, settings: Settings) -> IngestPolicy:
    return IngestPolicy(
        free_mail_domains=frozenset(model.free_mail_domains),
        internal_domains=frozenset(model.internal_domains),
        internal_ip_prefixes=tuple(model.internal_ip_prefixes),
        bot_user_agent_patterns=tuple(model.bot_user_agent_patterns),
        future_skew_ms=settings.future_skew_ms,
    )


def wall_clock_ms() -> int:
    """The shell's only clock: passed into the core as an argument."""
    return int(time.time() * 1000)


@dataclass
class Pipeline:
    """Everything the agents share: settings, model, codec, topics, tables, metrics."""

    settings: Settings
    model: ScoringModel
    app: faust.App
    codec: Codec
    metrics: Metrics
    policy: IngestPolicy
    topics: dict[str, TopicT] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    _deadlines: dict[int, DeadlineIndex] = field(default_factory=dict)
    # per agent, sends not yet acknowledged by the broker (see streams/shell/outbox.py)
    outboxes: dict[str, Outbox] = field(
        default_factory=lambda: {"contact": Outbox(), "account": Outbox(), "router": Outbox()})
    # per input partition, the highest offset processed here, and the last one whose sends
    # are known acknowledged (see streams/shell/flush_marks.py)
    applied: dict[Any, int] = field(default_factory=dict)
    flushed: dict[Any, int] = field(default_factory=dict)
    first_written: dict[Any, int] = field(default_factory=dict)  # first row written since
    resent: set[tuple[Any, int]] = field(default_factory=set)  # assigned / outboxes resent
    router_states: RouterStates = field(default_factory=RouterStates)
    account_states: AccountStates = field(default_factory=AccountStates)
    # contact key -> (row header, state, SLA clocks) as the contact agent wrote it last
    contact_states: LastWritten[tuple[RowHeader, ContactState, SlaState]] = field(
        default_factory=lambda: LastWritten(CACHED_CONTACTS))

    async def send(self, slot: str, key: bytes, value: bytes | None) -> asyncio.Future[Any]:
        """Send to ``self.topics[slot]`` through the app's producer, not awaiting the broker.

        Faust's ``Topic.send`` yields to the event loop three times per message (the
        stampede guard around starting the producer): a loop iteration each, on every send of
        the hot path. Same partitioner (the key's hash), no Faust send sensors.
        """
        topic = self.topics[slot].get_topic_name()
        return cast("asyncio.Future[Any]", await self.app.producer.send(
            topic, key, value, partition=None, timestamp=None, headers=None))

    def deadlines(self, partition: int) -> DeadlineIndex:
        """The deadline index of one contact-inputs partition, rebuilt from the table the
        first time it is needed after an assignment."""
        index = self._deadlines.get(partition)
        if index is None:
            from streams.shell.contact_agent import rebuild_deadlines

            self._deadlines.update(rebuild_deadlines(self, partition))
            index = self._deadlines[partition]
        return index

    def indexed_partitions(self) -> set[int]:
        return set(self._deadlines)

    def contact_keys(self) -> int:
        """Keys of the contacts table on the partitions indexed here (counted by the rebuild
        scan, then per new key: ``len`` of a RocksDB table would read every key)."""
        return sum(index.keys for index in self._deadlines.values())

    def forget_deadlines(self, partitions: set[int]) -> None:
        for partition in partitions:
            self._deadlines.pop(partition, None)

    def open_sla_timers(self) -> Counter[str]:
        """SLA clocks running on the partitions whose deadlines this worker indexes, by kind."""
        total: Counter[str] = Counter()
        for index in self._deadlines.values():
            total.update(index.open_slas())
        return total

    def gapless_topics(self) -> frozenset[str]:
        """Topics whose offsets never legitimately skip (not compacted, no transactions)."""
        t = self.settings.topics
        compacted = {t.crm_contacts, t.crm_accounts, t.reps}
        names = {*t.contact_sources(), *t.account_sources(), *t.sales_sources(),
                 t.contact_inputs, t.account_inputs, t.routing}
        return frozenset(names - compacted)

    def topic_base(self, name: str) -> str:
        prefix = self.settings.topic_prefix
        return name[len(prefix):] if prefix and name.startswith(prefix) else name


def build_pipeline(settings: Settings, model: ScoringModel) -> Pipeline:
    """Create the Faust app with its topics, tables, agents and web pages."""
    if settings.fetch_max_wait_ms > 0:
        set_fetch_max_wait(settings.fetch_max_wait_ms)
    if settings.one_record_batches:
        # Tansu's ListOffsets(latest) is wrong for multi-record batches (DESIGN section 4):
        # with one record per changelog batch, table recovery sees the true end offset.
        from streams.shell.changelog_batches import one_record_changelog_batches

        one_record_changelog_batches()
    app = faust.App(settings.app_id, **faust_settings(settings))
    t = settings.topics
    pipeline = Pipeline(
        settings=settings,
        model=model,
        app=app,
        codec=codec_for(settings.schema_registry_url),
        metrics=Metrics(),
        policy=ingest_policy(model, settings),
    )
    # Never commit past an unprocessed offset of a gapless topic (see strict_commits).
    install_strict_commits(app, pipeline.gapless_topics())
    n = settings.partitions
    pipeline.topics["sources"] = app.topic(*t.contact_sources(), *t.account_sources(),
                                           *t.sales_sources())
    pipeline.topics["routing"] = app.topic(t.routing, partitions=n, internal=True)
    pipeline.topics["contact_inputs"] = app.topic(t.contact_inputs, partitions=n, internal=True)
    pipeline.topics["account_inputs"] = app.topic(t.account_inputs, partitions=n, internal=True)
    for name in ("qualification_events", "qualification_contacts", "qualification_accounts",
                 "dlq", "assignments", "sla_events"):
        pipeline.topics[name] = app.topic(getattr(t, name))
    pipeline.tables["contacts"] = app.Table(  # values: streams.shell.contact_rows bytes
        "contacts", default=None, partitions=n, key_type=str, value_type=bytes)
    pipeline.tables["accounts"] = app.Table(
        "accounts", default=None, partitions=n, key_type=str)
    pipeline.tables["router"] = app.Table(
        "router", default=None, partitions=n, key_type=str)

    from streams.shell import (
        account_agent,
        contact_agent,
        flush_marks,
        ingest_agent,
        router_agent,
        ticker,
        web,
    )
    from streams.shell.projection import register_projection

    ingest_agent.register(pipeline)
    contact_agent.register(pipeline)
    account_agent.register(pipeline)
    router_agent.register(pipeline)
    flush_marks.install(pipeline)
    ticker.register(pipeline)
    web.register(pipeline)
    register_projection(pipeline)  # Redis read model of qualification.contacts, if REDIS_URL
    return pipeline
