"""A Faust agent that iterates a topic and does nothing: Faust's own per-event cost.

Run as ``python -m streams.bench.faust_bare BOOTSTRAP TOPIC COUNT RESULT_FILE``; it writes
``{"events": n, "seconds": s}`` (first to last event) to RESULT_FILE and keeps running until
terminated, like any worker.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path


def main(argv: list[str]) -> None:
    import faust

    from streams.shell.app import set_fetch_max_wait

    bootstrap, topic_name, count, result = argv[0], argv[1], int(argv[2]), Path(argv[3])
    set_fetch_max_wait(20)  # as the pipeline's workers on the embedded broker
    app_id = f"bench-bare-{uuid.uuid4().hex[:6]}"
    app = faust.App(app_id, broker=f"kafka://{bootstrap}", datadir=str(result.parent / app_id),
                    store="memory://", web_enabled=False, key_serializer="raw",
                    value_serializer="raw", consumer_auto_offset_reset="earliest",
                    topic_allow_declare=False)
    topic = app.topic(topic_name)
    seen = {"n": 0, "first": 0.0}

    @app.agent(topic)
    async def bare(stream: faust.StreamT) -> None:
        async for _ in stream:
            seen["n"] += 1
            if seen["n"] == 1:
                seen["first"] = time.perf_counter()
            elif seen["n"] == count:
                elapsed = time.perf_counter() - seen["first"]
                result.write_text(json.dumps({"events": count - 1, "seconds": elapsed}))

    worker = faust.Worker(app, loglevel="warning", quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1:])
