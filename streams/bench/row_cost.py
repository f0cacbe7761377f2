"""CPU per contact event of the contacts table's values: rows against the JSON dicts before.

``python -m streams.bench.row_cost``: for the contacts of the state bench's sample, one read
and one write of each, as the contact agent does per input, best of 7 rounds in process CPU
time (the machine's load barely moves it). Before rows, the memory store kept the decoded
dict and Faust JSON-encoded it for the changelog; RocksDB also JSON-decoded it on each read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from streams.bench.state_size import sample_values
from streams.core import contact as core
from streams.core.sla import SlaState
from streams.shell.contact_rows import contact_row, read_contact


def main() -> None:
    from faust.serializers import codecs

    states = [state for state, _, _ in sample_values()]
    clocks = SlaState()

    def old_value(state: core.ContactState) -> dict[str, object]:
        return {"s": core.to_record(state), "o": 1, "p": 1, "d": None, "sla": None}

    dicts = [old_value(s) for s in states]
    encoded = [codecs.dumps("json", d) for d in dicts]
    rows = [contact_row(s, clocks, 1, 1, None) for s in states]

    def dict_memory() -> None:
        for value, state in zip(dicts, states, strict=True):
            core.from_record(value["s"])  # type: ignore[arg-type]
            codecs.dumps("json", old_value(state))

    def dict_rocksdb() -> None:
        for raw, state in zip(encoded, states, strict=True):
            core.from_record(codecs.loads("json", raw)["s"])
            codecs.dumps("json", old_value(state))

    def row_either() -> None:
        for row, state in zip(rows, states, strict=True):
            read_contact(row)
            contact_row(state, clocks, 1, 1, None)

    rounds: dict[str, Callable[[], None]] = {
        "json_dict_memory_store": dict_memory, "json_dict_rocksdb": dict_rocksdb,
        "row": row_either}
    best = dict.fromkeys(rounds, float("inf"))
    for _ in range(7):
        for name, body in rounds.items():
            started = time.process_time()
            body()
            best[name] = min(best[name], time.process_time() - started)
    print(json.dumps({"contacts": len(states), "us_per_read_and_write": {
        name: round(seconds / len(states) * 1e6, 1) for name, seconds in best.items()},
        "mean_row_bytes": round(sum(map(len, rows)) / len(rows)),
        "mean_json_bytes": round(sum(map(len, encoded)) / len(encoded))}))


if __name__ == "__main__":
    main()
