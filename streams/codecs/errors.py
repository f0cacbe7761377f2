"""Codec errors: one type for every failure to turn bytes into a record or back."""

from __future__ import annotations

import re
from typing import Literal

Stage = Literal["decode", "encode"]

_EMAIL = re.compile(r"[^\s'\"<>@]+@[^\s'\"<>@]+")
_QUOTED = re.compile(r"""b?'(?:[^'\\]|\\.)*'|b?"(?:[^"\\]|\\.)*\"""")
_MAX_DETAIL = 200


def redact(text: str) -> str:
    """Drop what may be payload data (quoted literals, e-mail addresses) from a library message."""
    # Cut first: the patterns backtrack, and only _MAX_DETAIL characters are kept anyway
    # (measured before the cut: 9 s for one 20 kB message without an @).
    text = text[: _MAX_DETAIL * 4]
    text = _QUOTED.sub("<value>", text)
    text = _EMAIL.sub("<email>", text)
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


class SerializationError(ValueError):
    """A message could not be decoded, or a record could not be encoded.

    The message never contains payload bytes or e-mail addresses, so it can go to logs and the
    dead-letter topic as is. ``cause`` names the library exception class, when there was one.
    """

    def __init__(
        self, stage: Stage, message: str, *, topic: str | None = None, cause: str | None = None
    ) -> None:
        super().__init__(message)
        self.stage: Stage = stage
        self.message = message
        self.topic = topic
        self.cause = cause

    @classmethod
    def wrap(cls, stage: Stage, topic: str | None, exc: BaseException) -> SerializationError:
        """Build from a library exception, keeping only its class and a redacted message."""
        name = type(exc).__name__
        where = f" for topic {topic}" if topic else ""
        message = f"{stage} failed{where}: {name}: {redact(str(exc))}"
        return cls(stage, message, topic=topic, cause=name)


class SchemaRegistryError(RuntimeError):
    """The schema registry could not be reached or answered garbage: transient, retry it.

    Deliberately not a ``SerializationError``: the message itself may be fine, so it must not
    be dead-lettered because the registry is down.
    """
