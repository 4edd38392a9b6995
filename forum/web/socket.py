"""The realtime edge: the /ws endpoint and /healthz."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from forum import db
from forum.channels import ChannelAccess, ForumHub
from forum.config import Settings
from forum.permissions import Actor
from forum.web.responses import JSON
from realtime.endpoint import make_ws_endpoint

__all__ = ["routes"]


async def authenticate(websocket: WebSocket) -> Actor:
    # IdentityMiddleware has read the session cookie or bearer token already; anonymous
    # viewers may follow public threads.
    actor: Actor = websocket.state.actor
    return actor


def routes(hub: ForumHub, access: ChannelAccess, settings: Settings) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        # Without its database a process can serve nothing: 503 takes it out of the load
        # balancer. Without its broker it still serves pages and accepts posts, and its
        # own viewers stay live: 200 "degraded" keeps it in. The broker's state comes
        # from the hub's own periodic check, so a frozen Redis cannot hold this up.
        checks = {
            "database": "ok" if await db.reachable() else "unavailable",
            "broker": "ok" if await hub.healthy() else "unavailable",
        }
        if checks["database"] != "ok":
            status = "unavailable"
        elif checks["broker"] != "ok":
            status = "degraded"
        else:
            status = "ok"
        return JSON(
            {"status": status, **checks}, status_code=503 if status == "unavailable" else 200
        )

    endpoint = make_ws_endpoint(
        hub,
        authenticate=authenticate,
        authorise=access.authorise,
        allowed_origins=settings.allowed_origins,
        max_connections_per_ip=settings.ws_connections_per_ip,
    )
    return [Route("/healthz", healthz, methods=["GET"]), WebSocketRoute("/ws", endpoint)]
