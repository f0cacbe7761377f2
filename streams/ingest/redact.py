"""Redaction of e-mail addresses and hashing of identities for logs, labels and DLQ reasons."""

from __future__ import annotations

import hashlib
import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


def redact(text: str) -> str:
    """Replace every e-mail address in ``text`` with ``<redacted>@domain``."""
    return _EMAIL.sub(lambda m: f"<redacted>@{m.group(1).lower()}", text)


def pseudonym(value: str) -> str:
    """A stable, non-reversible short id for a personal value (e-mail, anonymous id)."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=12).hexdigest()
