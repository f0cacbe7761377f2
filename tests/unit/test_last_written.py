"""The agents' cache of what they wrote last: by partition, bounded, forgotten on demand."""

from __future__ import annotations

from streams.shell.last_written import LastWritten


def test_known_only_for_the_partition_it_was_written_in() -> None:
    cache: LastWritten[str] = LastWritten(limit=4)
    assert cache.get("k", 0) is None
    cache.remember("k", 0, "v1")
    assert cache.get("k", 0) == "v1"
    assert cache.get("k", 1) is None
    cache.remember("k", 0, "v2")
    assert cache.get("k", 0) == "v2"
    assert len(cache) == 1


def test_the_least_recently_written_key_goes_first() -> None:
    cache: LastWritten[int] = LastWritten(limit=2)
    cache.remember("a", 0, 1)
    cache.remember("b", 0, 2)
    cache.remember("a", 0, 3)  # written again: now the most recent
    cache.remember("c", 0, 4)  # over the limit: "b" goes
    assert (cache.get("a", 0), cache.get("b", 0), cache.get("c", 0)) == (3, None, 4)
    assert len(cache) == 2


def test_drop_and_forget() -> None:
    cache: LastWritten[int] = LastWritten(limit=8)
    for i, key in enumerate("abc"):
        cache.remember(key, 0, i)
    cache.drop("b")
    cache.drop("missing")
    assert (cache.get("a", 0), cache.get("b", 0)) == (0, None)
    cache.forget()
    assert len(cache) == 0 and cache.get("a", 0) is None
