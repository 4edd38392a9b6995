"""The realtime edge: the /ws endpoint and /healthz."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from forum import db
from forum.channels import ChannelAccess, ForumHub
from forum.config import Settings
from forum.permissions import Actor
from forum.web.responses import JSON
from realtime.endpoint import make_ws_endpoint

__all__ = ["SocketShortcut", "routes"]


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


class SocketShortcut:
    """Middleware, right inside ``CaptureRawSend``: a WebSocket for one of ``routes`` goes
    straight to ``identify`` (the identity middleware) and the route's endpoint.

    An open socket keeps every ASGI layer it passed through suspended for its whole life:
    the HTTP-only middlewares (security headers, body limit), Starlette's exception
    middleware, the router and its wrappers are a coroutine frame each, about 4 KB per
    idle viewer altogether, and none does anything for a socket. The route table still
    lists the routes (the shortcut serves exactly those endpoints), so a path not listed
    takes the ordinary way.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: list[BaseRoute],
        identify: Callable[[ASGIApp], ASGIApp],
    ) -> None:
        self.app = app
        self.sockets: dict[str, ASGIApp] = {
            route.path: identify(_socket_app(route.endpoint))
            for route in routes
            if isinstance(route, WebSocketRoute) and "{" not in route.path
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            target = self.sockets.get(scope["path"])
            if target is not None:
                await target(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _socket_app(endpoint: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoint(WebSocket(scope, receive=receive, send=send))

    return app
