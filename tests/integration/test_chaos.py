"""The chaos scenarios of `make chaos`, smaller but real: the same harness, workers, broker and
Redis, with fewer events and shorter outages (see tests/chaos/scenarios.py for both sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.devstack import BrokerHandle, RedisHandle
from tests.chaos.cluster import ChaosEnv
from tests.chaos.scenarios import SCENARIOS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]


# Open bugs (README, Reliability), each measured in about one run of three: a partition just
# assigned can lose the first messages Faust fetched for it (join/leave), and a kill -9 can
# leave a contact's published state one input short. These still run every time and show as
# XPASS when they pass; a failure does not turn CI red until the fix lands and the mark goes.
KNOWN = {
    "worker_join_leave": pytest.mark.xfail(
        reason="rebalance can drop the first messages of a newly assigned partition",
        strict=False),
    "kill_minus_9": pytest.mark.xfail(
        reason="a kill -9 can leave a contact's published state one input short", strict=False),
    # Seen on a quiet CI-like run: state exact, nothing lost, every timer fired once, but the
    # group's committed offset of one contact-inputs partition stayed behind ("settled": false).
    "broker_stall": pytest.mark.xfail(
        reason="the committed offset of a partition can stall behind processed inputs",
        strict=False),
    "sla_timers_kill_minus_9": pytest.mark.xfail(
        reason="the committed offset of a partition can stall behind processed inputs",
        strict=False),
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=KNOWN[n]) if n in KNOWN else n
                                  for n in SCENARIOS])
async def test_chaos_scenario_passes(name: str, broker: BrokerHandle,
                                     redis_server: RedisHandle, tmp_path: Path) -> None:
    if name == "broker_stall" and broker.external:
        pytest.skip("stalling needs the embedded broker (SIGSTOP/SIGCONT of its process)")
    result = await SCENARIOS[name](ChaosEnv(broker, redis_server, tmp_path), "ci")
    report = json.dumps(result.row(), indent=1, default=str)
    print(report)
    assert result.passed, report
    # the figures the pass rests on, spelled out
    assert result.lost == 0 and result.double_counted == 0, report
    assert result.state_matches_recompute, report
