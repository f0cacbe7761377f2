"""Transport security end to end: a worker and the generator over mutual TLS to the broker and
over TLS to Redis as an ACL user; wrong CA, missing client certificate and missing or wrong
Redis credentials are refused.

Neither the embedded Tansu build nor the redis-server here speaks TLS (Tansu accepts ``--cert``
but its listener stays plaintext, measured), so a TLS-terminating proxy with a throwaway CA
stands in front of each (``tls_proxy.py``); the broker advertises the proxy's port, so every
connection the clients make goes through TLS. SASL/SCRAM has no server here: its client
settings are covered by the unit tests (tests/unit/test_security_config.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from streams.config import Settings, from_env
from streams.devstack import (
    BrokerHandle,
    RedisHandle,
    create_topics,
    free_port,
    start_broker,
    start_redis,
)
from streams.generate import produce
from streams.security import RedisSecurity, kafka_client_kwargs, kafka_security_from_env
from tests.certs import TlsFiles, make_tls_files
from tests.integration.support import Worker, producer, send, worker_env
from tests.integration.test_redis_projection import counted, projecting, snapshot
from tests.integration.tls_proxy import TlsProxy, server_context

pytestmark = pytest.mark.integration

ACL_USER = "qualstream"
ACL_PASSWORD = "acl-Pw-" + uuid.uuid4().hex
ADMIN_PASSWORD = "admin-Pw-" + uuid.uuid4().hex


@dataclass
class AclRedis:
    """Our own redis-server whose default user is off: only ACL users get in."""

    handle: RedisHandle

    @property
    def port(self) -> int:
        return int(self.handle.url.rsplit(":", 1)[1].split("/")[0])

    def admin(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, username="admin",
                           password=ADMIN_PASSWORD)

    def contact_keys(self) -> list[bytes]:
        with self.admin() as r:
            return list(r.scan_iter("qs:contact:*"))


@pytest.fixture(scope="module")
def acl_redis() -> Iterator[AclRedis]:
    with start_redis(env={}) as handle:  # always our own: we switch its default user off
        r = redis.Redis.from_url(handle.url)
        r.execute_command("ACL", "SETUSER", "admin", "on", f">{ADMIN_PASSWORD}", "~*", "&*",
                          "+@all")
        # What the projection needs and no more: its own key space, no admin commands.
        r.execute_command("ACL", "SETUSER", ACL_USER, "on", f">{ACL_PASSWORD}", "resetkeys",
                          "~qs:*", "+@all", "-@dangerous")
        r.execute_command("ACL", "SETUSER", "default", "off")
        r.close()
        yield AclRedis(handle)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@dataclass
class SecureBroker:
    broker: BrokerHandle
    proxy: TlsProxy

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.proxy.port}"


@pytest.fixture(scope="module")
def secure_broker(tls: TlsFiles) -> Iterator[SecureBroker]:
    """Tansu reachable only through a TLS proxy that requires a client certificate."""
    port = free_port()
    with start_broker(advertised_port=port) as broker:
        target = ("127.0.0.1", int(broker.bootstrap.rsplit(":", 1)[1]))
        context = server_context(tls.server_cert, tls.server_key, client_ca=tls.ca)
        with TlsProxy(port, target, context) as proxy:
            yield SecureBroker(broker, proxy)


def tls_env(tls: TlsFiles, cafile: Path | None = None, client_cert: bool = True
            ) -> dict[str, str]:
    env = {"QUALSTREAM_KAFKA_SECURITY_PROTOCOL": "SSL",
           "QUALSTREAM_KAFKA_SSL_CAFILE": str(cafile or tls.ca)}
    if client_cert:
        env.update(QUALSTREAM_KAFKA_SSL_CERTFILE=str(tls.client_cert),
                   QUALSTREAM_KAFKA_SSL_KEYFILE=str(tls.client_key))
    return env


async def test_worker_and_generator_over_mutual_tls_and_rediss_as_an_acl_user(
    tls: TlsFiles, secure_broker: SecureBroker, acl_redis: AclRedis, tmp_path: Path,
    unique_prefix: str,
) -> None:
    password_file = tmp_path / "redis-password"
    password_file.write_text(ACL_PASSWORD + "\n")
    redis_target = ("127.0.0.1", acl_redis.port)
    redis_context = server_context(tls.server_cert, tls.server_key)
    with TlsProxy(free_port(), redis_target, redis_context) as redis_proxy:
        env = worker_env(
            secure_broker.bootstrap, unique_prefix, tmp_path / "data",
            QUALSTREAM_ONE_RECORD_BATCHES="1", QUALSTREAM_FETCH_MAX_WAIT_MS="20",
            REDIS_URL=f"rediss://127.0.0.1:{redis_proxy.port}/0",
            QUALSTREAM_REDIS_USERNAME=ACL_USER,
            QUALSTREAM_REDIS_PASSWORD_FILE=str(password_file),
            QUALSTREAM_REDIS_SSL_CAFILE=str(tls.ca), **tls_env(tls))
        worker = Worker(env, tmp_path / "worker.log").start()
        try:
            settings = from_env(env)
            await produce(settings, seed=11, rate=0, count=200)  # the generator, over TLS too
            before = set(acl_redis.contact_keys())

            def projected() -> bool:
                assert worker.alive(), worker.log_tail()
                return bool(set(acl_redis.contact_keys()) - before)

            await _until(projected, "a contact projected into Redis", timeout=90)
        finally:
            assert worker.stop() == 0, worker.log_tail()
        assert secure_broker.proxy.handshakes > 0 and redis_proxy.handshakes > 0
        log = (tmp_path / "worker.log").read_text(errors="replace")
        for secret in (ACL_PASSWORD, ADMIN_PASSWORD):
            assert secret not in log


@pytest.mark.parametrize("case", ["untrusted CA", "no client certificate", "plaintext"])
async def test_kafka_clients_refuse_or_are_refused_without_the_right_tls(
    case: str, tls: TlsFiles, secure_broker: SecureBroker, tmp_path: Path,
) -> None:
    if case == "untrusted CA":
        env = tls_env(tls, cafile=make_tls_files(tmp_path / "other", "other CA").ca)
    elif case == "no client certificate":
        env = tls_env(tls, client_cert=False)
    else:
        env = {}
    security = kafka_client_kwargs(kafka_security_from_env(env))
    with pytest.raises(Exception) as caught:  # noqa: B017 - aiokafka's error varies by case
        await asyncio.wait_for(create_topics(
            secure_broker.bootstrap, [f"refused-{uuid.uuid4().hex[:6]}"], 1,
            security=security, timeout_ms=5000), 60)
    assert "KafkaConnectionError" in type(caught.value).__name__ or isinstance(
        caught.value, (ConnectionError, TimeoutError)), repr(caught.value)


async def test_projection_is_refused_without_the_acl_user_and_works_with_it(
    settings: Settings, acl_redis: AclRedis,
) -> None:
    fast = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{acl_redis.port}/0",
                               fetch_max_wait_ms=20, session_timeout_s=6.0,
                               heartbeat_interval_s=1.0, partitions=1)
    topic = fast.topics.qualification_contacts
    await create_topics(fast.kafka_bootstrap_servers, [topic], 1, compacted=[topic])
    contact_id = f"acl-{uuid.uuid4().hex[:8]}"
    prod = await producer(fast.kafka_bootstrap_servers)
    try:
        await send(prod, topic, "qualification.contacts", contact_id,
                   snapshot(contact_id, 1, int(time.time() * 1000)))
    finally:
        await prod.stop()
    key = f"qs:contact:{contact_id}".encode()

    for refused in (RedisSecurity(), RedisSecurity(ACL_USER, "wrong-password")):
        async with projecting(dataclasses.replace(fast, redis_security=refused)) as projection:
            await _until(lambda p=projection: counted(
                p.metrics, "qualstream_projection_errors_total", kind="redis_auth") >= 2,
                f"two refused attempts with {refused!r}")
            assert counted(projection.metrics, "qualstream_projection_writes_total",
                           result="applied") == 0
        assert key not in acl_redis.contact_keys()

    allowed = RedisSecurity(ACL_USER, ACL_PASSWORD)
    async with projecting(dataclasses.replace(fast, redis_security=allowed)):
        await _until(lambda: key in acl_redis.contact_keys(), "the write as the ACL user")


async def _until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s")
