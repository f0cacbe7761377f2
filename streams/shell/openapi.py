"""The OpenAPI 3 document of the worker's HTTP API (docs/openapi.json is generated from it).

Regenerate the committed copy with ``python -m streams.shell.openapi > docs/openapi.json``;
tests/unit/test_api_unit.py fails when they differ or when a route is undocumented.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from streams.adapters.projection_writes import SEGMENTS

API = "/api/v1"
VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "Malformed query parameter.", 401: "Missing or wrong bearer token.",
            403: "The API is disabled on this worker (no token configured).",
            404: "Unknown id.", 503: "Redis (the read model) is unavailable; retry later."}
    return {str(s): _json(_ref("Error"), text[s]) for s in statuses}


def _path_param(name: str, description: str, enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}


LIMIT = {"name": "limit", "in": "query", "required": False,
         "description": "How many entries at most (default 20).",
         "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}}


def _api_get(summary: str, params: list[dict[str, Any]], schema: str,
             errors: tuple[int, ...] = (401, 403, 404, 503)) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": params, "security": [{"bearer": []}],
                    "responses": {"200": _json(_ref(schema), "Found."), **_errors(*errors)}}}


def _probe(summary: str, schema: dict[str, Any], extra: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    responses = {"200": _json(schema, "OK."), **(extra or {})}
    return {"get": {"summary": summary, "security": [], "responses": responses}}


NUMBER, INTEGER, STRING = {"type": "number"}, {"type": "integer"}, {"type": "string"}
NULLABLE_STRING = {"type": "string", "nullable": True}
EPOCH_MS = {"type": "integer", "description": "Epoch milliseconds."}
SLA_CLOCK = {"type": "object", "required": ["kind", "status", "due_at"], "properties": {
    "kind": {"type": "string", "enum": ["first_touch", "accept_reject"]},
    "status": {"type": "string",
               "enum": ["started", "warning", "met", "breached", "cancelled"]},
    "due_at": EPOCH_MS}}


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "required": sorted(properties),
            "properties": properties}


SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": STRING, "message": STRING}, "An error, in plain words."),
    "Reason": _object({"signal": STRING, "category": STRING, "points": NUMBER,
                       "count": INTEGER}, "One signal's contribution to the score."),
    "SlaClock": SLA_CLOCK,
    "Contact": _object({
        "contact_id": STRING, "stage": STRING, "fit": NUMBER, "intent": NUMBER,
        "total": NUMBER, "fit_grade": STRING, "segment": STRING,
        "account_id": NULLABLE_STRING, "domain": NULLABLE_STRING,
        "exclusion": NULLABLE_STRING, "model_version": STRING, "events_applied": INTEGER,
        "updated_at": EPOCH_MS, "reasons": {"type": "array", "items": _ref("Reason")},
        "owner": {"type": "object", "nullable": True,
                  "description": "The rep of the contact's latest assignment.",
                  "properties": {"rep_id": STRING, "assignment_id": STRING,
                                 "assigned_at": EPOCH_MS}},
        "open_slas": {"type": "array", "items": _ref("SlaClock"),
                      "description": "Running SLA clocks of the owner's assignment."},
    }, "A contact's latest qualification (no e-mail or other personal data)."),
    "Account": _object({
        "account_id": STRING, "domain": STRING, "stage": STRING, "score": NUMBER,
        "member_intent": NUMBER, "third_party_intent": NUMBER, "segment": STRING,
        "owner_rep_id": NULLABLE_STRING, "model_version": STRING, "updated_at": EPOCH_MS,
        "committee": _object({"size": INTEGER,
                              "personas": {"type": "array", "items": STRING},
                              "has_decision_maker": {"type": "boolean"}},
                             "The buying committee: distinct engaged members."),
    }, "An account's latest qualification."),
    "QueueEntry": _object({
        "assignment_id": STRING, "contact_id": STRING, "account_id": NULLABLE_STRING,
        "priority": STRING, "pool": STRING, "rule": STRING, "trigger": STRING,
        "assigned_at": EPOCH_MS, "next_due_at": {**EPOCH_MS, "nullable": True},
        "slas": {"type": "array", "items": _ref("SlaClock")},
    }, "An assignment with a running SLA clock."),
    "RepQueue": _object({"rep_id": STRING,
                         "entries": {"type": "array", "items": _ref("QueueEntry")}},
                        "A rep's open queue, the earliest SLA due time first."),
    "HotLead": _object({"contact_id": STRING, "total": NUMBER, "fit_grade": NULLABLE_STRING,
                        "account_id": NULLABLE_STRING, "domain": NULLABLE_STRING,
                        "owner_rep_id": NULLABLE_STRING, "updated_at": EPOCH_MS},
                       "A sales-ready contact."),
    "HotLeads": _object({"segment": STRING,
                         "leads": {"type": "array", "items": _ref("HotLead")}},
                        "A segment's sales-ready contacts, the highest total first."),
}


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.0 document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "qualstream worker API", "version": VERSION,
                 "description": "Read model of the lead-qualification pipeline, served by "
                                "every worker from Redis. /api/v1 routes need a bearer "
                                "token; the OpenAPI document, probes and metrics do not."},
        "paths": {
            f"{API}/contacts/{{contact_id}}": _api_get(
                "A contact's score, stage, explanation, owner and open SLAs",
                [_path_param("contact_id", "Contact id.")], "Contact"),
            f"{API}/accounts/{{account_id}}": _api_get(
                "An account's score, stage and buying committee",
                [_path_param("account_id", "CRM account id (else the company domain).")],
                "Account"),
            f"{API}/reps/{{rep_id}}/queue": _api_get(
                "A rep's open queue with SLA deadlines (empty for an unknown rep)",
                [_path_param("rep_id", "Rep id."), LIMIT], "RepQueue", (400, 401, 403, 503)),
            f"{API}/hot-leads/{{segment}}": _api_get(
                "The top sales-ready contacts of a segment",
                [_path_param("segment", "Company size segment.", list(SEGMENTS)), LIMIT],
                "HotLeads", (400, 401, 403, 404, 503)),
            f"{API}/openapi.json": _probe("This document", {"type": "object"}),
            "/healthz": _probe("Liveness", _object({"status": STRING}, "Always ok.")),
            "/readyz": _probe("Readiness: table recovery finished",
                              _object({"ready": {"type": "boolean"}}, "Ready or not."),
                              {"503": _json(_object({"ready": {"type": "boolean"}},
                                                    "Not ready."), "Recovering.")}),
            "/metrics": {"get": {"summary": "Prometheus metrics", "security": [],
                                 "responses": {"200": {
                                     "description": "Prometheus text format.",
                                     "content": {"text/plain": {"schema": STRING}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
