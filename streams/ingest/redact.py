"""Redaction of e-mail addresses and hashing of identities for logs, labels and DLQ reasons."""

from __future__ import annotations

import hashlib
import re

# Anything around an @ counts: invalid addresses ("x@localhost", "ann@@acme") are personal
# data too. The domain is kept: it is what an operator needs and names a company, not a person.
# Linear time whatever the input (a backtracking pattern is a DoS on a 1 MB message).
_BOUNDARY = re.compile(r"([\s'\"<>,;:()\[\]]+)")


def _redact_token(token: str) -> str:
    head, _, domain = token.rpartition("@")
    return f"<redacted>@{domain.lower()}" if head.strip("@") else token


def redact(text: str) -> str:
    """Replace every e-mail-shaped string in ``text`` with ``<redacted>@domain`` (the part
    after its last @)."""
    if "@" not in text:
        return text
    return "".join(_redact_token(part) if "@" in part else part
                   for part in _BOUNDARY.split(text))


def pseudonym(value: str) -> str:
    """A stable, non-reversible short id for a personal value (e-mail, anonymous id)."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=12).hexdigest()
