"""``qualstream replay`` on the golden history file: stdout, JSON summary and HTML report."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from streams.cli import main
from streams.replay.commands import parse_since
from streams.replay.history import write_history
from tests.unit.golden_replay import T0, X, Y, golden_trace, model_texts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_replay_writes_the_summary_the_json_and_a_self_contained_html(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "history.avro"
    write_history(history, golden_trace())
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    for path, text in zip((a, b), model_texts(), strict=True):
        path.write_text(text, encoding="utf-8")
    html, summary = tmp_path / "report.html", tmp_path / "summary.json"

    assert main(["replay", "--model", str(a), "--model", str(b), "--input", str(history),
                 "--html", str(html), "--json", str(summary), "--no-progress"]) == 0

    out = capsys.readouterr().out
    assert f"only golden-b: {X}" in out and f"only 2026.11.0: {Y}" in out
    doc = json.loads(summary.read_text())
    [diff] = doc["comparisons"]
    assert (diff["only_candidate"], diff["only_baseline"]) == ([X], [Y])
    page = html.read_text()
    assert "http://" not in page and "https://" not in page  # nothing fetched from outside
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 4
    assert all(base64.b64decode(img).startswith(PNG_MAGIC) for img in images)
    assert X in page and Y in page


def test_since_parses_dates_as_utc() -> None:
    assert parse_since("2026-06-01") == T0
    assert parse_since("2026-06-01T02:00:00+02:00") == T0
