"""The replay report: a text summary, a self-contained HTML page with plots, a JSON summary."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from streams.replay.outcome import Outcome

HOUR_MS = 3_600_000
MAX_LISTED = 50  # contact ids listed per difference in the text and HTML (all are in the JSON)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to PNG in memory
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _grouped_bars(title: str, ylabel: str, series: dict[str, dict[str, int]]) -> str:
    """One bar per (category, model), categories on the x axis."""
    plt = _pyplot()
    categories = sorted({c for counts in series.values() for c in counts})
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(categories) * len(series) + 2), 3.6))
    width = 0.8 / max(1, len(series))
    for i, (name, counts) in enumerate(series.items()):
        xs = [j + i * width for j in range(len(categories))]
        ax.bar(xs, [counts.get(c, 0) for c in categories], width, label=name)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(categories))])
    ax.set_xticklabels(categories, rotation=45 if len(categories) > 6 else 0, ha="right"
                       if len(categories) > 6 else "center")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend()
    return _png(fig)


def _time_to_qualify(outcomes: list[Outcome]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    data = [sorted(v / HOUR_MS for v in o.time_to_qualify_ms.values()) for o in outcomes]
    top = max((d[-1] for d in data if d), default=1.0) or 1.0
    bins = [top * i / 30 for i in range(31)]
    for o, values in zip(outcomes, data, strict=True):
        if values:
            ax.hist(values, bins=bins, alpha=0.5, label=f"{o.model_version} (n={len(values)})")
    ax.set_title("Time to qualify: first touch to first sales-ready")
    ax.set_xlabel("hours")
    ax.set_ylabel("contacts")
    if any(data):
        ax.legend()
    return _png(fig)


def plots(summary: dict[str, Any], outcomes: list[Outcome]) -> dict[str, str]:
    """Base64 PNGs by title."""
    models = summary["models"]
    versions = [m["model_version"] for m in models]
    # two model files may carry the same version string: keep their series apart
    labels = [v if versions.count(v) == 1 else f"{v} #{i + 1}" for i, v in enumerate(versions)]

    def series(field: str) -> dict[str, dict[str, int]]:
        return {label: m[field] for label, m in zip(labels, models, strict=True)}

    return {
        "Sales-ready per week": _grouped_bars("Moves into sales-ready per week (Monday, UTC)",
                                              "leads", series("weekly_sales_ready")),
        "Load per rep": _grouped_bars("Assignments per rep", "assignments", series("rep_load")),
        "Load per pool": _grouped_bars("Assignments per pool", "assignments",
                                       series("pool_load")),
        "Time to qualify": _time_to_qualify(outcomes),
    }


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:MAX_LISTED])
    return shown + (f" … and {len(ids) - MAX_LISTED} more" if len(ids) > MAX_LISTED else "")


def text_summary(summary: dict[str, Any]) -> str:
    lines = [f"history: {summary['history']['events']} records"]
    for m in summary["models"]:
        ttq = m["time_to_qualify"]
        lines.append(
            f"model {m['model_version']}: {m['sales_ready_contacts']} contacts sales-ready "
            f"({m['sales_ready_entries']} moves), {sum(m['rep_load'].values())} assigned, "
            f"{m['unassigned']} unassigned; time to qualify p50 "
            f"{ttq.get('p50_hours', float('nan')):.1f} h, p90 "
            f"{ttq.get('p90_hours', float('nan')):.1f} h; "
            f"{m['events_per_second']:.0f} records/s")
        lines.append(f"  per week: {m['weekly_sales_ready']}")
        lines.append(f"  per rep:  {m['rep_load']}")
        lines.append(f"  per pool: {m['pool_load']}")
    for diff in summary["comparisons"]:
        lines.append(f"{diff['candidate']} vs {diff['baseline']}: "
                     f"+{len(diff['only_candidate'])} sales-ready only under "
                     f"{diff['candidate']}, -{len(diff['only_baseline'])} only under "
                     f"{diff['baseline']}, {diff['both']} under both")
        if diff["only_candidate"]:
            lines.append(f"  only {diff['candidate']}: {_ids(diff['only_candidate'])}")
        if diff["only_baseline"]:
            lines.append(f"  only {diff['baseline']}: {_ids(diff['only_baseline'])}")
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_report(summary: dict[str, Any], images: dict[str, str]) -> str:
    """A single HTML page: no external resources, plots embedded as data: URIs."""
    models = summary["models"]
    rows: list[tuple[str, ...]] = [(m["model_version"], str(m["sales_ready_contacts"]), str(m["sales_ready_entries"]),
             str(sum(m["rep_load"].values())), str(m["unassigned"]),
             str(m["time_to_qualify"].get("p50_hours", "-")),
             str(m["time_to_qualify"].get("p90_hours", "-")),
             json.dumps(m["final_stages"])) for m in models]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>qualstream what-if replay"
        "</title><style>body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
        "img{max-width:100%}</style></head><body>",
        "<h1>What-if replay</h1>",
        f"<p>{summary['history']['events']} history records replayed under "
        f"{len(models)} model(s).</p>",
        _table(rows, ("model", "sales-ready contacts", "moves into sales-ready", "assigned",
                      "unassigned", "time to qualify p50 (h)", "p90 (h)", "final stages")),
    ]
    for diff in summary["comparisons"]:
        parts.append(f"<h2>{html.escape(diff['candidate'])} vs "
                     f"{html.escape(diff['baseline'])}</h2>")
        parts.append(f"<p>Sales-ready only under {html.escape(diff['candidate'])} "
                     f"({len(diff['only_candidate'])}): "
                     f"{html.escape(_ids(diff['only_candidate'])) or '—'}</p>")
        parts.append(f"<p>Sales-ready only under {html.escape(diff['baseline'])} "
                     f"({len(diff['only_baseline'])}): "
                     f"{html.escape(_ids(diff['only_baseline'])) or '—'}</p>")
        parts.append(f"<p>Under both: {diff['both']}</p>")
    for title, png in images.items():
        parts.append(f"<h2>{html.escape(title)}</h2>"
                     f"<img alt='{html.escape(title)}' src='data:image/png;base64,{png}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(summary: dict[str, Any], outcomes: list[Outcome], html_path: Path | None,
                  json_path: Path | None) -> None:
    if json_path is not None:
        json_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
    if html_path is not None:
        html_path.write_text(html_report(summary, plots(summary, outcomes)), encoding="utf-8")
