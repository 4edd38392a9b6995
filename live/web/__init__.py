"""Live sessions' pages (calendar, session, join link, organiser, report, feeds) and API.

Built on ``forum.web``'s helpers; ``forum.app`` adds these routes to its route table.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from live.web import api, openapi, pages, qa_pages

__all__ = ["OPENAPI", "api_routes", "home_panel", "page_routes"]

home_panel = pages.home_panel

# The sessions' part of /api/openapi.json.
OPENAPI = openapi.OPENAPI


def api_routes() -> list[BaseRoute]:
    """Mounted under /api/v1."""
    return api.routes()


def page_routes() -> list[BaseRoute]:
    return [*pages.routes(), *qa_pages.routes()]
