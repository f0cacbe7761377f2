"""Worker web pages: Prometheus /metrics and the health probes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faust import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from streams.shell.app import Pipeline


def register(p: Pipeline) -> None:
    app = p.app

    @app.page("/metrics")
    async def metrics(view: web.View, request: web.Request) -> web.Response:
        for name, table in p.tables.items():
            p.metrics.table_keys.labels(name).set(len(table))
        body = generate_latest(p.metrics.registry)
        return view.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz(view: web.View, request: web.Request) -> web.Response:
        return view.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(view: web.View, request: web.Request) -> web.Response:
        recovery = getattr(app.tables, "recovery", None)
        recovering = recovery is None or not recovery.completed.is_set()
        status = 503 if recovering else 200
        return view.json({"ready": not recovering}, status=status)
