"""The OpenAPI document describes every API route, and nothing that is not one."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from tests.conftest import Member

pytestmark = pytest.mark.asyncio


def api_operations(app: Starlette) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for mount in app.routes:
        if isinstance(mount, Mount) and mount.path == "/api/v1":
            for route in mount.routes:
                assert isinstance(route, Route)
                for method in route.methods or ():
                    if method != "HEAD":
                        found.add((method.lower(), "/api/v1" + route.path))
    return found


async def test_every_api_route_is_documented_and_every_documented_route_exists(
    client: httpx2.AsyncClient, app: Starlette
) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == api_operations(app)


async def test_every_schema_reference_resolves(client: httpx2.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs
    for ref in refs:
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


async def test_every_query_parameter_is_documented_as_taking_an_empty_value_as_absent(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    document = (await client.get("/api/openapi.json")).json()
    queried: list[str] = []
    for path, item in document["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "query":
                    assert parameter["allowEmptyValue"] is True, (path, parameter["name"])
                    queried.append(path)
    assert "/api/v1/notifications" in queried
    # What the document says is what the server does: a blank cursor or limit is no cursor.
    response = await client.get("/api/v1/notifications?cursor=&limit=", headers=admin.headers)
    assert response.status_code == 200, response.text
