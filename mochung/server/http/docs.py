"""The OpenAPI 3.1 document, built from the same pydantic models that validate requests,
and a Swagger UI page that renders it."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

import mochung
from mochung.server import keys
from mochung.server.http.wire import Endpoint, ErrorBody, endpoint

routes = web.RouteTableDef()
REF = "#/components/schemas/{model}"
_SECURITY = {"user": [{"bearer": []}], "admin": [{"bearer": []}]}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, annotation: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(annotation).json_schema(by_alias=True, ref_template=REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        title = schema.get("title")
        if schema.get("type") == "object" and isinstance(title, str) and title.isidentifier():
            self.components[title] = schema
            return {"$ref": REF.format(model=title)}
        return schema


def _operation(spec: Endpoint, path: str, schemas: _Schemas) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": spec.summary, "tags": [spec.tag], "responses": {}}
    parameters = [
        {"name": part[1:-1].split(":")[0], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in path.split("/")
        if part.startswith("{")
    ]
    if spec.query is not None:
        for name, field in spec.query.model_fields.items():
            parameters.append(
                {
                    "name": field.alias or name,
                    "in": "query",
                    "required": field.is_required(),
                    "schema": TypeAdapter(field.annotation).json_schema(),
                }
            )
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.of(spec.body, "validation")}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if spec.response is not None:
        success["content"] = {"application/json": {"schema": schemas.of(spec.response, "serialization")}}
    operation["responses"][str(spec.status)] = success
    error_ref = {"content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}}
    codes = (
        set(spec.errors)
        | ({401} if spec.auth in ("user", "admin") else set())
        | ({403} if spec.auth == "admin" else set())
    )
    for code in sorted(codes):
        operation["responses"][str(code)] = {"description": f"Error {code}", **error_ref}
    if spec.auth in _SECURITY:
        operation["security"] = _SECURITY[spec.auth]
    operation.update(spec.extra)
    return operation


def build_document(app: web.Application) -> dict[str, Any]:
    schemas = _Schemas()
    schemas.of(ErrorBody, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        spec: Endpoint | None = getattr(route.handler, "__endpoint__", None)
        if spec is None or route.method == "HEAD" or route.resource is None:
            continue
        path = route.resource.canonical
        paths.setdefault(path, {})[route.method.lower()] = _operation(spec, path, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mochung API",
            "version": mochung.__version__,
            "description": "Backend of 모청, the mobile wedding-invitation service. Errors always use the "
            "ErrorBody shape.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


async def build_on_startup(app: web.Application) -> None:
    """Built once the routes are final, so every request serves the same document."""
    app[keys.OPENAPI_DOCUMENT] = build_document(app)


@routes.get("/api/openapi.json")
@endpoint(summary="This OpenAPI document", tag="docs")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[keys.OPENAPI_DOCUMENT])


_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mochung API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"""


@routes.get("/api/docs")
@endpoint(summary="Swagger UI for this API", tag="docs")
async def swagger_ui(request: web.Request) -> web.Response:
    return web.Response(text=_SWAGGER_PAGE, content_type="text/html")
