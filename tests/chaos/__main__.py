"""`make chaos`: every scenario at full size; writes chaos-results.json and prints the table.

    python -m tests.chaos [--size full|medium|ci] [--out chaos-results.json] [scenario ...]

KAFKA_BOOTSTRAP_SERVERS runs against that Kafka (broker_stall is then skipped), else an
embedded Tansu is started. CHAOS_KEEP_DIR=DIR keeps the workers' and the broker's logs and data in DIR (a new folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from streams.devstack import (
    BrokerHandle,
    external_or_embedded_broker,
    start_broker,
    start_redis,
)
from tests.chaos.cluster import ChaosEnv
from tests.chaos.result import ChaosResult, table
from tests.chaos.scenarios import SCENARIOS


def _broker(log_dir: Path) -> BrokerHandle:
    """``KAFKA_BOOTSTRAP_SERVERS`` (a real Kafka: the full sizes finish there) or Tansu."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return external_or_embedded_broker()
    return start_broker(log_dir=log_dir)


async def run(names: list[str], size: str, out: Path) -> list[ChaosResult]:
    results: list[ChaosResult] = []
    keep = os.environ.get("CHAOS_KEEP_DIR")  # keep the workers' and broker's logs there
    with (nullcontext(keep) if keep else tempfile.TemporaryDirectory(prefix="qualstream-chaos-")) as tmp, \
            _broker(Path(tmp)) as broker, start_redis(env={}) as redis:
        env = ChaosEnv(broker, redis, Path(tmp))
        for name in names:
            if name == "broker_stall" and broker.external:
                print("== broker_stall skipped: it stops the embedded broker's process",
                      flush=True)
                continue
            print(f"== {name} ({size})", flush=True)
            started = time.monotonic()
            try:
                result = await SCENARIOS[name](env, size)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - a broken scenario is a failed row
                result = ChaosResult(name, 0, 0, 0, 0, 0, False, False,
                                     round(time.monotonic() - started, 1),
                                     details={"error": f"{type(exc).__name__}: {exc}"})
            results.append(result)
            summary = {k: v for k, v in result.row().items() if k != "details"}
            print(json.dumps(summary), flush=True)
            out.write_text(json.dumps([r.row() for r in results], indent=2, default=str) + "\n")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos")
    parser.add_argument("scenarios", nargs="*", metavar="scenario",
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--size", choices=["full", "medium", "ci"], default="full")
    parser.add_argument("--out", type=Path, default=Path("chaos-results.json"))
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    results = asyncio.run(run(args.scenarios or list(SCENARIOS), args.size, args.out))
    print(table(results))
    print(f"{sum(r.passed for r in results)}/{len(results)} passed in "
          f"{time.monotonic() - started:.0f} s; results in {args.out}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
