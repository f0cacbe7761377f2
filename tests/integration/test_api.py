"""HTTP API of a real worker, served from the Redis projection: auth, content, 404s, queues."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from streams.config import from_env
from streams.shell.openapi import document
from streams.shell.worker import ensure_topics
from tests.integration.support import Tail, Worker, producer, send, worker_env
from tests.integration.test_contact_pipeline import account, contact, demo_request
from tests.integration.test_routing_and_sla import activity, rep
from tests.support.models import sla_model_text

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
Json = dict[str, Any]


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout}s")


class Client:
    """GETs against one worker, with or without the bearer token."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def get(self, path: str, token: str | None = None,
                  anonymous: bool = False) -> tuple[int, Any, Any]:
        """GET ``path`` with the worker's token, another ``token``, or none (``anonymous``)."""
        headers = {}
        if not anonymous:
            headers["Authorization"] = f"Bearer {token or self.token}"
        async with self.session.get(self.base + path, headers=headers) as resp:
            is_json = resp.content_type == "application/json"
            body = await resp.json() if is_json else await resp.text()
            return resp.status, body, resp.headers

    async def found(self, path: str) -> Json | None:
        try:
            status, body, _ = await self.get(path)
        except aiohttp.ClientConnectionError:
            return None  # the worker's web server is not up yet
        return body if status == 200 else None


async def test_api_serves_contacts_accounts_queues_and_hot_leads_behind_a_token(
    bootstrap: str, unique_prefix: str, tmp_path: Path, redis_server: Any,
) -> None:
    p = uuid.uuid4().hex[:8]
    cid, acc, domain, rep_id = f"{p}-vp", f"{p}-A", f"{p}-acme.com", f"{p}-rep"
    token = secrets.token_urlsafe(24)
    model = tmp_path / "model.toml"
    model.write_text(sla_model_text(600.0))  # a first-touch clock that stays open meanwhile
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data", REDIS_URL=redis_server.url,
                     QUALSTREAM_API_TOKEN=token, QUALSTREAM_MODEL=str(model),
                     QUALSTREAM_TICK_INTERVAL_S="0.2")
    settings = from_env(env)
    await ensure_topics(settings)
    t = settings.topics
    worker = Worker(env, tmp_path / "worker.log").start()
    prod = await producer(bootstrap)
    tails = {name: await Tail(bootstrap, topic, base).start() for name, topic, base in (
        ("contacts", t.qualification_contacts, "qualification.contacts"),
        ("accounts", t.qualification_accounts, "qualification.accounts"),
        ("assignments", t.assignments, "routing.assignments"),
        ("sla", t.sla_events, "sla.events"))}
    api = Client(worker.web, token)
    try:
        await send(prod, t.reps, "sales.reps", rep_id, rep(rep_id))
        await send(prod, t.crm_accounts, "crm.accounts", acc,
                   account(acc, domain, owner_rep_id=rep_id))
        await send(prod, t.crm_contacts, "crm.contacts", cid, contact(cid, f"vera@{domain}"))
        await tails["contacts"].wait_for(
            lambda k, v: k == cid and v is not None and v["segment"] == "mid_market", 90)
        await send(prod, t.web, "events.web", cid,
                   demo_request(f"demo-{cid}", cid, int(time.time() * 1000)))
        _, assigned, _ = await tails["assignments"].wait_for(lambda k, v: k == cid, 60)
        assert assigned is not None and assigned["rep_id"] == rep_id
        asg = assigned["assignment_id"]
        started = {v["kind"]: v["due_at"] for _, v, _ in [
            await tails["sla"].wait_for(lambda k, v, kind=kind: k == cid and v is not None
                                        and v["kind"] == kind, 30)
            for kind in ("first_touch", "accept_reject")] if v is not None}

        # -- auth: probes, metrics and the document are open; the data routes are not
        contact_path = f"/api/v1/contacts/{cid}"
        body = await eventually(lambda: api.found(contact_path), 30, "the contact via the API")
        for bad in ("wrong-token", token[:-1], None):
            status, err, headers = await api.get(contact_path, bad, anonymous=bad is None)
            assert status == 401 and err["error"] == "unauthorized", bad
            assert headers["WWW-Authenticate"].startswith("Bearer")
        for open_path in ("/healthz", "/metrics", "/api/v1/openapi.json"):
            status, served, _ = await api.get(open_path, anonymous=True)
            assert status == 200, open_path
        assert served == document()

        # -- the contact: the published state, its owner and its running SLA clocks
        async def contact_complete() -> Json | None:
            found = await api.found(contact_path)
            latest = tails["contacts"].latest_by_key().get(cid)
            if not found or not latest or len(found["open_slas"]) < 2:
                return None
            same = all(found[f] == latest[f] for f in (
                "stage", "total", "fit", "intent", "events_applied", "updated_at"))
            return found if same else None

        body = await eventually(contact_complete, 30, "the contact's owner and clocks")
        assert body["stage"] == "sales_ready" and body["owner"]["rep_id"] == rep_id
        assert body["owner"]["assignment_id"] == asg
        assert {c["kind"]: c["due_at"] for c in body["open_slas"]} == started
        assert "form.demo_request" in {r["signal"] for r in body["reasons"]}
        assert "@" not in str(body) and "Vera" not in str(body)  # no personal data

        # -- the account with its committee, as last published
        async def account_published() -> Json | None:
            found = await api.found(f"/api/v1/accounts/{acc}")
            latest = tails["accounts"].latest_by_key().get(acc)
            ok = found and latest and found["updated_at"] == latest["updated_at"] and found[
                "committee"]["size"] == latest["committee_size"] >= 1
            return found if ok else None

        acct = await eventually(account_published, 30, "the account with its committee")
        assert acct["committee"]["has_decision_maker"] is True
        assert "decision_maker" in acct["committee"]["personas"]
        assert acct["owner_rep_id"] == rep_id and acct["domain"] == domain

        # -- hot leads and the rep's queue
        status, hot, _ = await api.get("/api/v1/hot-leads/mid_market?limit=200")
        assert status == 200 and cid in {lead["contact_id"] for lead in hot["leads"]}
        queue_path = f"/api/v1/reps/{rep_id}/queue"
        _, queue, _ = await api.get(queue_path)
        assert [(e["assignment_id"], e["next_due_at"]) for e in queue["entries"]] == [
            (asg, min(started.values()))]

        # -- not found, bad request
        for path in (f"/api/v1/contacts/{p}-nobody", f"/api/v1/accounts/{p}-none",
                     "/api/v1/hot-leads/strategic"):
            status, err, _ = await api.get(path)
            assert (status, err["error"]) == (404, "not_found"), path
        status, err, _ = await api.get(f"{queue_path}?limit=0")
        assert (status, err["error"]) == (400, "bad_request")

        # -- a first touch stops one clock, a decision the other: the entry leaves the queue
        await send(prod, t.activity, "sales.activity", cid,
                   activity(f"touch-{cid}", cid, "first_touch", asg, rep_id))

        async def next_due_is_accept_reject() -> bool:
            _, q, _ = await api.get(queue_path)
            return [e["next_due_at"] for e in q["entries"]] == [started["accept_reject"]]

        await eventually(next_due_is_accept_reject, 30, "first touch met in the queue")
        await send(prod, t.activity, "sales.activity", cid,
                   activity(f"accept-{cid}", cid, "accepted", asg, rep_id))

        async def queue_empty() -> bool:
            _, q, _ = await api.get(queue_path)
            return q["entries"] == []

        await eventually(queue_empty, 30, "the accepted lead leaving the queue")

        async def accepted() -> bool:
            found = await api.found(contact_path)
            return bool(found) and found["stage"] == "accepted" and found["open_slas"] == []

        await eventually(accepted, 30, "the accepted contact without running clocks")
    finally:
        await api.session.close()
        for tail in tails.values():
            await tail.stop()
        await prod.stop()
        code = worker.stop()
        print(worker.log_tail())
    assert code in (0, -15), f"worker exited with {code}"
