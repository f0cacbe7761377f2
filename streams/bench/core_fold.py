"""CPU cost of the replay fold (the pure core run as live), reproducible without a broker.

    python -m streams.bench.core_fold [--events N] [--repeats R] [--profile]

Writes a seeded history file of the generator's realistic mix (fixed event times, so the
same N gives the same file), then reports, in CPU time (``time.process_time``) of this process:

- ``read``: decoding the file alone (fastavro);
- ``fold``: folding the decoded records through the default model (no I/O);
- ``replay_file``: both, as ``replay_file`` does (the bench's ``replay_file_eps``);

and a digest of the fold's result (every contact's final state and the outcome), which must
not change when the core is made faster. ``--profile`` prints a cProfile of one fold.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.bench.traffic import behaviour
from streams.codecs import codec_for
from streams.config import DEFAULT_MODEL_PATH
from streams.core.model import ScoringModel, parse_model
from streams.replay.fold import ModelFold
from streams.replay.history import (
    HistoryRecord,
    decoded_record,
    in_event_time_order,
    read_history,
    write_history,
)
from streams.replay.run import replay_file

START_MS = 1_767_225_600_000  # 2026-01-01T00:00Z: fixed event times make the file reproducible


def history_file(path: Path, events: int) -> int:
    """Write ``events`` generated behaviour records (after the reference data) to ``path``."""
    codec = codec_for(None)
    offsets: dict[str, int] = {}
    records: list[HistoryRecord] = []
    for draft in behaviour(events, gap_ms=50.0, start_ms=START_MS):
        offset = offsets[draft.topic_base] = offsets.get(draft.topic_base, -1) + 1
        record = decoded_record(codec, draft.topic_base, 0, offset, START_MS,
                                draft.key.encode(), draft.value)
        records.append(record)
    return write_history(path, in_event_time_order(records))


def fold(records: list[HistoryRecord], model: ScoringModel) -> ModelFold:
    folder = ModelFold(model)
    feed = folder.feed
    for r in records:
        feed(r["topic"], r["key"], r["value"], r["partition"], r["offset"], r["timestamp"])
    folder.finish()
    return folder


def digest(folder: ModelFold) -> str:
    """A hash of every contact's final state and of the outcome (floats by exact repr)."""
    h = hashlib.sha256()
    for contact_id in sorted(folder.contacts):
        h.update(repr(folder.contacts[contact_id]).encode())
    out = folder.outcome
    out.elapsed_s = 0.0
    h.update(repr(out).encode())
    return h.hexdigest()[:16]


def cpu(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.process_time()
    result = action()
    return time.process_time() - started, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--file", type=Path, help="history file to use (written if missing)")
    args = parser.parse_args(argv)
    model_text = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or Path(tmp) / "history.avro"
        if not path.exists():
            history_file(path, args.events)
        records = list(read_history(path))
        n = len(records)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(fold, records, parse_model(model_text))
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        for _ in range(args.repeats):
            # a fresh model each time: its memos start empty, as in a real replay
            read_s, _ = cpu(lambda: sum(1 for _ in read_history(path)))
            fold_s, folder = cpu(lambda: fold(records, parse_model(model_text)))
            file_s, _ = cpu(lambda: replay_file(path, [parse_model(model_text)]))
            print(f"records={n} read={n / read_s:,.0f}/s fold={n / fold_s:,.0f}/s "
                  f"replay_file={n / file_s:,.0f}/s (CPU) digest={digest(folder)}", flush=True)


if __name__ == "__main__":
    main()
