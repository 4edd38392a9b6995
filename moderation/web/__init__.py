"""Moderation's pages (under /moderation) and API (under /api/v1/moderation and /posts).

Built on ``forum.web``'s helpers; ``forum.app`` adds these routes to its route table.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from moderation.web import admin_pages, api, author_pages, openapi, pages, tool_pages

__all__ = ["OPENAPI", "api_routes", "page_routes"]

# Moderation's part of /api/openapi.json.
OPENAPI = openapi.OPENAPI


def api_routes() -> list[BaseRoute]:
    """Mounted under /api/v1."""
    return api.routes()


def page_routes() -> list[BaseRoute]:
    return [
        *pages.routes(),
        *admin_pages.routes(),
        *author_pages.routes(),
        *tool_pages.routes(),
    ]
