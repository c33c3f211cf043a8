"""Every admin route: 401 without a token, 403 for a signed-in non-admin, and present in
the OpenAPI document as admin-only."""

from __future__ import annotations

import uuid

from mochung.server import admin
from tests.support.users import user_with_headers

SOME_ID = str(uuid.uuid4())


def _admin_routes() -> list[tuple[str, str]]:
    routes = []
    for table in admin.ROUTE_TABLES:
        for route in table:
            path = route.path.replace("{id}", SOME_ID).replace("{dataset}", "smoke")  # type: ignore[attr-defined]
            path = path.replace("{case}", "some-case")
            routes.append((route.method, path))  # type: ignore[attr-defined]
    return routes


def test_every_protocol_admin_route_exists() -> None:
    paths = {(method, path.replace(SOME_ID, ":id").replace("smoke", ":dataset")) for method, path in _admin_routes()}
    assert {
        ("GET", "/api/admin/stats"),
        ("GET", "/api/admin/users"),
        ("PATCH", "/api/admin/users/:id"),
        ("GET", "/api/admin/pages"),
        ("POST", "/api/admin/pages/:id/hide"),
        ("POST", "/api/admin/pages/:id/unhide"),
        ("GET", "/api/admin/chats"),
        ("POST", "/api/admin/chats/:id/hide"),
        ("GET", "/api/admin/sessions"),
        ("GET", "/api/admin/audit"),
        ("GET", "/api/admin/evaluation/datasets"),
        ("GET", "/api/admin/evaluation/results/:dataset"),
        ("POST", "/api/admin/evaluation/run/:dataset"),
        ("GET", "/api/admin/evaluation/results"),
        ("POST", "/api/admin/evaluation/run"),
    } <= paths


async def test_every_admin_route_refuses_anonymous_and_non_admins(client) -> None:
    _, user_headers = await user_with_headers()
    for method, path in _admin_routes():
        body = {"reason": "x", "isActive": False} if method in ("POST", "PATCH") else None
        response = await client.request(method, path, json=body)
        assert response.status == 401, f"{method} {path} without a token answered {response.status}"
        assert (await response.json())["statusCode"] == 401

        response = await client.request(method, path, json=body, headers=user_headers)
        assert response.status == 403, f"{method} {path} as a non-admin answered {response.status}"
        assert (await response.json())["message"] == "admin only"


async def test_admin_routes_are_documented_as_admin_only(client) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    for method, path in _admin_routes():
        template = path.replace(SOME_ID, "{id}").replace("smoke", "{dataset}").replace("some-case", "{case}")
        operation = document["paths"][template][method.lower()]
        assert operation["security"] == [{"bearer": []}]
        assert {"401", "403"} <= set(operation["responses"])
