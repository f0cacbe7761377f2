"""Validation errors: a bounded reason code plus a message free of personal data."""

from __future__ import annotations

from streams.ingest.redact import redact


class InvalidRecord(ValueError):
    """A decoded record that breaks the contract; it goes to the dead-letter topic."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason  # bounded vocabulary: safe as a metric label
        self.message = redact(message)
        super().__init__(f"{reason}: {self.message}")
