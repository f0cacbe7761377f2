"""HTTP API, pure parts: bearer check, token resolution, limits, views, the OpenAPI document."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from streams.adapters.projection_queues import next_due
from streams.adapters.read_model import account_view, contact_view, queue_entry
from streams.config import Settings, from_env, to_env
from streams.security import SecurityConfigError
from streams.shell.api import DISABLED, ROUTES, UNAUTHORIZED, check_bearer
from streams.shell.openapi import document, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.mark.parametrize(("header", "status"), [
    (None, 401), ("", 401), ("Bearer", 401), ("Bearer wrong", 401), ("Basic s3cret", 401),
    ("Bearer s3cret-but-longer", 401), ("Bearer s3cre", 401),
    ("Bearer s3cret", None), ("bearer s3cret", None),
])
def test_bearer_token(header: str | None, status: int | None) -> None:
    denied = check_bearer("s3cret", header)
    assert (denied[0] if denied else None) == status
    if denied:
        assert denied[1] == UNAUTHORIZED


def test_no_token_configured_disables_the_api_whatever_is_sent() -> None:
    for header in (None, "Bearer ", "Bearer anything"):
        assert check_bearer(None, header) == (403, DISABLED)
    assert "QUALSTREAM_API_TOKEN" in DISABLED["message"]


def test_token_from_env_or_file(tmp_path: Path) -> None:
    assert Settings().api_token is None
    assert from_env({"QUALSTREAM_API_TOKEN": "abc"}).api_token == "abc"
    path = tmp_path / "token"
    path.write_text("from-file\n")
    settings = from_env({"QUALSTREAM_API_TOKEN_FILE": str(path)})
    assert settings.api_token == "from-file"
    assert from_env(to_env(settings)).api_token == "from-file"
    assert "from-file" not in repr(settings)
    path.write_text("")
    with pytest.raises(SecurityConfigError, match="empty"):
        from_env({"QUALSTREAM_API_TOKEN_FILE": str(path)})
    with pytest.raises(SecurityConfigError, match="cannot read"):
        from_env({"QUALSTREAM_API_TOKEN_FILE": str(tmp_path / "missing")})


def test_committed_openapi_document_is_the_generated_one_and_valid() -> None:
    assert DOC.read_text() == render(), (
        "docs/openapi.json is stale: python -m streams.shell.openapi > docs/openapi.json")
    validate(json.loads(DOC.read_text()))


def test_every_route_of_the_worker_is_documented() -> None:
    from streams.shell.app import build_pipeline
    from streams.shell.worker import load_model

    settings = dataclasses.replace(from_env({}), store="memory://", api_token="t")
    routes = set(build_pipeline(settings, load_model(settings)).app.web.views)
    documented = set(document()["paths"])
    assert set(ROUTES) <= routes
    assert routes == documented
    for path, item in document()["paths"].items():
        secured = item["get"]["security"] != []
        assert secured == (path in ROUTES), path  # probes, metrics and the doc are open


T = 1_700_000_000_000


def test_contact_view_has_owner_and_open_slas_only() -> None:
    fields = {"stage": "sales_ready", "fit": "80.0", "intent": "70.5", "total": "74.3",
              "fit_grade": "A", "segment": "smb", "model_version": "m1",
              "events_applied": "3", "updated_at": str(T),
              "reasons": '[{"signal":"web.pricing","category":"intent","points":12.5,"count":1}]',
              "owner": "rep-1", "owner_assignment_id": "asg-1", "owner_at": str(T)}
    assignment = {"first_touch_status": "met", "first_touch_due_at": str(T + 1),
                  "accept_reject_status": "warning", "accept_reject_due_at": str(T + 2)}
    view = contact_view("c-1", fields, assignment)
    assert view["owner"] == {"rep_id": "rep-1", "assignment_id": "asg-1", "assigned_at": T}
    assert view["open_slas"] == [{"kind": "accept_reject", "status": "warning",
                                  "due_at": T + 2}]
    assert view["total"] == 74.3 and view["reasons"][0]["signal"] == "web.pricing"
    assert view["account_id"] is None and view["exclusion"] is None
    assert set(view) == set(document()["components"]["schemas"]["Contact"]["properties"])


def test_account_view_nests_the_committee() -> None:
    view = account_view({
        "account_id": "A1", "domain": "acme.com", "stage": "qualified", "score": "61.5",
        "member_intent": "50.0", "third_party_intent": "11.5", "committee_size": "3",
        "committee_personas": '["champion","decision_maker"]', "has_decision_maker": "1",
        "segment": "mid_market", "owner": "rep-9", "model_version": "m1",
        "updated_at": str(T), "offset": "7"})
    assert view["committee"] == {"size": 3, "personas": ["champion", "decision_maker"],
                                 "has_decision_maker": True}
    assert view["owner_rep_id"] == "rep-9" and "offset" not in view
    assert set(view) == set(document()["components"]["schemas"]["Account"]["properties"])


@pytest.mark.parametrize(("fields", "due"), [
    ({"assigned_at": str(T)}, T),  # the assignment alone, no first-touch due time
    ({"assigned_at": str(T), "sla_due_at": str(T + 300)}, T + 300),
    ({"first_touch_rank": "1", "first_touch_due_at": str(T + 300),
      "accept_reject_rank": "2", "accept_reject_due_at": str(T + 100)}, T + 100),
    ({"first_touch_rank": "3", "first_touch_due_at": str(T + 300),
      "accept_reject_rank": "1", "accept_reject_due_at": str(T + 900)}, T + 900),
    ({"sla_due_at": str(T), "first_touch_rank": "3", "first_touch_due_at": str(T),
      "accept_reject_rank": "3", "accept_reject_due_at": str(T)}, None),
])
def test_queue_score(fields: dict[str, str], due: int | None) -> None:
    assert next_due(fields) == due


def test_queue_entry_view() -> None:
    entry: dict[str, Any] = queue_entry({
        "assignment_id": "asg-1", "contact_id": "c-1", "rep_id": "rep-1", "pool": "NA:smb",
        "rule": "territory_round_robin", "priority": "p1", "trigger": "form.demo_request",
        "assigned_at": str(T), "first_touch_rank": "1", "first_touch_status": "started",
        "first_touch_due_at": str(T + 300)})
    assert entry["next_due_at"] == T + 300
    assert entry["slas"] == [{"kind": "first_touch", "status": "started", "due_at": T + 300}]
    assert set(entry) == set(document()["components"]["schemas"]["QueueEntry"]["properties"])
