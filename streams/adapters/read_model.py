"""Read side of the Redis projection: contacts, accounts, rep queues and hot leads as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.adapters.projection_queues import SLA_KINDS, assignment_key, next_due, queue_key
from streams.adapters.projection_writes import account_key, contact_key, hot_key
from streams.security import RedisSecurity, redis_client

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
CONTACT_FLOATS = ("fit", "intent", "total")
ACCOUNT_FLOATS = ("score", "member_intent", "third_party_intent")


class ReadModelUnavailable(Exception):
    """Redis did not answer: the API says 503."""


def _text(raw: Mapping[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def _int(fields: Mapping[str, str], name: str) -> int | None:
    return int(fields[name]) if name in fields else None


def sla_clocks(fields: Mapping[str, str]) -> list[dict[str, Any]]:
    """The SLA clocks an assignment hash knows, by kind."""
    return [{"kind": kind, "status": fields[f"{kind}_status"],
             "due_at": int(fields[f"{kind}_due_at"])}
            for kind in SLA_KINDS if f"{kind}_status" in fields]


def contact_view(contact_id: str, f: Mapping[str, str],
                 assignment: Mapping[str, str] | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "contact_id": contact_id, "stage": f["stage"],
        **{name: float(f[name]) for name in CONTACT_FLOATS},
        "fit_grade": f["fit_grade"], "segment": f["segment"],
        "account_id": f.get("account_id"), "domain": f.get("domain"),
        "exclusion": f.get("exclusion"), "model_version": f["model_version"],
        "events_applied": int(f["events_applied"]), "updated_at": int(f["updated_at"]),
        "reasons": json.loads(f.get("reasons") or "[]"), "owner": None, "open_slas": [],
    }
    if "owner" in f:
        view["owner"] = {"rep_id": f["owner"], "assignment_id": f.get("owner_assignment_id"),
                         "assigned_at": _int(f, "owner_at")}
    if assignment:
        view["open_slas"] = [c for c in sla_clocks(assignment)
                             if c["status"] in ("started", "warning")]
    return view


def account_view(f: Mapping[str, str]) -> dict[str, Any]:
    return {
        "account_id": f["account_id"], "domain": f["domain"], "stage": f["stage"],
        **{name: float(f[name]) for name in ACCOUNT_FLOATS},
        "segment": f["segment"], "owner_rep_id": f.get("owner"),
        "model_version": f["model_version"], "updated_at": int(f["updated_at"]),
        "committee": {"size": int(f["committee_size"]),
                      "personas": json.loads(f["committee_personas"]),
                      "has_decision_maker": f["has_decision_maker"] == "1"},
    }


def queue_entry(f: Mapping[str, str]) -> dict[str, Any]:
    return {
        "assignment_id": f["assignment_id"], "contact_id": f["contact_id"],
        "account_id": f.get("account_id"), "priority": f.get("priority"),
        "pool": f.get("pool"), "rule": f.get("rule"), "trigger": f.get("trigger"),
        "assigned_at": _int(f, "assigned_at"), "next_due_at": next_due(f),
        "slas": sla_clocks(f),
    }


class ReadModel:
    """Answers the API from Redis; every worker can answer every key."""

    def __init__(self, redis_url: str, security: RedisSecurity) -> None:
        # Fail fast: a caller waiting on a dead Redis gets a 503 within about a second.
        self.redis: Redis = redis_client(security, redis_url, socket_connect_timeout=1.0,
                                         socket_timeout=2.0, retry=Retry(NoBackoff(), 0))

    async def close(self) -> None:
        await self.redis.aclose()

    async def _hashes(self, keys: list[str]) -> list[dict[str, str]]:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hgetall(key)
                raw: list[Mapping[bytes, bytes]] = await pipe.execute()
        except UNAVAILABLE as exc:
            raise ReadModelUnavailable(type(exc).__name__) from exc
        return [_text(r) for r in raw]

    async def contact(self, contact_id: str) -> dict[str, Any] | None:
        (fields,) = await self._hashes([contact_key(contact_id)])
        if "stage" not in fields:  # unknown, erased, or only an owner seen so far
            return None
        assignment = None
        if "owner_assignment_id" in fields:
            (assignment,) = await self._hashes([assignment_key(fields["owner_assignment_id"])])
        return contact_view(contact_id, fields, assignment)

    async def account(self, account_id: str) -> dict[str, Any] | None:
        (fields,) = await self._hashes([account_key(account_id)])
        return account_view(fields) if "stage" in fields else None

    async def _ranked(self, key: str, limit: int, ascending: bool) -> list[tuple[str, float]]:
        raw: Any
        try:
            if ascending:
                raw = await self.redis.zrange(key, 0, limit - 1, withscores=True)
            else:
                raw = await self.redis.zrevrange(key, 0, limit - 1, withscores=True)
        except UNAVAILABLE as exc:
            raise ReadModelUnavailable(type(exc).__name__) from exc
        return [(bytes(member).decode(), float(score)) for member, score in raw]

    async def rep_queue(self, rep_id: str, limit: int) -> dict[str, Any]:
        """The rep's assignments with a running SLA clock, the earliest due first."""
        ranked = await self._ranked(queue_key(rep_id), limit, ascending=True)
        hashes = await self._hashes([assignment_key(a) for a, _ in ranked])
        return {"rep_id": rep_id,
                "entries": [queue_entry(f) for f in hashes if "assignment_id" in f]}

    async def hot_leads(self, segment: str, limit: int) -> dict[str, Any]:
        """The segment's sales-ready contacts, the highest total first."""
        ranked = await self._ranked(hot_key(segment), limit, ascending=False)
        hashes = await self._hashes([contact_key(c) for c, _ in ranked])
        leads = [{"contact_id": cid, "total": total, "fit_grade": f.get("fit_grade"),
                  "account_id": f.get("account_id"), "domain": f.get("domain"),
                  "owner_rep_id": f.get("owner"), "updated_at": _int(f, "updated_at")}
                 for (cid, total), f in zip(ranked, hashes, strict=True) if "stage" in f]
        return {"segment": segment, "leads": leads}
