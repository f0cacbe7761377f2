"""The benchmark behind ``make bench``: throughput, latency, replay, state size, recovery."""
