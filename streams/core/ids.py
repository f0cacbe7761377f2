"""Deterministic identifiers: the same causes always hash to the same id."""

from __future__ import annotations

import hashlib

_SEPARATOR = b"\x1f"  # unit separator: ("ab", "c") and ("a", "bc") must not collide


def derive_id(*parts: str) -> str:
    """Return the hex blake2b (16-byte digest) of ``parts``, joined unambiguously."""
    data = _SEPARATOR.join([part.encode("utf-8") for part in parts])  # one update: faster
    return hashlib.blake2b(data, digest_size=16).hexdigest()
