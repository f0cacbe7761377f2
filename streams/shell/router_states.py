"""The router table's rows: a compact codec, and the decoded state of the keys written here."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from streams.core.routing import LeadRouted, RouterState
from streams.shell.last_written import LastWritten
from streams.shell.records import rep_from_record

if TYPE_CHECKING:
    from streams.shell.app import Pipeline

ROW_VERSION = 2  # 1: ``dataclasses.asdict`` of the whole state (still read)
_ROUTED_FIELDS = tuple(f.name for f in fields(LeadRouted))


def state_to_record(state: RouterState) -> dict[str, Any]:
    """The router table's value: the remembered assignments (up to ``RECENT_LIMIT``, most of
    the row) as positional lists, not dicts.

    ``asdict`` of a full state took ~27 ms, and with reading the row back and JSON ~43 ms
    of CPU on every routing input (the row is rewritten each time): a router capped near 20
    routes/s. Positional rows take ~5 ms to build and dump (the decoded state of the last
    write is kept, see ``RouterStates``) and are 40% smaller or more (no field names).
    """
    return {
        "v": ROW_VERSION,
        "roster": [asdict(rep) for rep in state.roster],
        "open": [[rid, list(ids)] for rid, ids in state.open],
        "current": [[pool, [[rid, w] for rid, w in weights]] for pool, weights in state.current],
        "recent": [[getattr(r, name) for name in _ROUTED_FIELDS] for r in state.recent],
    }


def state_from_record(raw: dict[str, Any]) -> RouterState:
    positional = raw.get("v", 1) >= ROW_VERSION
    return RouterState(
        roster=tuple(rep_from_record(r) for r in raw["roster"]),
        open=tuple((rid, tuple(ids)) for rid, ids in raw["open"]),
        current=tuple((pool, tuple((rid, int(w)) for rid, w in weights))
                      for pool, weights in raw["current"]),
        recent=tuple(LeadRouted(*r) if positional else LeadRouted(**r) for r in raw["recent"]),
    )


RouterRow = tuple[RouterState, int]  # the state and the offset of the input it last applied


class RouterStates(LastWritten[RouterRow]):
    """The decoded state of each router key this worker wrote last, so a routing input does
    not decode its whole row again (see ``LastWritten``).

    A row also carries the offset of the input it last applied (on its partition; -1 in rows
    written before it was kept) and the row's outbox: the router's sends the broker had not
    acknowledged when it was written (``streams/shell/outbox.py``)."""

    def __init__(self) -> None:
        super().__init__(limit=64)  # one key in practice (``ROUTING_KEY``)

    def read(self, p: Pipeline, key: str, partition: int) -> RouterRow:
        known = LastWritten.get(self, key, partition)
        if known is not None:
            return known
        stored = p.tables["router"].get(key)
        if not stored:
            return RouterState(), -1
        same_partition = stored.get("partition") == partition
        return state_from_record(stored), int(stored.get("offset", -1)) if same_partition else -1

    def put(self, p: Pipeline, key: str, partition: int, state: RouterState, offset: int,
            outbox: list[list[str]]) -> None:
        record = state_to_record(state)
        record.update(partition=partition, offset=offset, outbox=outbox)
        p.tables["router"][key] = record
        self.remember(key, partition, (state, offset))


def stored_outbox(p: Pipeline, key: str) -> list[list[str]]:
    """The outbox of ``key``'s stored row (none in a row written before outboxes)."""
    stored = p.tables["router"].get(key)
    return list(stored.get("outbox") or ()) if stored else []
