"""``qualstream export`` and ``qualstream replay``: argument parsing, progress, output files."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.config import Settings
from streams.core.model import ScoringModel, parse_model
from streams.core.toml_fields import ModelError
from streams.replay.history import INPUT_TOPICS, in_event_time_order, write_history


def parse_since(text: str) -> int:
    """An ISO date or date-time (UTC unless it says otherwise) as epoch ms."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def parse_topics(text: str) -> list[str]:
    topics = [t.strip() for t in text.split(",") if t.strip()]
    unknown = sorted(set(topics) - set(INPUT_TOPICS))
    if unknown or not topics:
        raise argparse.ArgumentTypeError(
            f"unknown input topic(s) {', '.join(unknown)}; known: {', '.join(INPUT_TOPICS)}")
    return topics


@contextmanager
def progress_bar(description: str, enabled: bool,
                 total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar (on stderr); yields ``update(completed)``."""
    if not enabled:
        yield lambda completed: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda completed: bar.update(task, completed=completed)


def _read(settings: Settings, topics: list[str], since_ms: int | None,
          show: bool) -> list[dict[str, Any]]:
    from streams.replay.topics import read_topics

    with progress_bar("reading topics", show) as update:
        records = asyncio.run(read_topics(settings, topics, since_ms=since_ms,
                                          on_record=update))
    return in_event_time_order(records)


def export(settings: Settings, args: argparse.Namespace) -> int:
    """Write the input topics' history to an Avro container file."""
    records = _read(settings, args.topics, args.since, not args.no_progress)
    count = write_history(args.out, records, codec=args.codec)
    print(f"exported {count} records of {', '.join(args.topics)} to {args.out}")
    return 0


def _load_models(paths: list[Path]) -> list[ScoringModel]:
    models = []
    for path in paths:
        try:
            models.append(parse_model(path.read_text(encoding="utf-8")))
        except (OSError, ModelError) as exc:
            raise SystemExit(f"qualstream replay: model {path}: {exc}") from None
    return models


def replay(settings: Settings, args: argparse.Namespace) -> int:
    """Fold history through each model; print the summary, write the HTML and JSON reports."""
    from streams.replay.compare import summarise
    from streams.replay.history import read_history
    from streams.replay.report import text_summary, write_reports
    from streams.replay.run import fold_records

    models = _load_models(args.model)
    show = not args.no_progress
    if args.from_topics:
        records: Any = _read(settings, list(INPUT_TOPICS), args.since, show)
        total: int | None = len(records)
    else:
        records, total = read_history(args.input), None
        if args.since is not None:
            from streams.replay.history import event_time
            from streams.replay.topics import REFERENCE_TOPICS

            since = args.since
            records = (r for r in records
                       if r["topic"] in REFERENCE_TOPICS or event_time(r) >= since)
    with progress_bar(f"replaying under {len(models)} model(s)", show, total) as update:
        outcomes = fold_records(records, models, update)
    summary = summarise(outcomes)
    write_reports(summary, outcomes, args.html, args.json)
    print(text_summary(summary))
    print(f"report: {args.html}  summary: {args.json}")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``export`` and ``replay`` on the ``qualstream`` sub-command parser."""
    exp = sub.add_parser(
        "export", help="write input-topic history to an Avro container file",
        description="Read the input topics (KAFKA_BOOTSTRAP_SERVERS, QUALSTREAM_TOPIC_PREFIX) "
        "and write their records, decoded, in event-time order to an Avro container file "
        "for `qualstream replay --input`.")
    exp.add_argument("--topics", type=parse_topics, default=list(INPUT_TOPICS),
                     help="comma-separated input topics (default: all of them)")
    exp.add_argument("--out", type=Path, required=True, help="the .avro file to write")
    exp.add_argument("--since", type=parse_since, default=None,
                     help="ISO date/time (UTC): behaviour from then on; the roster and the "
                     "CRM (sales.reps, crm.*) are always exported whole")
    exp.add_argument("--codec", choices=("null", "deflate"), default="null",
                     help="container block compression (default: none, fastest to replay)")
    exp.add_argument("--no-progress", action="store_true", help="no progress bar")
    exp.set_defaults(handler=export)

    rep = sub.add_parser(
        "replay", help="what-if: fold history through scoring models and compare them",
        description="Fold history through the pure core under each --model (the first is "
        "the baseline) and report who becomes sales-ready under one and not the other, "
        "sales-ready volume per week, load per rep and pool, and time to qualify.")
    rep.add_argument("--model", type=Path, action="append", required=True,
                     help="a scoring model TOML; give it once per model (first = baseline)")
    source = rep.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="a history file from `qualstream export`")
    source.add_argument("--from-topics", action="store_true",
                        help="read the input topics from KAFKA_BOOTSTRAP_SERVERS")
    rep.add_argument("--since", type=parse_since, default=None,
                     help="ISO date/time (UTC): replay behaviour from then on")
    rep.add_argument("--html", type=Path, default=Path("replay-report.html"),
                     help="self-contained HTML report (default: %(default)s)")
    rep.add_argument("--json", type=Path, default=Path("replay-summary.json"),
                     help="JSON summary (default: %(default)s)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(handler=replay)
