"""Security settings: environment -> Kafka/Redis client arguments and the TLS context; bad
combinations rejected with a clear error; secrets never in a repr; the hostname check is real."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from redis.asyncio.connection import SSLConnection

from streams.config import from_env, to_env
from streams.security import (
    RedisSecurity,
    SecurityConfigError,
    faust_credentials,
    kafka_client_kwargs,
    kafka_ssl_context,
    redis_client,
    redis_client_kwargs,
)
from streams.shell.app import faust_settings
from tests.certs import TlsFiles, make_tls_files

K = "QUALSTREAM_KAFKA_"
SASL_PASSWORD = "kafka-s3cret-Zq9"
REDIS_PASSWORD = "redis-s3cret-Wx7"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("other"), "some other CA")


def test_plaintext_by_default() -> None:
    s = from_env({})
    assert kafka_client_kwargs(s.kafka_security) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(s.kafka_security) is None
    assert "broker_credentials" not in faust_settings(s)
    assert redis_client_kwargs(s.redis_security, "redis://127.0.0.1:6379/0") == {}


def test_ssl_context_verifies_the_broker_against_the_configured_ca(tls: TlsFiles) -> None:
    s = from_env({f"{K}SECURITY_PROTOCOL": "ssl", f"{K}SSL_CAFILE": str(tls.ca)})
    context = kafka_ssl_context(s.kafka_security)
    assert context is not None
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    subjects = [dict(item[0] for item in ca["subject"]) for ca in context.get_ca_certs()]
    assert {"commonName": "qualstream test CA"} in subjects
    kwargs = kafka_client_kwargs(s.kafka_security)
    assert kwargs["security_protocol"] == "SSL"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert not any(k.startswith("sasl") for k in kwargs)


def test_faust_gets_the_same_tls_and_sasl_settings_as_the_plain_clients(
    tls: TlsFiles, tmp_path: Path
) -> None:
    secret = tmp_path / "sasl-password"
    secret.write_text(SASL_PASSWORD + "\n")
    s = from_env({f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_MECHANISM": "scram-sha-256",
                  f"{K}SASL_USERNAME": "qualstream", f"{K}SASL_PASSWORD_FILE": str(secret),
                  f"{K}SSL_CAFILE": str(tls.ca)})
    credentials = faust_settings(s)["broker_credentials"]
    assert isinstance(credentials, SASLCredentials)
    through_faust = credentials_to_aiokafka_auth(credentials)  # what Faust hands aiokafka
    direct = kafka_client_kwargs(s.kafka_security)
    for kwargs in (through_faust, direct):
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert kwargs["sasl_mechanism"] == "SCRAM-SHA-256"
        assert kwargs["sasl_plain_username"] == "qualstream"
        assert kwargs["sasl_plain_password"] == SASL_PASSWORD  # file read, newline stripped
        assert kwargs["ssl_context"].check_hostname is True


def test_scram_sha_512_is_the_default_mechanism_and_ssl_alone_gives_ssl_credentials(
    tls: TlsFiles,
) -> None:
    sasl = from_env({f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_USERNAME": "u",
                     f"{K}SASL_PASSWORD": SASL_PASSWORD})
    assert kafka_client_kwargs(sasl.kafka_security)["sasl_mechanism"] == "SCRAM-SHA-512"
    mutual = from_env({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SSL_CAFILE": str(tls.ca),
                       f"{K}SSL_CERTFILE": str(tls.client_cert),
                       f"{K}SSL_KEYFILE": str(tls.client_key)})
    credentials = faust_credentials(mutual.kafka_security)
    assert isinstance(credentials, SSLCredentials)
    assert credentials_to_aiokafka_auth(credentials)["security_protocol"] == "SSL"


def test_a_client_key_that_does_not_match_is_a_config_error(tls: TlsFiles,
                                                           other_ca: TlsFiles) -> None:
    s = from_env({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SSL_CERTFILE": str(tls.client_cert),
                  f"{K}SSL_KEYFILE": str(other_ca.client_key)})
    with pytest.raises(SecurityConfigError, match="cannot load the client certificate"):
        kafka_ssl_context(s.kafka_security)


@pytest.mark.parametrize(("env", "message"), [
    ({f"{K}SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "use SASL_SSL"),
    ({f"{K}SECURITY_PROTOCOL": "TLS"}, "is not one of PLAINTEXT, SSL, SASL_SSL"),
    ({f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_MECHANISM": "GSSAPI",
      f"{K}SASL_USERNAME": "u", f"{K}SASL_PASSWORD": "p"}, "SASL_MECHANISM='GSSAPI'"),
    ({f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_USERNAME": "u"}, "SASL_PASSWORD"),
    ({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SASL_USERNAME": "u"}, "need QUALSTREAM_KAFKA_SEC"),
    ({f"{K}SASL_PASSWORD": "p"}, "SASL_PASSWORD need"),
    ({f"{K}SSL_CAFILE": "{ca}"}, "SSL_CAFILE need QUALSTREAM_KAFKA_SECURITY_PROTOCOL=SSL"),
    ({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SSL_KEYFILE": "{ca}"}, "SSL_KEYFILE needs"),
    ({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SSL_CAFILE": "/nonexistent/ca.pem"}, "no such file"),
    ({f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_USERNAME": "u",
      f"{K}SASL_PASSWORD": "p", f"{K}SASL_PASSWORD_FILE": "{ca}"}, "not both"),
    ({f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_USERNAME": "u",
      f"{K}SASL_PASSWORD_FILE": "/nonexistent/pw"}, "SASL_PASSWORD_FILE: cannot read"),
    ({"REDIS_URL": "redis://h:6379/0", "QUALSTREAM_REDIS_SSL_CAFILE": "{ca}"},
     "needs a rediss:// REDIS_URL"),
    ({"QUALSTREAM_REDIS_USERNAME": "qs"}, "USERNAME needs QUALSTREAM_REDIS_PASSWORD"),
    ({"REDIS_URL": "redis://qs:pw@h:6379/0", "QUALSTREAM_REDIS_PASSWORD": "pw"},
     "give it once"),
])
def test_bad_combinations_are_rejected_with_a_clear_error(
    env: dict[str, str], message: str, tls: TlsFiles
) -> None:
    env = {k: v.replace("{ca}", str(tls.ca)) for k, v in env.items()}
    with pytest.raises(SecurityConfigError, match=message.replace("(", r"\(")):
        from_env(env)


def test_secrets_never_show_in_the_settings_repr(tls: TlsFiles, tmp_path: Path) -> None:
    secret = tmp_path / "redis-password"
    secret.write_text(REDIS_PASSWORD)
    kafka = {f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_USERNAME": "qualstream",
             f"{K}SASL_PASSWORD": SASL_PASSWORD, f"{K}SSL_CAFILE": str(tls.ca)}
    in_url = from_env({**kafka, "REDIS_URL": "rediss://qs:url-pa55word@redis.internal:6380/0"})
    in_file = from_env({**kafka, "REDIS_URL": "rediss://redis.internal:6380/0",
                        "QUALSTREAM_REDIS_USERNAME": "qs",
                        "QUALSTREAM_REDIS_PASSWORD_FILE": str(secret)})
    for s in (in_url, in_file):
        for text in (repr(s), str(s), f"{s}", repr(s.kafka_security), repr(s.redis_security)):
            for leaked in (SASL_PASSWORD, "url-pa55word", REDIS_PASSWORD):
                assert leaked not in text
        assert "sasl_username='qualstream'" in repr(s) and "sasl_password=***" in repr(s)
    assert "rediss://qs:***@redis.internal:6380/0" in repr(in_url)
    assert "RedisSecurity(username='qs', password=***" in repr(in_file)
    assert in_file.redis_security.password == REDIS_PASSWORD  # masked, not lost


def test_to_env_carries_the_security_settings_to_a_child_worker(
    tls: TlsFiles, tmp_path: Path
) -> None:
    secret = tmp_path / "pw"
    secret.write_text(SASL_PASSWORD)
    s = from_env({f"{K}SECURITY_PROTOCOL": "SASL_SSL", f"{K}SASL_USERNAME": "u",
                  f"{K}SASL_PASSWORD_FILE": str(secret), f"{K}SSL_CAFILE": str(tls.ca),
                  "REDIS_URL": "rediss://localhost:6380/0",
                  "QUALSTREAM_REDIS_USERNAME": "qs", "QUALSTREAM_REDIS_PASSWORD": "p",
                  "QUALSTREAM_REDIS_SSL_CAFILE": str(tls.ca)})
    again = from_env(to_env(s))
    assert again.kafka_security == s.kafka_security
    assert again.redis_security == s.redis_security


def test_rediss_clients_verify_the_server_and_log_in_as_the_acl_user(tls: TlsFiles) -> None:
    s = from_env({"REDIS_URL": "rediss://localhost:6380/0", "QUALSTREAM_REDIS_USERNAME": "qs",
                  "QUALSTREAM_REDIS_PASSWORD": REDIS_PASSWORD,
                  "QUALSTREAM_REDIS_SSL_CAFILE": str(tls.ca)})
    assert s.redis_url is not None
    client = redis_client(s.redis_security, s.redis_url)
    pool = client.connection_pool
    assert pool.connection_class is SSLConnection
    kwargs = pool.connection_kwargs
    assert kwargs["username"] == "qs" and kwargs["password"] == REDIS_PASSWORD
    assert kwargs["ssl_cert_reqs"] == "required" and kwargs["ssl_check_hostname"] is True
    assert kwargs["ssl_ca_certs"] == str(tls.ca)
    assert kwargs["ssl_min_version"] == ssl.TLSVersion.TLSv1_2
    plain = redis_client_kwargs(RedisSecurity("qs", REDIS_PASSWORD), "redis://localhost:6379/0")
    assert plain == {"username": "qs", "password": REDIS_PASSWORD}


# The hostname check is real: a TLS server with a throwaway certificate for localhost.

@pytest.fixture
def tls_server(tls: TlsFiles) -> Iterator[int]:
    """A loopback TLS server presenting the ``localhost`` certificate; yields its port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.server_cert, tls.server_key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so that the loop notices ``stop``
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            with conn, contextlib.suppress(OSError):  # ssl.SSLError is an OSError
                with context.wrap_socket(conn, server_side=True) as tls_conn:
                    tls_conn.sendall(b"ok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def _handshake(context: ssl.SSLContext, port: int, hostname: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=hostname) as conn:
            return conn.recv(2)


def test_handshake_succeeds_with_the_right_ca_and_name(tls: TlsFiles, tls_server: int) -> None:
    s = from_env({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SSL_CAFILE": str(tls.ca)})
    context = kafka_ssl_context(s.kafka_security)
    assert context is not None
    assert _handshake(context, tls_server, "localhost") == b"ok"


def test_handshake_fails_on_a_wrong_hostname(tls: TlsFiles, tls_server: int) -> None:
    s = from_env({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SSL_CAFILE": str(tls.ca)})
    context = kafka_ssl_context(s.kafka_security)
    assert context is not None
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        _handshake(context, tls_server, "kafka.example.com")


def test_handshake_fails_against_an_untrusted_ca(other_ca: TlsFiles, tls_server: int) -> None:
    s = from_env({f"{K}SECURITY_PROTOCOL": "SSL", f"{K}SSL_CAFILE": str(other_ca.ca)})
    context = kafka_ssl_context(s.kafka_security)
    assert context is not None
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        _handshake(context, tls_server, "localhost")


def test_an_empty_secret_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "pw"
    empty.write_text("\n")
    with pytest.raises(SecurityConfigError, match="is empty"):
        from_env({"QUALSTREAM_REDIS_USERNAME": "qs",
                  "QUALSTREAM_REDIS_PASSWORD_FILE": str(empty)})


def test_the_cli_stops_with_one_clear_line_on_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from streams.cli import main

    monkeypatch.setenv(f"{K}SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    assert main(["generate", "--count", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qualstream: configuration error: ") and "use SASL_SSL" in err
    assert "Traceback" not in err
