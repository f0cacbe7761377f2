"""Settings: every environment variable the product reads, with its documented default."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from streams.security import (
    MASK,
    KafkaSecurity,
    RedisSecurity,
    kafka_security_from_env,
    mask_url,
    read_secret,
    redis_security_from_env,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = PACKAGE_DIR / "models" / "default.toml"


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names; every name gets the configurable prefix."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def web(self) -> str:
        return self.name("events.web")

    @property
    def email(self) -> str:
        return self.name("events.email")

    @property
    def product(self) -> str:
        return self.name("events.product")

    @property
    def intent(self) -> str:
        return self.name("events.intent")

    @property
    def crm_contacts(self) -> str:
        return self.name("crm.contacts")

    @property
    def crm_accounts(self) -> str:
        return self.name("crm.accounts")

    @property
    def reps(self) -> str:
        return self.name("sales.reps")

    @property
    def activity(self) -> str:
        return self.name("sales.activity")

    @property
    def qualification_events(self) -> str:
        return self.name("qualification.events")

    @property
    def qualification_contacts(self) -> str:
        return self.name("qualification.contacts")

    @property
    def qualification_accounts(self) -> str:
        return self.name("qualification.accounts")

    @property
    def assignments(self) -> str:
        return self.name("routing.assignments")

    @property
    def sla_events(self) -> str:
        return self.name("sla.events")

    @property
    def dlq(self) -> str:
        return self.name("qualification.dlq")

    @property
    def contact_inputs(self) -> str:
        return self.name("qualstream.contact-inputs")

    @property
    def account_inputs(self) -> str:
        return self.name("qualstream.account-inputs")

    @property
    def routing(self) -> str:
        return self.name("qualstream.routing")

    def sales_sources(self) -> list[str]:
        """Input topics of the sales side: the rep roster and sales activity."""
        return [self.reps, self.activity]

    def contact_sources(self) -> list[str]:
        """Input topics whose records become contact inputs."""
        return [self.web, self.email, self.product, self.crm_contacts]

    def account_sources(self) -> list[str]:
        """Input topics whose records become account inputs."""
        return [self.crm_accounts, self.intent]


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    return float(raw) if raw not in (None, "") else default


def _env_bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, read once from the environment by :func:`from_env`."""

    kafka_bootstrap_servers: str = "localhost:9092"
    redis_url: str | None = None
    model_path: Path = DEFAULT_MODEL_PATH
    topic_prefix: str = ""
    web_port: int = 6066
    web_host: str = "127.0.0.1"
    app_id: str = "qualstream"
    data_dir: Path = Path(".qualstream-data")
    store: str = "rocksdb://"
    partitions: int = 4
    replication_factor: int = 1
    standby_replicas: int = 1
    commit_interval_s: float = 2.8
    # How long the producer waits to fill a batch: fewer, fuller produce requests (measured
    # on the embedded broker: a worker's largest cost was one request per send).
    producer_linger_ms: int = 5
    schema_registry_url: str | None = None
    # Tansu reports a wrong end offset for multi-record batches; one record per batch fixes it.
    one_record_batches: bool = False
    # Faust hard-codes a 1500 ms fetch long-poll; Tansu does not always answer a multi-partition
    # fetch early when data arrives, so each hop could wait up to that long. 0 keeps Faust's.
    fetch_max_wait_ms: int = 0
    session_timeout_s: float = 30.0
    heartbeat_interval_s: float = 3.0
    future_skew_ms: int = 5 * 60 * 1000
    tick_interval_s: float = 0.5  # how often due timers are looked for
    log_level: str = "info"
    demo_seconds: float = 60.0  # how long `qualstream demo` runs
    # Transport security and credentials (streams/security.py); secrets never in the repr.
    kafka_security: KafkaSecurity = KafkaSecurity()
    redis_security: RedisSecurity = RedisSecurity()
    # Bearer token of the HTTP API (/api/v1/...; QUALSTREAM_API_TOKEN or its _FILE); unset:
    # the API routes are disabled.
    api_token: str | None = None

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    def __repr__(self) -> str:
        """Like the dataclass repr, but URL passwords and secret-named fields are masked."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and any(s in f.name for s in ("password", "secret", "token")):
                shown = MASK
            elif f.name.endswith("_url") and isinstance(value, str):
                shown = repr(mask_url(value))
            else:
                shown = repr(value)
            parts.append(f"{f.name}={shown}")
        return f"Settings({', '.join(parts)})"


def from_env(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment)."""
    e = dict(os.environ if env is None else env)
    settings = Settings(
        kafka_bootstrap_servers=e.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
        redis_url=e.get("REDIS_URL") or None,
        model_path=Path(e.get("QUALSTREAM_MODEL") or DEFAULT_MODEL_PATH),
        topic_prefix=e.get("QUALSTREAM_TOPIC_PREFIX", ""),
        web_port=_env_int(e, "QUALSTREAM_WEB_PORT", 6066),
        web_host=e.get("QUALSTREAM_WEB_HOST", "127.0.0.1"),
        app_id=e.get("QUALSTREAM_APP_ID", "qualstream"),
        data_dir=Path(e.get("QUALSTREAM_DATA_DIR", ".qualstream-data")),
        store=e.get("QUALSTREAM_STORE", "rocksdb://"),
        partitions=_env_int(e, "QUALSTREAM_PARTITIONS", 4),
        replication_factor=_env_int(e, "QUALSTREAM_REPLICATION_FACTOR", 1),
        standby_replicas=_env_int(e, "QUALSTREAM_STANDBY_REPLICAS", 1),
        commit_interval_s=_env_float(e, "QUALSTREAM_COMMIT_INTERVAL_S", 2.8),
        producer_linger_ms=_env_int(e, "QUALSTREAM_PRODUCER_LINGER_MS", 5),
        schema_registry_url=e.get("QUALSTREAM_SCHEMA_REGISTRY_URL") or None,
        one_record_batches=_env_bool(e, "QUALSTREAM_ONE_RECORD_BATCHES", False),
        fetch_max_wait_ms=_env_int(e, "QUALSTREAM_FETCH_MAX_WAIT_MS", 0),
        session_timeout_s=_env_float(e, "QUALSTREAM_SESSION_TIMEOUT_S", 30.0),
        heartbeat_interval_s=_env_float(e, "QUALSTREAM_HEARTBEAT_INTERVAL_S", 3.0),
        future_skew_ms=_env_int(e, "QUALSTREAM_FUTURE_SKEW_MS", 5 * 60 * 1000),
        tick_interval_s=_env_float(e, "QUALSTREAM_TICK_INTERVAL_S", 0.5),
        log_level=e.get("QUALSTREAM_LOG_LEVEL", "info"),
        demo_seconds=_env_float(e, "DEMO_SECONDS", 60.0),
        kafka_security=kafka_security_from_env(e),
        redis_security=redis_security_from_env(e),
        api_token=read_secret(e, "QUALSTREAM_API_TOKEN"),
    )
    settings.redis_security.check_url(settings.redis_url)
    return settings


def to_env(settings: Settings) -> dict[str, str]:
    """The environment variables that make :func:`from_env` return ``settings`` (for workers
    started as child processes)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "QUALSTREAM_MODEL": str(settings.model_path),
        "QUALSTREAM_TOPIC_PREFIX": settings.topic_prefix,
        "QUALSTREAM_WEB_PORT": str(settings.web_port),
        "QUALSTREAM_WEB_HOST": settings.web_host,
        "QUALSTREAM_APP_ID": settings.app_id,
        "QUALSTREAM_DATA_DIR": str(settings.data_dir),
        "QUALSTREAM_STORE": settings.store,
        "QUALSTREAM_PARTITIONS": str(settings.partitions),
        "QUALSTREAM_REPLICATION_FACTOR": str(settings.replication_factor),
        "QUALSTREAM_STANDBY_REPLICAS": str(settings.standby_replicas),
        "QUALSTREAM_COMMIT_INTERVAL_S": str(settings.commit_interval_s),
        "QUALSTREAM_PRODUCER_LINGER_MS": str(settings.producer_linger_ms),
        "QUALSTREAM_ONE_RECORD_BATCHES": "1" if settings.one_record_batches else "0",
        "QUALSTREAM_FETCH_MAX_WAIT_MS": str(settings.fetch_max_wait_ms),
        "QUALSTREAM_SESSION_TIMEOUT_S": str(settings.session_timeout_s),
        "QUALSTREAM_HEARTBEAT_INTERVAL_S": str(settings.heartbeat_interval_s),
        "QUALSTREAM_FUTURE_SKEW_MS": str(settings.future_skew_ms),
        "QUALSTREAM_TICK_INTERVAL_S": str(settings.tick_interval_s),
        "QUALSTREAM_LOG_LEVEL": settings.log_level,
        "DEMO_SECONDS": str(settings.demo_seconds),
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    if settings.schema_registry_url:
        env["QUALSTREAM_SCHEMA_REGISTRY_URL"] = settings.schema_registry_url
    env.update(settings.kafka_security.env())
    env.update(settings.redis_security.env())
    if settings.api_token:
        env["QUALSTREAM_API_TOKEN"] = settings.api_token
    return env
