"""The worker's HTTP pages: metrics, health, watch states, trending hashtags, the live page."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.aggregate.bucket import GLOBAL
from streams.engine.messages import load_state
from streams.outputs.redis_store import RedisStore
from streams.outputs.views import LIVE_PAGE, redis_view
from streams.worker.context import WorkerContext


def register_pages(app: faust.App, ctx: WorkerContext, states: Any, store: RedisStore) -> None:
    """Register every page on the app; views read the watch-state table (the source of truth)."""
    settings = ctx.settings

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        body = generate_latest(ctx.metrics.registry)
        return web.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "app_id": settings.app_id})

    def views() -> list[dict[str, Any]]:
        return sorted((redis_view(ws, ctx.engine) for _, raw_state in list(states.items())
                       if (ws := load_state(raw_state)) is not None), key=lambda v: v["watch"])

    async def scopes() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(watch views, global trending): the global scope lives on one worker, else Redis."""
        vs = views()
        glob = next((v for v in vs if v["watch"] == GLOBAL), None)
        if glob is None:
            glob = await store.read_state(GLOBAL)
        return [v for v in vs if v["watch"] != GLOBAL], (glob or {}).get("trending", [])

    def by_watch(vs: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        rows = [{**t, "watch": v["watch"]} for v in vs for t in v["trending"]]
        return sorted(rows, key=lambda r: -r["score"])[:n]

    @app.page("/watches")
    async def watches_view(web: Any, request: Any) -> Any:
        return web.json({"watches": (await scopes())[0]})

    @app.page("/trending")
    async def trending_view(web: Any, request: Any) -> Any:
        # global: over every post; by_watch: each watch's own hashtags, best score first
        vs, glob = await scopes()
        return web.json({"trending": glob, "by_watch": by_watch(vs, 20)})

    @app.page("/trending/{watch}")
    async def trending_watch_view(web: Any, request: Any, watch: str) -> Any:
        for v in views():
            if v["watch"] == watch:
                return web.json({"watch": watch, "trending": v["trending"]})
        return web.json({"error": f"unknown watch {watch!r} on this worker"}, status=404)

    @app.page("/api/state")
    async def state_view(web: Any, request: Any) -> Any:
        vs, glob = await scopes()
        return web.json({"watches": vs, "alerts": list(ctx.last_alerts),
                         "trending": by_watch(vs, 15), "global_trending": glob})

    @app.page("/live")
    async def live_view(web: Any, request: Any) -> Any:
        return web.html(LIVE_PAGE.read_text(encoding="utf-8"))
