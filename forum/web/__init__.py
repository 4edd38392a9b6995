"""The forum's thin HTTP layer: pages (Jinja2), API v1 (JSON) and the realtime edge.

Each group of routes is listed here once; ``forum.app`` puts the groups of every package
into one route table.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from forum.channels import ChannelAccess, ForumHub
from forum.config import Settings
from forum.web import (
    account_pages,
    admin_pages,
    api,
    case_pages,
    inputs,
    mail_pages,
    notifications_api,
    openapi,
    pages,
    post_pages,
    search,
    socket,
)

__all__ = ["OPENAPI", "api_routes", "page_routes", "settings_part", "socket_routes"]

# The forum's part of /api/openapi.json.
OPENAPI = (openapi.FORUM, notifications_api.OPENAPI, search.OPENAPI, mail_pages.OPENAPI)


def settings_part(settings: Settings) -> openapi.Part:
    """The schemas whose limits are the site's settings; listed last, they replace the defaults."""
    credentials = inputs.credentials(token_days=settings.token_days)
    return openapi.Part((), {"Credentials": credentials.schema()})


def api_routes() -> list[BaseRoute]:
    """Mounted under /api/v1."""
    return [
        *api.routes(),
        *notifications_api.routes(),
        *search.api_routes(),
        *mail_pages.api_routes(),
    ]


def page_routes() -> list[BaseRoute]:
    return [
        *pages.routes(),
        *post_pages.routes(),
        *account_pages.routes(),
        *admin_pages.routes(),
        *search.page_routes(),
        *case_pages.routes(),
        *mail_pages.page_routes(),
    ]


def socket_routes(hub: ForumHub, access: ChannelAccess, settings: Settings) -> list[BaseRoute]:
    """/ws and /healthz."""
    return socket.routes(hub, access, settings)
