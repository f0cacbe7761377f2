"""Transport security and credentials of the Kafka and Redis clients, read from the environment.

Every Kafka client the product makes (the Faust app, the projection consumer, the generator,
the demo, topic creation) gets its settings from :func:`kafka_client_kwargs` or
:func:`faust_credentials`, both built on the one TLS context of :func:`kafka_ssl_context`.
Every Redis client comes from :func:`redis_client`. Secrets come from the environment or from
files (the ``*_FILE`` variants, for mounted secrets) and never appear in a ``repr``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT
    from redis.asyncio import Redis

MASK = "***"
PLAINTEXT, SSL, SASL_SSL = "PLAINTEXT", "SSL", "SASL_SSL"
PROTOCOLS = (PLAINTEXT, SSL, SASL_SSL)
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
MIN_TLS = ssl.TLSVersion.TLSv1_2

K = "QUALSTREAM_KAFKA_"
R = "QUALSTREAM_REDIS_"


class SecurityConfigError(ValueError):
    """A security setting is missing, contradictory or unreadable (says which variable)."""


def read_secret(env: Mapping[str, str], name: str) -> str | None:
    """``env[name]``, or the contents of the file named by ``env[name + "_FILE"]`` (one trailing
    newline stripped); setting both is an error, because it is ambiguous which one wins."""
    value, path = env.get(name) or None, env.get(f"{name}_FILE") or None
    if value is not None and path is not None:
        raise SecurityConfigError(f"set {name} or {name}_FILE, not both")
    if path is None:
        return value
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SecurityConfigError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from None
    secret = text.removesuffix("\n").removesuffix("\r")
    if not secret:
        raise SecurityConfigError(f"{name}_FILE: {path} is empty")
    return secret


def _mask_repr(obj: Any, secrets: tuple[str, ...]) -> str:
    parts = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        shown = MASK if f.name in secrets and value is not None else repr(value)
        parts.append(f"{f.name}={shown}")
    return f"{type(obj).__name__}({', '.join(parts)})"


def mask_url(url: str | None) -> str | None:
    """``url`` with the password of its user-info replaced by ``***``."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}{port}"))


def _existing_file(name: str, path: str | None) -> str | None:
    if path is not None and not Path(path).is_file():
        raise SecurityConfigError(f"{name}: no such file {path}")
    return path


@dataclass(frozen=True, slots=True, repr=False)
class KafkaSecurity:
    """How the Kafka clients connect: ``PLAINTEXT`` (default), ``SSL`` or ``SASL_SSL``."""

    protocol: str = PLAINTEXT
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def __repr__(self) -> str:
        return _mask_repr(self, ("sasl_password",))

    def __post_init__(self) -> None:
        """Reject contradictory settings now rather than connect insecurely later."""
        if self.protocol not in PROTOCOLS:
            hint = (" (SASL over plaintext sends the data unencrypted; use SASL_SSL)"
                    if self.protocol == "SASL_PLAINTEXT" else "")
            raise SecurityConfigError(f"{K}SECURITY_PROTOCOL={self.protocol!r} is not one of "
                                      f"{', '.join(PROTOCOLS)}{hint}")
        sasl = {"SASL_MECHANISM": self.sasl_mechanism, "SASL_USERNAME": self.sasl_username,
                "SASL_PASSWORD": self.sasl_password}
        if self.protocol != SASL_SSL:
            given = [K + name for name, value in sasl.items() if value is not None]
            if given:
                raise SecurityConfigError(f"{', '.join(given)} need "
                                          f"{K}SECURITY_PROTOCOL=SASL_SSL")
        else:
            if self.sasl_mechanism not in (None, *SASL_MECHANISMS):
                raise SecurityConfigError(f"{K}SASL_MECHANISM={self.sasl_mechanism!r} is not "
                                          f"one of {', '.join(SASL_MECHANISMS)}")
            missing = [K + name for name in ("SASL_USERNAME", "SASL_PASSWORD")
                       if sasl[name] is None]
            if missing:
                raise SecurityConfigError(f"SASL_SSL needs {' and '.join(missing)} "
                                          f"(or {K}SASL_PASSWORD_FILE)")
        tls = {"SSL_CAFILE": self.ssl_cafile, "SSL_CERTFILE": self.ssl_certfile,
               "SSL_KEYFILE": self.ssl_keyfile}
        if self.protocol == PLAINTEXT:
            given = [K + name for name, value in tls.items() if value is not None]
            if given:
                raise SecurityConfigError(f"{', '.join(given)} need {K}SECURITY_PROTOCOL=SSL "
                                          "or SASL_SSL")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise SecurityConfigError(f"{K}SSL_KEYFILE needs {K}SSL_CERTFILE")
        for name, path in tls.items():
            _existing_file(K + name, path)

    @property
    def uses_tls(self) -> bool:
        return self.protocol in (SSL, SASL_SSL)

    @property
    def mechanism(self) -> str:
        return self.sasl_mechanism or SASL_MECHANISMS[0]

    def env(self) -> dict[str, str]:
        """The variables that make :func:`kafka_security_from_env` return this (child
        processes)."""
        values = {"SECURITY_PROTOCOL": self.protocol, "SASL_MECHANISM": self.sasl_mechanism,
                  "SASL_USERNAME": self.sasl_username, "SASL_PASSWORD": self.sasl_password,
                  "SSL_CAFILE": self.ssl_cafile, "SSL_CERTFILE": self.ssl_certfile,
                  "SSL_KEYFILE": self.ssl_keyfile}
        return {K + name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True, repr=False)
class RedisSecurity:
    """Redis ACL user and TLS trust, on top of what the URL says (``rediss://`` for TLS)."""

    username: str | None = None
    password: str | None = None
    ssl_cafile: str | None = None

    def __repr__(self) -> str:
        return _mask_repr(self, ("password",))

    def __post_init__(self) -> None:
        if self.username is not None and self.password is None:
            raise SecurityConfigError(f"{R}USERNAME needs {R}PASSWORD or {R}PASSWORD_FILE")
        _existing_file(f"{R}SSL_CAFILE", self.ssl_cafile)

    def check_url(self, url: str | None) -> None:
        """Reject settings that contradict the Redis URL they are used with."""
        if url is None:
            return
        parts = urlsplit(url)
        if self.ssl_cafile is not None and parts.scheme != "rediss":
            raise SecurityConfigError(f"{R}SSL_CAFILE needs a rediss:// REDIS_URL (TLS)")
        if self.password is not None and parts.password is not None:
            raise SecurityConfigError(f"REDIS_URL has a password and {R}PASSWORD(_FILE) is set "
                                      "too: give it once")

    def env(self) -> dict[str, str]:
        values = {"USERNAME": self.username, "PASSWORD": self.password,
                  "SSL_CAFILE": self.ssl_cafile}
        return {R + name: value for name, value in values.items() if value is not None}


def kafka_security_from_env(env: Mapping[str, str]) -> KafkaSecurity:
    return KafkaSecurity(
        protocol=(env.get(f"{K}SECURITY_PROTOCOL") or PLAINTEXT).strip().upper(),
        sasl_mechanism=(env.get(f"{K}SASL_MECHANISM") or "").strip().upper() or None,
        sasl_username=env.get(f"{K}SASL_USERNAME") or None,
        sasl_password=read_secret(env, f"{K}SASL_PASSWORD"),
        ssl_cafile=env.get(f"{K}SSL_CAFILE") or None,
        ssl_certfile=env.get(f"{K}SSL_CERTFILE") or None,
        ssl_keyfile=env.get(f"{K}SSL_KEYFILE") or None,
    )


def redis_security_from_env(env: Mapping[str, str]) -> RedisSecurity:
    return RedisSecurity(
        username=env.get(f"{R}USERNAME") or None,
        password=read_secret(env, f"{R}PASSWORD"),
        ssl_cafile=env.get(f"{R}SSL_CAFILE") or None,
    )


def kafka_ssl_context(sec: KafkaSecurity) -> ssl.SSLContext | None:
    """The TLS context of every Kafka connection (None for PLAINTEXT): the broker's certificate
    must chain to the CA file (else the system's trust store) and name the host connected to;
    TLS 1.2 at least; the client certificate when one is configured (mutual TLS)."""
    if not sec.uses_tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=sec.ssl_cafile)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = MIN_TLS
    if sec.ssl_certfile is not None:
        try:
            context.load_cert_chain(sec.ssl_certfile, sec.ssl_keyfile)
        except ssl.SSLError as exc:
            raise SecurityConfigError(f"{K}SSL_CERTFILE/{K}SSL_KEYFILE: cannot load the client "
                                      f"certificate ({exc.reason})") from None
    return context


def kafka_client_kwargs(sec: KafkaSecurity) -> dict[str, Any]:
    """Security arguments for any aiokafka producer, consumer or admin client."""
    kwargs: dict[str, Any] = {"security_protocol": sec.protocol}
    context = kafka_ssl_context(sec)
    if context is not None:
        kwargs["ssl_context"] = context
    if sec.protocol == SASL_SSL:
        kwargs.update(sasl_mechanism=sec.mechanism, sasl_plain_username=sec.sasl_username,
                      sasl_plain_password=sec.sasl_password)
    return kwargs


def faust_credentials(sec: KafkaSecurity) -> CredentialsT | None:
    """The Faust app's ``broker_credentials`` (Faust hands them to every client it makes)."""
    from faust.auth import SASLCredentials, SSLCredentials

    context = kafka_ssl_context(sec)
    if context is None:
        return None
    if sec.protocol == SSL:
        return SSLCredentials(context)
    return SASLCredentials(username=sec.sasl_username, password=sec.sasl_password,
                           ssl_context=context, mechanism=sec.mechanism)


def redis_client_kwargs(sec: RedisSecurity, url: str) -> dict[str, Any]:
    """Arguments for ``Redis.from_url(url, ...)``: the ACL user, and for ``rediss://`` a
    verified TLS connection (CA file, hostname check, TLS 1.2 at least)."""
    sec.check_url(url)
    kwargs: dict[str, Any] = {}
    if sec.password is not None:
        kwargs["password"] = sec.password
        if sec.username is not None:
            kwargs["username"] = sec.username
    if urlsplit(url).scheme == "rediss":
        kwargs.update(ssl_cert_reqs="required", ssl_check_hostname=True,
                      ssl_min_version=MIN_TLS)
        if sec.ssl_cafile is not None:
            kwargs["ssl_ca_certs"] = sec.ssl_cafile
    return kwargs


def redis_client(sec: RedisSecurity, url: str, **options: Any) -> Redis:
    """An asyncio Redis client for ``url`` with the configured credentials and TLS."""
    from redis.asyncio import Redis

    return Redis.from_url(url, **redis_client_kwargs(sec, url), **options)
