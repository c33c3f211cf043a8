"""Issue 12, part A: no client input is a 500, on SQLite and PostgreSQL alike (defects 4, 5,
6, 11, 12, 13). Each test fails on the code before the fix."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from mochung.domain import jsonlimits
from mochung.domain.components import readable
from mochung.domain.models import Page, User
from mochung.server.chat import payloads
from tests.support import Api


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


async def _post(api: Api, path: str, body: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    response = await api.client.post(path, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    return response.status, await response.json()


# -- 4: deep JSON -------------------------------------------------------------------------


async def test_deeply_nested_json_is_a_400_not_a_500(api: Api) -> None:
    status, body = await _post(api, "/api/auth/login", "[" * 100_000)
    assert status == 400 and "nested too deeply" in body["message"]
    _, headers = await api.user()
    for depth in (250, 300):
        page = {"title": "t", "componentData": {"components": [{"type": "X", "props": _nested(depth)}]}}
        status, body = await _post(api, "/api/page/publish", json.dumps(page), headers)
        assert status == 400 and "nested too deeply" in body["message"], body
    assert (await api.client.get("/api/page/my-pages", headers=headers)).status == 200


async def test_a_too_deep_page_stored_before_the_limit_still_reads(api: Api) -> None:
    _, headers = await api.user()
    status, page = await _post(
        api, "/api/page/publish", json.dumps({"title": "t", "componentData": {"components": []}}), headers
    )
    assert status == 201
    deep = {"components": [{"type": "Cover", "props": {"title": "kept"}}, {"type": "X", "props": _nested(250)}]}
    await Page.filter(id=page["id"]).update(component_data=deep)
    for path in ("/api/page/my-pages", f"/api/page/{page['id']}", f"/api/page/public/{page['slug']}"):
        response = await api.client.get(path, headers=headers)
        assert response.status == 200, path
    mine = await (await api.client.get("/api/page/my-pages", headers=headers)).json()
    assert [c["type"] for c in mine[0]["componentData"]["components"]] == ["Cover"]
    assert readable(deep)["components"] == deep["components"][:1]


def test_socket_packets_nested_too_deeply_are_refused_not_raised() -> None:
    assert payloads.PacketJson.loads('["chat-message", ' + "[" * 100_000) == ["chat-message", payloads.TOO_DEEP]
    deep = json.dumps(["joinRoom", _nested(100)])
    assert payloads.PacketJson.loads(deep) == ["joinRoom", payloads.TOO_DEEP]
    judged = payloads.Judged(user_id=__import__("uuid").uuid4())
    with pytest.raises(payloads.Refused) as refused:
        payloads.validate(payloads.JoinRoom, payloads.TOO_DEEP, judged)
    assert refused.value.code == "invalid_payload"
    assert payloads.PacketJson.loads('["ping", {"a": 1}]') == ["ping", {"a": 1}]


async def test_a_deep_webhook_body_is_not_a_500(api: Api) -> None:
    response = await api.client.post(
        "/api/payment/webhook", data="[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert response.status != 500  # 503 where payments are not configured (distributed, no keys)


# -- 5: NUL characters ----------------------------------------------------------------------


async def test_nul_in_any_text_is_a_400_on_both_databases(api: Api) -> None:
    status, body = await _post(api, "/api/auth/register", json.dumps({"email": "a\u0000b@x.com", "password": "x" * 10}))
    assert status == 400 and body["details"][0]["field"] == "email" and "NUL" in body["details"][0]["message"]
    status, body = await _post(
        api, "/api/auth/register", json.dumps({"email": "nul-name@x.com", "password": "x" * 10, "name": "a\u0000"})
    )
    assert status == 400 and body["details"][0]["field"] == "name"
    assert not await User.exists(email="nul-name@x.com")  # nothing changed
    status, _ = await _post(api, "/api/auth/login", json.dumps({"email": "a\u0000@x.com", "password": "x" * 10}))
    assert status == 400
    status, _ = await _post(api, "/api/invitation/validate", json.dumps({"code": "a\u0000b"}))
    assert status == 400
    _, headers = await api.user()
    status, _ = await _post(api, "/api/page/publish", json.dumps({"title": "a\u0000", "componentData": {}}), headers)
    assert status == 400
    page = {"title": "t", "componentData": {"components": [{"type": "Invitation", "props": {"text": "hi\u0000"}}]}}
    status, body = await _post(api, "/api/page/publish", json.dumps(page), headers)
    assert status == 400 and "componentData.components.0.props.text" in body["details"][0]["message"]
    assert (await api.client.get("/api/page/public/a%00b")).status == 404


def test_nul_in_a_socket_payload_is_refused() -> None:
    judged = payloads.Judged(user_id=__import__("uuid").uuid4())
    for model, data in (
        (payloads.JoinRoom, {"room": "a\u0000b"}),
        (payloads.ChatMessage, {"text": "hi\u0000"}),
    ):
        with pytest.raises(payloads.Refused) as refused:
            payloads.validate(model, data, judged)
        assert refused.value.code == "invalid" and jsonlimits.NUL_RULE in refused.value.message


# -- 6: a paymentId longer than the column -------------------------------------------------------


async def test_a_101_character_payment_id_is_a_400(api: Api) -> None:
    _, headers = await api.user()
    status, body = await _post(api, "/api/payment/verify", json.dumps({"paymentId": "x" * 101, "impUid": "y"}), headers)
    assert status == 400 and body["details"][0]["field"] == "paymentId"


# -- 11: loose validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "problem"),
    [
        ({"type": "Calendar", "props": {"weddingDate": "2027-02-30"}}, "real date"),
        ({"type": "Calendar", "props": {"weddingDate": "2027-13-45"}}, "real date"),
        ({"type": "Cover", "props": {"mainPhoto": "javascript:alert(1)"}}, "http(s)"),
        ({"type": "Location", "props": {"mapUrl": "data:text/html,<script>x</script>"}}, "http(s)"),
        ({"type": "Gallery", "props": {"photos": ["https://a.example/1.jpg", "javascript:x"]}}, "http(s)"),
        ({"type": "Location", "props": {"lat": "NaN"}}, "finite number"),
    ],
)
async def test_impossible_dates_script_urls_and_nan_are_refused(
    api: Api, component: dict[str, Any], problem: str
) -> None:
    _, headers = await api.user()
    page = {"title": "t", "componentData": {"components": [component]}}
    status, body = await _post(api, "/api/page/publish", json.dumps(page), headers)
    assert status == 400 and problem in body["message"], body


async def test_http_and_own_file_urls_are_accepted(api: Api) -> None:
    _, headers = await api.user()
    props = {"mainPhoto": "/files/files/u/p.jpg", "title": "t"}
    components = [
        {"type": "Cover", "props": props},
        {"type": "Gallery", "props": {"photos": ["https://cdn.example.com/a.jpg", "http://x.example/b.png"]}},
        {"type": "Calendar", "props": {"weddingDate": "2028-02-29"}},
    ]
    status, _ = await _post(
        api, "/api/page/publish", json.dumps({"title": "t", "componentData": {"components": components}}), headers
    )
    assert status == 201


# -- 12: the document says what the server enforces; Allow lists the path's own methods ------------


async def test_the_document_carries_the_servers_rules(api: Api) -> None:
    document = await (await api.client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert schemas["RegisterBody"]["properties"]["email"]["format"] == "email"
    assert "pattern" in schemas["PublishBody"]["properties"]["slug"]["anyOf"][0]
    assert {c["properties"]["planId"].get("const") for c in schemas["CreateBody"]["anyOf"]} >= {"basic", "premium"}
    limit = next(p for p in document["paths"]["/api/admin/users"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["anyOf"][0]["minimum"] == 1  # or "" (a list's empty parameter is as if absent)
    assert limit["schema"]["anyOf"][1] == {"const": "", "description": "empty: as if absent"}
    webhook = document["paths"]["/api/payment/webhook"]["post"]["parameters"]
    signed = {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert {p["name"] for p in webhook if p["in"] == "header"} == signed
    refund = schemas["RefundBody"]["properties"]["amount"]
    assert {"type": "integer"} == {k: v for k, v in refund["anyOf"][0].items() if k == "type"}


async def test_allow_lists_only_the_paths_own_methods(api: Api) -> None:
    _, headers = await api.user()
    response = await api.client.request("PATCH", "/api/file/my-files", headers=headers)
    assert response.status == 405 and set(response.headers["Allow"].split(",")) == {"GET", "HEAD"}
    response = await api.client.put("/api/page/my-pages", headers=headers)
    assert response.status == 405 and (await response.json())["statusCode"] == 405


# -- 13: headers and files --------------------------------------------------------------------------


async def test_api_responses_say_nosniff_and_docs_are_served_with_sri_and_csp(api: Api) -> None:
    for path in ("/api/health", "/api/nowhere", "/api/docs"):
        assert (await api.client.get(path)).headers.get("X-Content-Type-Options") == "nosniff", path
    docs = await api.client.get("/api/docs")
    page = await docs.text()
    assert "cdn." not in page and page.count('integrity="sha384-') == 3
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]
    bundle = await api.client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status == 200 and bundle.content_type == "text/javascript"


async def test_a_100_kb_token_is_a_json_401_without_a_traceback(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = await api.client.get("/api/auth/profile", headers={"Authorization": "Bearer " + "a" * 100_000})
        assert response.status == 401 and (await response.json())["statusCode"] == 401
        response = await api.client.get("/api/auth/profile", headers={"X-Big": "a" * 200_000})
        assert response.status == 400  # past the limit aiohttp refuses it itself…
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]  # …quietly


async def test_the_sqlite_file_is_private(api: Api, settings: Any) -> None:
    if not settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    await api.register()
    assert _mode(Path(settings.resolved_database_url.removeprefix("sqlite://"))) == 0o600


async def test_a_new_data_folder_and_database_are_owner_only(tmp_path: Path) -> None:
    from mochung.adapters.database import close_database, open_database

    folder = tmp_path / "fresh"
    context = await open_database(f"sqlite://{folder / 'mochung.sqlite3'}", migrate=True, as_global=False)
    await close_database(context)
    assert _mode(folder) == 0o700 and _mode(folder / "mochung.sqlite3") == 0o600


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
