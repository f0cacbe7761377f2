"""Redis projection records: contact and account hashes, hot-lead sets, newer-wins scripts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CONTACT_KEY = "qs:contact:{}"
ACCOUNT_KEY = "qs:account:{}"
HOT_KEY = "qs:hot:{}"
SALES_READY = "sales_ready"
# The Segment symbols of schemas/qualification.contacts.avsc: every hot set a contact can be in.
SEGMENTS = ("smb", "mid_market", "enterprise", "unknown")
TOP_REASONS = 5
# Fields of a contact hash that come from routing.assignments, not from the contact snapshot:
# a new snapshot keeps them.
OWNER_FIELDS = ("owner", "owner_assignment_id", "owner_at")

# KEYS[1] the contact hash, KEYS[2..] every hot set; ARGV: member, mode ('put'|'del'),
# events_applied, updated_at, index in KEYS of the hot set to join (0: none), score, then
# field/value pairs. Returns 1 applied, 0 stale (older than what Redis holds), 2 deleted.
# Order: (events_applied, updated_at), the same as Version and may_replace below.
UPSERT_LUA = """
local member = ARGV[1]
if ARGV[2] == 'del' then
  for i = 2, #KEYS do redis.call('ZREM', KEYS[i], member) end
  redis.call('DEL', KEYS[1])
  return 2
end
local held = redis.call('HMGET', KEYS[1], 'events_applied', 'updated_at',
                        'owner', 'owner_assignment_id', 'owner_at')
if held[1] then
  local held_n, held_t = tonumber(held[1]), tonumber(held[2])
  local n, t = tonumber(ARGV[3]), tonumber(ARGV[4])
  if n < held_n or (n == held_n and t < held_t) then return 0 end
end
local hot = tonumber(ARGV[5])
for i = 2, #KEYS do
  if i ~= hot then redis.call('ZREM', KEYS[i], member) end
end
if hot > 0 then redis.call('ZADD', KEYS[hot], ARGV[6], member) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
if held[5] then
  redis.call('HSET', KEYS[1], 'owner_assignment_id', held[4], 'owner_at', held[5])
  if held[3] then redis.call('HSET', KEYS[1], 'owner', held[3]) end
end
return 1
"""

# KEYS[1] the account hash; ARGV: updated_at, source offset, then field/value pairs.
# Newer wins by (updated_at, offset): the account's updated_at never goes back (the latest
# event time applied) and the offset orders two snapshots of the same instant (one key, one
# partition). Returns 1 applied, 0 stale.
ACCOUNT_LUA = """
local held = redis.call('HMGET', KEYS[1], 'updated_at', 'offset')
if held[1] then
  local t, o = tonumber(ARGV[1]), tonumber(ARGV[2])
  local held_t, held_o = tonumber(held[1]), tonumber(held[2] or '-1')
  if t < held_t or (t == held_t and o < held_o) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'offset', ARGV[2], unpack(ARGV, 3))
return 1
"""
RESULTS = {0: "stale", 1: "applied", 2: "deleted"}


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """Order of a contact's snapshots: events applied first, event time as the tie-break.

    ``events_applied`` grows by one with every snapshot the contact agent publishes, while
    ``updated_at`` is the event time of the last payload applied and goes back when a late
    event (e.g. a CRM update with an older timestamp) arrives, so it cannot lead.
    """

    events_applied: int
    updated_at: int


def may_replace(candidate: Version, held: Version | None) -> bool:
    """Whether a write of ``candidate`` may replace what Redis holds (``None``: nothing).

    Newer wins, and so does an equal version: that is either the same snapshot again (a
    replay writes identical fields) or a snapshot published without a new input (a decay
    timer firing), which has no version bump of its own but is the later state.
    """
    return held is None or candidate >= held


def contact_key(contact_id: str) -> str:
    return CONTACT_KEY.format(contact_id)


def account_key(account_id: str) -> str:
    return ACCOUNT_KEY.format(account_id)


def hot_key(segment: str) -> str:
    return HOT_KEY.format(segment)


def reasons_json(reasons: Iterable[Mapping[str, Any]]) -> str:
    """The top reasons, largest first as published, as compact JSON."""
    top = [{"signal": r["signal"], "category": r["category"],
            "points": round(float(r["points"]), 2), "count": int(r["count"])}
           for r in list(reasons)[:TOP_REASONS]]
    return json.dumps(top, separators=(",", ":"))


def _present(fields: Mapping[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value is not None}


def hash_fields(record: Mapping[str, Any]) -> dict[str, str]:
    """The Redis hash of one ``qualification.contacts`` record; null fields are left out.

    Only scores, stage and company-level facts: no e-mail, name or other personal data.
    """
    return _present({
        "stage": record["stage"],
        "fit": repr(float(record["fit"])),
        "intent": repr(float(record["intent"])),
        "total": repr(float(record["total"])),
        "fit_grade": record["fit_grade"],
        "segment": record["segment"],
        "account_id": record.get("account_id"),
        "domain": record.get("domain"),
        "model_version": record["model_version"],
        "events_applied": str(int(record["events_applied"])),
        "updated_at": str(int(record["updated_at"])),
        "exclusion": record.get("exclusion"),
        "reasons": reasons_json(record.get("reasons") or ()),
    })


def account_fields(record: Mapping[str, Any]) -> dict[str, str]:
    """The Redis hash of one ``qualification.accounts`` record (no member's personal data:
    the committee is its size, its personas and whether a decision maker is in it)."""
    return _present({
        "account_id": record["account_id"],
        "domain": record["domain"],
        "stage": record["stage"],
        "score": repr(float(record["score"])),
        "member_intent": repr(float(record["member_intent"])),
        "third_party_intent": repr(float(record["third_party_intent"])),
        "committee_size": str(int(record["committee_size"])),
        "committee_personas": json.dumps(list(record["committee_personas"]),
                                         separators=(",", ":")),
        "has_decision_maker": "1" if record["has_decision_maker"] else "0",
        "segment": record["segment"],
        "owner": record.get("owner_rep_id"),
        "model_version": record["model_version"],
        "updated_at": str(int(record["updated_at"])),
    })


@dataclass(frozen=True, slots=True)
class ContactWrite:
    """One record's effect on Redis: a new snapshot (``record``) or an erasure (``None``)."""

    contact_id: str
    record: Mapping[str, Any] | None
    script = "contact"

    @property
    def version(self) -> Version | None:
        if self.record is None:
            return None
        return Version(int(self.record["events_applied"]), int(self.record["updated_at"]))

    @property
    def updated_at(self) -> int | None:
        return None if self.record is None else int(self.record["updated_at"])

    def script_call(self) -> tuple[list[str], list[str]]:
        """KEYS and ARGV of :data:`UPSERT_LUA` for this write."""
        segment = None if self.record is None else str(self.record["segment"])
        segments = [*SEGMENTS, *([segment] if segment and segment not in SEGMENTS else [])]
        keys = [contact_key(self.contact_id), *(hot_key(s) for s in segments)]
        if self.record is None or self.version is None:
            return keys, [self.contact_id, "del", "0", "0", "0", "0"]
        hot = 2 + segments.index(str(segment)) if self.record["stage"] == SALES_READY else 0
        args = [self.contact_id, "put", str(self.version.events_applied),
                str(self.version.updated_at), str(hot), repr(float(self.record["total"]))]
        for name, value in hash_fields(self.record).items():
            args += [name, value]
        return keys, args


@dataclass(frozen=True, slots=True)
class AccountWrite:
    """A ``qualification.accounts`` snapshot (a tombstone is never published for accounts)."""

    record: Mapping[str, Any]
    offset: int
    script = "account"

    @property
    def updated_at(self) -> int:
        return int(self.record["updated_at"])

    def script_call(self) -> tuple[list[str], list[str]]:
        """KEYS and ARGV of :data:`ACCOUNT_LUA` for this write."""
        args = [str(self.updated_at), str(self.offset)]
        for name, value in account_fields(self.record).items():
            args += [name, value]
        return [account_key(str(self.record["account_id"]))], args
