"""Redis projection of assignments and SLA clocks: each rep's open queue by next SLA due time.

``qs:assignment:<assignment id>`` is a hash of the assignment (contact, account, rep, pool,
rule, priority, trigger, assigned_at) and, per SLA kind, the clock's latest status and due
time. ``qs:queue:<rep id>`` is a sorted set of the rep's assignments that still have a running
clock, scored by the earliest due time among them (epoch ms). An assignment leaves its rep's
queue when its last clock stops: met (a touch or a decision), cancelled (recycled, or
reassigned elsewhere after a breach) or breached (the breach escalates: a reassignment shows
up in the new rep's queue, a manager escalation is on ``sla.events``). The contact hash gets
``owner`` (the rep of its latest assignment).

Records of routing.assignments and sla.events arrive in any order relative to each other (two
topics); each clock only moves forward (started < warning < met | breached | cancelled) and the
queue entry is recomputed from the hash after every write, so any order and any replay end in
the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.adapters.projection_writes import contact_key

ASSIGNMENT_KEY = "qs:assignment:{}"
QUEUE_KEY = "qs:queue:{}"
SLA_KINDS = ("first_touch", "accept_reject")  # the SlaKind symbols of schemas/sla.events.avsc
RANK = {"started": 1, "warning": 2, "met": 3, "breached": 3, "cancelled": 3}
FINISHED = 3
OPEN_STATUSES = ("started", "warning")

_KINDS_LUA = "{" + ", ".join(f"'{k}'" for k in SLA_KINDS) + "}"
# KEYS[1] the assignment hash, KEYS[2] the contact hash, KEYS[3] the rep's queue (absent when
# the assignment has no rep). ARGV[1] mode, ARGV[2] assignment id, ARGV[3] rep id ('': none).
# 'assign': ARGV[4] assigned_at, ARGV[5..] field/value pairs of the assignment.
# 'sla': ARGV[4] kind, ARGV[5] rank, ARGV[6] status, ARGV[7] due_at, ARGV[8] contact id.
# Returns 1 applied, 0 stale (already known, or a clock status older than the one held).
SALES_LUA = """
local h, mode, id, rep = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local applied = 0
if mode == 'assign' then
  if redis.call('HEXISTS', h, 'assigned_at') == 0 then
    redis.call('HSET', h, unpack(ARGV, 5))
    applied = 1
  end
  if rep ~= '' then
    local at = redis.call('HGET', KEYS[2], 'owner_at')
    if (not at) or tonumber(ARGV[4]) >= tonumber(at) then
      redis.call('HSET', KEYS[2], 'owner', rep, 'owner_assignment_id', id, 'owner_at', ARGV[4])
    end
  end
else
  local kind = ARGV[4]
  local held = tonumber(redis.call('HGET', h, kind .. '_rank') or '0')
  if tonumber(ARGV[5]) > held then
    redis.call('HSET', h, kind .. '_rank', ARGV[5], kind .. '_status', ARGV[6],
               kind .. '_due_at', ARGV[7], 'assignment_id', id, 'contact_id', ARGV[8])
    if rep ~= '' then redis.call('HSETNX', h, 'rep_id', rep) end
    applied = 1
  end
end
if KEYS[3] then
  local next_due, known = nil, false
  for _, kind in ipairs(KINDS) do
    local f = redis.call('HMGET', h, kind .. '_rank', kind .. '_due_at')
    if f[1] then
      known = true
      if tonumber(f[1]) < FINISHED then
        local due = tonumber(f[2])
        if (not next_due) or due < next_due then next_due = due end
      end
    end
  end
  if not known then  -- the assignment alone so far: open, due by its first-touch time
    local f = redis.call('HMGET', h, 'sla_due_at', 'assigned_at')
    next_due = tonumber(f[1] or f[2])
  end
  if next_due then redis.call('ZADD', KEYS[3], next_due, id)
  else redis.call('ZREM', KEYS[3], id) end
end
return applied
""".replace("KINDS)", f"{_KINDS_LUA})").replace("< FINISHED", f"< {FINISHED}")


def assignment_key(assignment_id: str) -> str:
    return ASSIGNMENT_KEY.format(assignment_id)


def queue_key(rep_id: str) -> str:
    return QUEUE_KEY.format(rep_id)


def assignment_fields(record: Mapping[str, Any]) -> dict[str, str]:
    """The assignment part of its hash (ids and routing facts only: no personal data)."""
    fields: dict[str, Any] = {
        "assignment_id": record["assignment_id"], "contact_id": record["contact_id"],
        "account_id": record.get("account_id"), "rep_id": record.get("rep_id"),
        "pool": record["pool"], "rule": record["rule"], "priority": record["priority"],
        "trigger": record["trigger"], "assigned_at": int(record["occurred_at"]),
        "sla_due_at": record.get("sla_due_at"), "model_version": record["model_version"],
    }
    return {name: str(value) for name, value in fields.items() if value is not None}


def _keys(assignment_id: str, contact_id: str, rep_id: str | None) -> list[str]:
    return [assignment_key(assignment_id), contact_key(contact_id),
            *([queue_key(rep_id)] if rep_id else [])]


@dataclass(frozen=True, slots=True)
class AssignmentWrite:
    """One ``routing.assignments`` record."""

    record: Mapping[str, Any]
    script = "sales"

    @property
    def updated_at(self) -> int:
        return int(self.record["occurred_at"])

    def script_call(self) -> tuple[list[str], list[str]]:
        r = self.record
        args = ["assign", str(r["assignment_id"]), str(r.get("rep_id") or ""),
                str(int(r["occurred_at"]))]
        for name, value in assignment_fields(r).items():
            args += [name, value]
        return _keys(r["assignment_id"], r["contact_id"], r.get("rep_id")), args


@dataclass(frozen=True, slots=True)
class SlaWrite:
    """One ``sla.events`` record: a clock of an assignment moved."""

    record: Mapping[str, Any]
    script = "sales"

    @property
    def updated_at(self) -> int:
        return int(self.record["occurred_at"])

    def script_call(self) -> tuple[list[str], list[str]]:
        r = self.record
        args = ["sla", str(r["assignment_id"]), str(r.get("rep_id") or ""), str(r["kind"]),
                str(RANK[str(r["status"])]), str(r["status"]), str(int(r["due_at"])),
                str(r["contact_id"])]
        return _keys(r["assignment_id"], r["contact_id"], r.get("rep_id")), args


def next_due(fields: Mapping[str, str]) -> int | None:
    """The queue score the script gives an assignment hash (None: not in the queue); the
    same rule in Python, for the read side and for tests that recompute the queues."""
    known = False
    due: int | None = None
    for kind in SLA_KINDS:
        rank = fields.get(f"{kind}_rank")
        if rank is None:
            continue
        known = True
        if int(rank) < FINISHED:
            at = int(fields[f"{kind}_due_at"])
            due = at if due is None else min(due, at)
    if not known:
        fallback = fields.get("sla_due_at") or fields.get("assigned_at")
        return int(fallback) if fallback else None
    return due
