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


# Join/leave requires 0 duplicate outputs. Since the flush marks (streams/shell/flush_marks.py)
# CI-size runs repeat nothing (5 of 5 on 2026-12-01), but a medium run on the final version
# repeated one account transition once (byte-identical; cause not found: README, Reliability).
# Not strict: it runs, and shows as XPASS when it passes.
KNOWN = {
    "worker_join_leave": pytest.mark.xfail(
        reason="rarely, one byte-identical repeated transition after a rebalance",
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
