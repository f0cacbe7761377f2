"""HTTP API v1 on every worker: contacts, accounts, rep queues and hot leads from Redis.

Bearer-token auth on every ``/api/v1`` route except the OpenAPI document; no token
configured means the API is disabled (403), never open. The probes and /metrics (web.py)
stay unauthenticated.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from faust import web

from streams.adapters.projection_writes import SEGMENTS
from streams.adapters.read_model import ReadModel, ReadModelUnavailable
from streams.shell.openapi import API, document

if TYPE_CHECKING:
    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.api")

DEFAULT_LIMIT, MAX_LIMIT = 20, 200
DISABLED = {"error": "api_disabled",
            "message": "the API is disabled on this worker: set QUALSTREAM_API_TOKEN or "
                       "QUALSTREAM_API_TOKEN_FILE"}
UNAUTHORIZED = {"error": "unauthorized", "message": "missing or wrong bearer token"}
NO_READ_MODEL = {"error": "read_model_unavailable",
                 "message": "no Redis configured on this worker (REDIS_URL)"}

Fetch = Callable[[ReadModel, web.Request, dict[str, str]], Awaitable[dict[str, Any] | None]]


class BadRequest(Exception):
    """A malformed query parameter: 400."""


def check_bearer(expected: str | None,
                 authorization: str | None) -> tuple[int, dict[str, str]] | None:
    """None when the request may pass, else the status and JSON error to answer with."""
    if expected is None:
        return 403, DISABLED
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()):
        return 401, UNAUTHORIZED
    return None


def limit_of(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


async def _contact(rm: ReadModel, request: web.Request,
                   params: dict[str, str]) -> dict[str, Any] | None:
    return await rm.contact(params["contact_id"])


async def _account(rm: ReadModel, request: web.Request,
                   params: dict[str, str]) -> dict[str, Any] | None:
    return await rm.account(params["account_id"])


async def _queue(rm: ReadModel, request: web.Request,
                 params: dict[str, str]) -> dict[str, Any] | None:
    return await rm.rep_queue(params["rep_id"], limit_of(request))


async def _hot(rm: ReadModel, request: web.Request,
               params: dict[str, str]) -> dict[str, Any] | None:
    if params["segment"] not in SEGMENTS:
        return None
    return await rm.hot_leads(params["segment"], limit_of(request))


# path -> (view name, what it answers); docs/openapi.json documents each (test_api_unit).
ROUTES: dict[str, tuple[str, Fetch]] = {
    f"{API}/contacts/{{contact_id}}": ("api_contact", _contact),
    f"{API}/accounts/{{account_id}}": ("api_account", _account),
    f"{API}/reps/{{rep_id}}/queue": ("api_rep_queue", _queue),
    f"{API}/hot-leads/{{segment}}": ("api_hot_leads", _hot),
}


def register(p: Pipeline) -> None:
    """Add the API routes to the worker's web server (the same port as /metrics)."""
    token = p.settings.api_token
    s = p.settings
    read_model = ReadModel(s.redis_url, s.redis_security) if s.redis_url else None
    if token is None:
        log.warning("API disabled: set QUALSTREAM_API_TOKEN or QUALSTREAM_API_TOKEN_FILE")
    spec = document()

    @p.app.page(f"{API}/openapi.json", name="api_openapi")
    async def openapi(view: web.View, request: web.Request) -> web.Response:
        return view.json(spec)

    for path, (name, fetch) in ROUTES.items():
        p.app.page(path, name=name)(_endpoint(token, read_model, fetch, name))


def _endpoint(token: str | None, read_model: ReadModel | None, fetch: Fetch,
              name: str) -> Callable[..., Awaitable[web.Response]]:
    async def handler(view: web.View, request: web.Request, **params: str) -> web.Response:
        denied = check_bearer(token, request.headers.get("Authorization"))
        if denied is not None:
            status, body = denied
            headers = {"WWW-Authenticate": 'Bearer realm="qualstream"'} if status == 401 else None
            return view.json(body, status=status, headers=headers)
        if read_model is None:
            return view.json(NO_READ_MODEL, status=503)
        try:
            found = await fetch(read_model, request, params)
        except BadRequest as exc:
            return view.json({"error": "bad_request", "message": str(exc)}, status=400)
        except ReadModelUnavailable as exc:
            return view.json({"error": "read_model_unavailable",
                              "message": f"Redis is not answering ({exc}); retry later"},
                             status=503, headers={"Retry-After": "5"})
        if found is None:
            return view.json({"error": "not_found", "message": "no such id in the read model"},
                             status=404)
        return view.json(found)

    handler.__name__ = name
    return handler
