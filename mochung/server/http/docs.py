"""The OpenAPI 3.1 document, built from the same pydantic models that validate requests,
and a Swagger UI page that renders it."""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

import mochung
from mochung.domain.errors import NotFound
from mochung.server import keys
from mochung.server.http.wire import Endpoint, ErrorBody, endpoint

routes = web.RouteTableDef()
REF = "#/components/schemas/{model}"
_SECURITY: dict[str, list[dict[str, list[str]]]] = {"user": [{"bearer": []}], "admin": [{"bearer": []}]}


# Text in a request never holds a NUL (``wire.RefusesNul``: 400); any JSON a request may
# carry (component props, unknown fields) is this, so the document says so too.
NO_NUL = "^[^\\u0000]*$"
JSON_VALUE = "JsonValue"
_JSON_VALUE_SCHEMA: dict[str, Any] = {
    "description": "Any JSON value whose text (strings and object keys) holds no NUL character",
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": {"$ref": REF.format(model=JSON_VALUE)}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": REF.format(model=JSON_VALUE)},
        },
    ],
}
_ANNOTATIONS = frozenset({"title", "description", "default", "examples"})


def _refuses_nul(schema: Any, top: bool = False) -> Any:
    """``schema`` (a request's) with every string free of NUL and every "any value" a JsonValue.
    Unknown fields are ignored at the ``top`` of a body (and not judged), so they stay free."""
    if isinstance(schema, list):
        return [_refuses_nul(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if not set(schema) - _ANNOTATIONS:  # anything at all
        return {**schema, "$ref": REF.format(model=JSON_VALUE)}
    result = {key: _refuses_nul(value) for key, value in schema.items() if key not in ("properties", "default")}
    if "properties" in schema:
        result["properties"] = {name: _refuses_nul(value) for name, value in schema["properties"].items()}
    if "default" in schema:
        result["default"] = schema["default"]
    if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
        result["pattern"] = NO_NUL
    if schema.get("type") == "object" and not top:
        if schema.get("additionalProperties", True) is True:
            result["additionalProperties"] = {"$ref": REF.format(model=JSON_VALUE)}
        result.setdefault("propertyNames", {"pattern": NO_NUL})
    return result


class _Schemas:
    """The components, one per model name. A model both read and answered (``RsvpSettings``
    in a page) keeps its request (validation) schema, whichever route comes first: that is
    the rule a client's request must meet, and what the server answers meets it too (an
    answer is what a client may send back), while the answer's schema can be looser (a
    datetime is only a string once serialized)."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        self._read: set[str] = set()  # names whose component is a request's (validation) schema

    def put(self, name: str, schema: Any, mode: JsonSchemaMode) -> None:
        if mode == "validation":
            self._read.add(name)
        elif name in self._read:
            return
        self.components[name] = schema

    def of(self, annotation: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        schema = TypeAdapter(annotation).json_schema(by_alias=True, ref_template=REF, mode=mode)
        if mode == "validation":
            schema = _refuses_nul(schema, top=True)
            self.components[JSON_VALUE] = _JSON_VALUE_SCHEMA
        for name, definition in schema.pop("$defs", {}).items():
            self.put(name, definition, mode)
        title = schema.get("title")
        if schema.get("type") == "object" and isinstance(title, str) and title.isidentifier():
            self.put(title, schema, mode)
            return {"$ref": REF.format(model=title)}
        return schema


def _path_schema(name: str, spec: Endpoint) -> dict[str, Any]:
    """An ``{id}`` (or ``{…Id}``) is a UUID: anything else is 404 (see ``wire.path_id``); a
    parameter with a rule (``path_patterns``) matches it: anything else is 400."""
    if name in spec.path_patterns:
        return {"type": "string", "pattern": spec.path_patterns[name]}
    if name == "id" or name.endswith("Id"):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _operation(spec: Endpoint, path: str, schemas: _Schemas) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": spec.summary, "tags": [spec.tag], "responses": {}}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name, spec)}
        for name in (part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{"))
    ]
    if spec.query is not None:
        # each parameter with its rules (limit >= 1, patterns, enums), as the model checks them
        query = spec.query.model_json_schema(by_alias=True, ref_template=REF, mode="validation")
        for name, definition in query.pop("$defs", {}).items():
            schemas.put(name, definition, "validation")
        required = set(query.get("required", []))
        blank_is_absent = getattr(spec.query, "blank_is_absent", False)  # ``listing.SliceQuery``
        for name, schema in query.get("properties", {}).items():
            described = _refuses_nul(schema)
            if blank_is_absent and name not in required:
                described = {"anyOf": [described, {"const": "", "description": "empty: as if absent"}]}
            parameters.append({"name": name, "in": "query", "required": name in required, "schema": described})
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        # no body at all reads as {} (``wire.read_body``): it is required when {} is not enough
        own = spec.body.model_json_schema(by_alias=True, mode="validation")
        operation["requestBody"] = {
            "required": bool(own.get("required") or own.get("anyOf")),
            "content": {"application/json": {"schema": schemas.of(spec.body, "validation")}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if isinstance(spec.response, str):  # a media type: the body is not JSON (CSV, iCalendar, HTML)
        success["content"] = {spec.response: {"schema": {"type": "string"}}}
    elif spec.response is not None:
        success["content"] = {"application/json": {"schema": schemas.of(spec.response, "serialization")}}
    operation["responses"][str(spec.status)] = success
    for status, model in spec.also.items():
        content = {"application/json": {"schema": schemas.of(model, "serialization")}}
        operation["responses"][str(status)] = {"description": "Success", "content": content}
    error_ref = {"content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}}
    # a route for browsers answers its own error page (the caller's 401/403 stay JSON)
    page_ref = {"content": {spec.error_media: {"schema": {"type": "string"}}}} if spec.error_media else error_ref
    codes = (
        set(spec.errors)
        | ({401} if spec.auth in ("user", "admin") else set())
        | ({403} if spec.auth == "admin" else set())
    )
    for code in sorted(codes):
        described = page_ref if code in spec.errors else error_ref
        operation["responses"][str(code)] = {"description": f"Error {code}", **described}
    if spec.auth in _SECURITY:
        operation["security"] = _SECURITY[spec.auth]
    operation.update(spec.extra)
    return operation


def _plans_as_enum(components: dict[str, Any], app: web.Application) -> None:
    """``planId`` names one of the configured plans and ``amount`` is its price (without a
    plan, the price of one); the list is configuration, so it is filled in here."""
    plans = app[keys.SETTINGS].plans
    for schema in components.values():
        properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
        if "planId" not in properties or "amount" not in properties:
            continue
        schema["anyOf"] = [
            *(
                {"properties": {"planId": {"const": plan.id}, "amount": {"const": plan.amount}}, "required": ["planId"]}
                for plan in plans
            ),
            {"properties": {"planId": {"type": "null"}, "amount": {"enum": sorted({p.amount for p in plans})}}},
        ]


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
    _plans_as_enum(schemas.components, app)
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


# Swagger UI comes from the pinned ``swagger-ui-py`` package (its static files only) and is
# served by this server: no CDN, each file with its Subresource Integrity hash, and a
# Content-Security-Policy that lets the page load nothing else.
_SWAGGER_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
_SWAGGER_INIT = b'window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui"});\n'
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _swagger_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui")  # found, not imported (it would load jinja2)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing: pip install 'swagger-ui-py'")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _integrity(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


@functools.cache
def _swagger_files() -> dict[str, tuple[bytes, str]]:
    """name → (body, content type): the two Swagger UI files and the line that starts it."""
    folder = _swagger_dir()
    files = {name: ((folder / name).read_bytes(), kind) for name, kind in _SWAGGER_ASSETS.items()}
    files["init.js"] = (_SWAGGER_INIT, "text/javascript")
    return files


@functools.cache
def _swagger_page() -> str:
    files = _swagger_files()

    def sri(name: str) -> str:
        return f'integrity="{_integrity(files[name][0])}"'

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mochung API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css" {sri("swagger-ui.css")}></head>
<body><div id="swagger-ui"></div>
<noscript>The API is described by <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
<script src="/api/docs/assets/swagger-ui-bundle.js" {sri("swagger-ui-bundle.js")}></script>
<script src="/api/docs/assets/init.js" {sri("init.js")}></script>
</body></html>"""


@routes.get("/api/docs")
@endpoint(summary="Swagger UI for this API", tag="docs")
async def swagger_ui(request: web.Request) -> web.Response:
    return web.Response(text=_swagger_page(), content_type="text/html", headers={"Content-Security-Policy": DOCS_CSP})


@routes.get("/api/docs/assets/{name}")
@endpoint(summary="A file of the Swagger UI page", tag="docs", response="text/javascript", errors=(404,))
async def swagger_asset(request: web.Request) -> web.Response:
    found = _swagger_files().get(request.match_info["name"])
    if found is None:
        raise NotFound("no such file")
    body, kind = found
    return web.Response(
        body=body,
        content_type=kind,
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=86400", "Content-Security-Policy": DOCS_CSP},
    )
