"""Runs the Redis projection beside the agents for the worker's lifetime (when REDIS_URL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mode import Service

from streams.adapters.redis_projection import RedisProjection

if TYPE_CHECKING:
    from streams.shell.app import Pipeline


def register_projection(p: Pipeline) -> None:
    """Start the projection with the app (after table recovery) and stop it on shutdown."""
    if p.settings.redis_url is None:
        return
    projection = RedisProjection(p.settings, p.metrics)

    @p.app.service
    class RedisProjectionService(Service):
        """Owns the projection's task: on_stop lets it finish before its future is cancelled."""

        async def on_start(self) -> None:
            self.add_future(projection.run())

        async def on_stop(self) -> None:
            await projection.stop()
