"""The app's shared behaviour: error format, request ids, health, OpenAPI, CORS."""

from __future__ import annotations

import pytest

from mochung.server.app import create_app


async def test_unknown_route_and_wrong_method_are_json(client) -> None:
    response = await client.get("/api/does-not-exist")
    assert response.status == 404
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["statusCode"] == 404 and body["error"] == "Not Found"
    assert body["requestId"] == response.headers["X-Request-Id"]

    response = await client.delete("/api/auth/login")
    assert response.status == 405
    assert (await response.json())["statusCode"] == 405
    assert "POST" in response.headers["Allow"]


async def test_request_id_is_echoed_when_safe(client) -> None:
    response = await client.get("/api/health", headers={"X-Request-Id": "trace-123"})
    assert response.headers["X-Request-Id"] == "trace-123"
    response = await client.get("/api/health", headers={"X-Request-Id": "bad id<script>"})
    assert response.headers["X-Request-Id"] != "bad id<script>"


async def test_oversized_json_body_is_413_json(client) -> None:
    response = await client.post("/api/auth/register", data=b"x" * (2 * 1024 * 1024))
    assert response.status == 413
    assert (await response.json())["statusCode"] == 413


@pytest.mark.parametrize("path", ["/api/health", "/api"])
async def test_health_reports_each_service(client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["timestamp"].endswith("Z")
    assert body["services"]["database"] == "ok"
    assert body["services"]["redis"] == "embedded"


async def test_health_is_503_when_redis_is_down(make_settings, aiohttp_client) -> None:
    # a port nothing listens on: the dependency is down, the server still answers
    client = await aiohttp_client(create_app(make_settings(redis_url="redis://127.0.0.1:1/0")))
    response = await client.get("/api/health")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "degraded" and body["services"]["redis"] == "down"


async def test_openapi_describes_every_api_route(client) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.1")
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    app = client.server.app
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api") and route.method != "HEAD":
            assert (path, route.method.lower()) in described, f"{route.method} {path} is not in the OpenAPI document"
    register = document["paths"]["/api/auth/register"]["post"]
    schema_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"email", "password", "name", "invitationCode"} <= set(body_schema["properties"])
    login_schema = document["components"]["schemas"]["LoginResult"]
    assert "access_token" in login_schema["properties"]


async def test_docs_page_loads_the_document(client) -> None:
    response = await client.get("/api/docs")
    assert response.status == 200 and response.content_type == "text/html"
    assert "/api/openapi.json" in await response.text()


async def test_cors_preflight_for_the_frontend(client) -> None:
    response = await client.options(
        "/api/auth/login",
        headers={"Origin": "http://localhost:3001", "Access-Control-Request-Method": "POST"},
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3001"
    response = await client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
