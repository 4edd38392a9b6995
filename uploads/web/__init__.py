"""The uploads' thin HTTP layer: POST /api/v1/uploads and the files at /files/{key}."""

from __future__ import annotations

from starlette.routing import BaseRoute

from uploads.web import api, openapi
from uploads.web.api import receive_form_file

__all__ = ["OPENAPI", "api_routes", "file_routes", "receive_form_file"]

OPENAPI = openapi.OPENAPI


def api_routes() -> list[BaseRoute]:
    """Mounted under /api/v1."""
    return api.api_routes()


def file_routes() -> list[BaseRoute]:
    return api.file_routes()
