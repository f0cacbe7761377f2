"""Ingest: validate, normalise and resolve the identity of decoded input records (pure)."""
