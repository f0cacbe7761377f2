"""Worker web pages: Prometheus /metrics and the health probes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faust import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.shell import api, scrape_gauges

if TYPE_CHECKING:
    from streams.shell.app import Pipeline


def register(p: Pipeline) -> None:
    app = p.app

    @app.page("/metrics")
    async def metrics(view: web.View, request: web.Request) -> web.Response:
        scrape_gauges.refresh(p)
        body = generate_latest(p.metrics.registry)
        return view.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz(view: web.View, request: web.Request) -> web.Response:
        return view.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(view: web.View, request: web.Request) -> web.Response:
        is_ready = scrape_gauges.ready(app)
        return view.json({"ready": is_ready}, status=200 if is_ready else 503)

    api.register(p)  # /api/v1/...: contacts, accounts, rep queues, hot leads (api.py)
