"""Deterministic identifiers: the same causes always hash to the same id."""

from __future__ import annotations

import hashlib

_SEPARATOR = b"\x1f"  # unit separator: ("ab", "c") and ("a", "bc") must not collide


def derive_id(*parts: str) -> str:
    """Return the hex blake2b (16-byte digest) of ``parts``, joined unambiguously."""
    digest = hashlib.blake2b(digest_size=16)
    for index, part in enumerate(parts):
        if index:
            digest.update(_SEPARATOR)
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()
