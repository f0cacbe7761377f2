"""Chaos harness: real workers, the embedded broker and a real Redis under injected faults."""
