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
        checks = {
            "database": "ok" if await db.reachable() else "unavailable",
            "broker": "ok" if await hub.healthy() else "unavailable",
        }
        healthy = all(v == "ok" for v in checks.values())
        body = {"status": "ok" if healthy else "unavailable", **checks}
        return JSON(body, status_code=200 if healthy else 503)

    endpoint = make_ws_endpoint(
        hub,
        authenticate=authenticate,
        authorise=access.authorise,
        allowed_origins=settings.allowed_origins,
        max_connections_per_ip=settings.ws_connections_per_ip,
    )
    return [Route("/healthz", healthz, methods=["GET"]), WebSocketRoute("/ws", endpoint)]
