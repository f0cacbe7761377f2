"""Functional core: pure qualification logic (standard library only, no I/O, no clock)."""
