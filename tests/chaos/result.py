"""One row of chaos-results.json, and the table the README shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ChaosResult:
    """What one scenario did and whether it passed its criterion."""

    name: str
    events: int
    faults: int
    lost: int
    double_counted: int
    duplicate_output_ids: int
    state_matches_recompute: bool
    passed: bool
    duration_s: float = 0.0
    criterion: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS = ("name", "events", "faults", "lost", "double_counted", "duplicate_output_ids",
           "state_matches_recompute", "passed", "duration_s")


def table(results: list[ChaosResult]) -> str:
    """A Markdown table of the results (the README's Reliability section)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in results:
        cells = [str(getattr(r, c)) if c != "duration_s" else f"{r.duration_s:.0f} s"
                 for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
