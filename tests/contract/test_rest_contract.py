"""The REST half of PROTOCOL.md, walked over HTTP the way the Next.js frontend walks it,
against the real app on SQLite and PostgreSQL (PortOne is a fake on a local port).

Every body is checked against the key sets PROTOCOL.md names (``tests/contract/contract.py``):
all of them present, extras only in camelCase, times ISO-8601 with ``Z``, and every error
``{statusCode, message, error, requestId}``. A known gap between the contract and the
implementation is a small ``xfail(strict=True)`` test at the end, so its fix flips it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from yarl import URL

from mochung.adapters.portone.webhooks import new_webhook_secret, sign_webhook
from mochung.settings import Settings
from tests.contract import contract as c
from tests.support import PASSWORD, Api
from tests.support.fakes.portone_server import FakePortOne
from tests.support.images import PNG

WEBHOOK_SECRET = new_webhook_secret()
MAX_UPLOAD = 64 * 1024
COVER = {
    "type": "Cover",
    "id": "cover-1",
    "props": {"title": "Minjun & Seoyeon", "groomName": "민준", "brideName": "서연", "date": "2027-05-01"},
}
FUTURE_BLOCK = {"type": "Guestbook", "id": "g-1", "props": {"anything": ["kept", 1]}}  # unknown types are kept


def upload_form(data: bytes, filename: str, content_type: str) -> FormData:
    form = FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    return form


@pytest.fixture
def settings(make_settings: Callable[..., Settings], portone: FakePortOne) -> Settings:
    return make_settings(
        portone_api="v2",
        portone_base_url=portone.url,
        portone_api_secret=portone.api_secret,
        portone_webhook_secret=WEBHOOK_SECRET,
        max_upload_bytes=MAX_UPLOAD,
        invitation_validate_per_minute=3,
    )


Headers = dict[str, str] | None  # None: the frontend's own (logged-in) headers


class Frontend:
    """The calls of the flow; each checks its status code and returns the JSON body."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.headers: dict[str, str] = {}

    async def call(self, method: str, path: str, status: int, *, headers: Headers = None, **kw: Any) -> Any:
        response = await self.client.request(method, path, headers=self.headers if headers is None else headers, **kw)
        return await c.expect(response, status, f"{method} {path}")

    async def fails(self, method: str, path: str, status: int, *, headers: Headers = None, **kw: Any) -> Any:
        """An error answer: ``{statusCode, message, error, requestId}``."""
        response = await self.client.request(method, path, headers=self.headers if headers is None else headers, **kw)
        return await c.expect_error(response, status, f"{method} {path}")


async def test_the_frontends_walk_through_every_rest_route(client: TestClient, api: Api, portone: FakePortOne) -> None:
    web = Frontend(client)
    email = f"Couple-{uuid.uuid4().hex[:8]}@Example.com"

    # -- auth --------------------------------------------------------------------------
    registration = {"email": email, "password": PASSWORD, "name": "민준"}
    user = await web.call("POST", "/api/auth/register", 201, json=registration)
    c.rest_shape(user, c.REGISTERED, "register")
    c.utc_times(user, "createdAt")
    assert c.UUID.match(user["id"]) and user["isAdmin"] is False and user["name"] == "민준"
    taken = await web.fails("POST", "/api/auth/register", 409, json={"email": email.upper(), "password": PASSWORD})
    assert "details" not in taken
    short = await web.fails("POST", "/api/auth/register", 400, json={"email": "x@example.com", "password": "short"})
    assert [d["field"] for d in short["details"]] == ["password"]

    login = await web.call("POST", "/api/auth/login", 200, json={"email": email, "password": PASSWORD})
    c.rest_shape(login, c.LOGIN, "login")
    c.rest_shape(login["user"], c.LOGIN_USER, "login.user")
    assert login["user"]["id"] == user["id"] and isinstance(login["access_token"], str)
    wrong = await web.fails("POST", "/api/auth/login", 401, json={"email": email, "password": "wrong password"})
    unknown = await web.fails("POST", "/api/auth/login", 401, json={"email": "no@example.com", "password": PASSWORD})
    assert wrong["message"] == unknown["message"]
    web.headers = {"Authorization": f"Bearer {login['access_token']}"}

    for method in ("POST", "GET"):
        profile = await web.call(method, "/api/auth/profile", 200)
        c.rest_shape(profile, c.PROFILE, f"{method} profile")
        assert (profile["id"], profile["isActive"], profile["isAdmin"]) == (user["id"], True, False)
    await web.fails("GET", "/api/auth/profile", 401, headers={})

    # -- pages -------------------------------------------------------------------------
    slug = f"minjun-seoyeon-{uuid.uuid4().hex[:6]}"
    page_data = {"components": [COVER, FUTURE_BLOCK]}
    page = await web.call(
        "POST", "/api/page/publish", 201, json={"title": "민준 ♥ 서연", "slug": slug, "componentData": page_data}
    )
    c.rest_shape(page, c.PAGE, "publish")
    c.utc_times(page, "createdAt", "updatedAt")
    assert (page["userId"], page["slug"], page["version"], page["viewCount"]) == (user["id"], slug, 1, 0)
    assert page["isPublished"] is True
    assert page["markdownPath"] == f"pages/{user['id']}/{page['id']}.md" and page["markdownUrl"]
    assert [comp["type"] for comp in page["componentData"]["components"]] == ["Cover", "Guestbook"]
    for component in page["componentData"]["components"]:
        c.rest_shape(component, c.COMPONENT, "componentData.components[]")
    assert page["componentData"]["components"][1] == FUTURE_BLOCK
    await web.fails("POST", "/api/page/publish", 409, json={"title": "again", "slug": slug, "componentData": page_data})
    bad_slug = await web.fails("POST", "/api/page/publish", 400, json={"title": "t", "slug": "No Spaces!"})
    assert bad_slug["details"][0]["field"] == "slug"

    korean = await web.call(
        "POST", "/api/page/publish", 201, json={"title": "우리 결혼합니다", "componentData": page_data}
    )
    assert c.SLUG.match(korean["slug"]), f"a Korean-only title got the slug {korean['slug']!r}"

    mine = await web.call("GET", "/api/page/my-pages", 200)
    assert [p["id"] for p in mine] == [korean["id"], page["id"]], "newest first"
    for listed in mine:
        c.rest_shape(listed, c.PAGE, "my-pages[]")
    snapshot = await client.get(URL(page["markdownUrl"]).path)
    assert snapshot.status == 200 and "Minjun & Seoyeon" in await snapshot.text()

    public = await web.call("GET", f"/api/page/public/{slug}", 200, headers={})
    c.rest_shape(public, c.PAGE, "public page")
    assert public["id"] == page["id"] and public["viewCount"] == 1
    await web.fails("GET", "/api/page/public/no-such-page", 404, headers={})

    fetched = await web.call("GET", f"/api/page/{page['id']}", 200)
    c.rest_shape(fetched, c.PAGE, "get page")
    await web.fails("GET", f"/api/page/{uuid.uuid4()}", 404)
    await web.fails("GET", "/api/page/not-a-uuid", 404)

    updated = await web.call("PUT", f"/api/page/{page['id']}", 200, json={"title": "민준 ♥ 서연 결혼합니다"})
    c.rest_shape(updated, c.PAGE, "update page")
    assert (updated["version"], updated["title"]) == (2, "민준 ♥ 서연 결혼합니다")
    guest_view = await web.call("GET", f"/api/page/public/{slug}", 200, headers={})
    assert (guest_view["title"], guest_view["version"]) == (updated["title"], 2), "guests see the update"

    # -- files -------------------------------------------------------------------------
    png = PNG
    stored = await web.call("POST", "/api/file/upload", 201, data=upload_form(png, "웨딩 사진.png", "image/png"))
    c.rest_shape(stored, c.FILE, "upload")
    c.utc_times(stored, "createdAt")
    assert (stored["filename"], stored["mimeType"], stored["size"]) == ("웨딩 사진.png", "image/png", len(png))
    text = upload_form(b"just some text, not a picture", "photo.png", "image/png")
    await web.fails("POST", "/api/file/upload", 415, data=text)
    await web.fails("POST", "/api/file/upload", 413, data=upload_form(png + bytes(MAX_UPLOAD), "big.png", "image/png"))

    files = await web.call("GET", "/api/file/my-files", 200)
    assert [f["id"] for f in files] == [stored["id"]]
    c.rest_shape(files[0], c.FILE, "my-files[]")
    assert await (await client.get(URL(stored["url"]).path)).read() == png
    await web.call("DELETE", f"/api/file/{stored['id']}", 204)
    assert (await client.get(URL(stored["url"]).path)).status == 404, "the object is removed from storage"
    assert await web.call("GET", "/api/file/my-files", 200) == []
    await web.fails("DELETE", f"/api/file/{stored['id']}", 404)

    # -- payments ----------------------------------------------------------------------
    plans = await web.call("GET", "/api/payment/plans", 200, headers={})
    assert plans
    for plan in plans:
        c.rest_shape(plan, c.PLAN, "plans[]")
    basic = plans[0]
    order = {"amount": basic["amount"], "pageId": page["id"], "customerName": "김민준", "planId": basic["id"]}
    created = await web.call("POST", "/api/payment/create", 201, json=order)
    c.rest_shape(created, c.PAYMENT, "create payment")
    assert created["status"] == "ready" and (created["pageId"], created["planId"]) == (page["id"], basic["id"])
    await web.fails("POST", "/api/payment/create", 400, json={**order, "amount": basic["amount"] - 1})

    portone.paid(created["merchantUid"], created["amount"])
    verified = await web.call(
        "POST", "/api/payment/verify", 200, json={"paymentId": created["id"], "impUid": created["merchantUid"]}
    )
    c.rest_shape(verified, c.PAYMENT, "verify")
    assert verified["status"] == "paid"
    again = await web.call(
        "POST", "/api/payment/verify", 200, json={"paymentId": created["id"], "impUid": created["merchantUid"]}
    )
    assert (again["id"], again["status"]) == (created["id"], "paid"), "verify is idempotent"

    tampered = await web.call("POST", "/api/payment/create", 201, json=order)
    portone.paid(tampered["merchantUid"], tampered["amount"] // 10)
    failure = await web.fails(
        "POST", "/api/payment/verify", 422, json={"paymentId": tampered["id"], "impUid": tampered["merchantUid"]}
    )
    assert failure["payment"]["status"] == "failed"

    event = '{"type":"Transaction.Paid","timestamp":"2027-01-01T00:00:00Z","data":{"paymentId":"%s"}}'
    body = event % created["merchantUid"]
    webhook_headers = {"Content-Type": "application/json", **sign_webhook(WEBHOOK_SECRET, body)}
    await web.call("POST", "/api/payment/webhook", 200, data=body, headers=webhook_headers)
    await web.fails("POST", "/api/payment/webhook", 400, data=body, headers={"Content-Type": "application/json"})

    payments = await web.call("GET", "/api/payment/my-payments", 200)
    assert {p["id"] for p in payments} == {created["id"], tampered["id"]}
    for payment in payments:
        c.rest_shape(payment, c.PAYMENT, "my-payments[]")

    # -- invitation codes (an admin creates one, anyone checks it) -----------------------
    _, admin_headers = await api.admin()
    code = f"WED-{uuid.uuid4().hex[:6]}"
    invitation = await web.call(
        "POST",
        "/api/invitation/create",
        201,
        headers=admin_headers,
        json={"code": code, "maxUses": 5, "expiresAt": "2030-01-01T00:00:00Z"},
    )
    c.rest_shape(invitation, c.INVITATION, "invitation create")
    assert (invitation["maxUses"], invitation["uses"], invitation["isActive"]) == (5, 0, True)
    assert invitation["expiresAt"].startswith("2030-01-01T00:00:00") and invitation["expiresAt"].endswith("Z")
    await web.fails("POST", "/api/invitation/create", 403, json={"code": "NOT-ADMIN", "maxUses": 1})
    validation = await web.call("POST", "/api/invitation/validate", 200, headers={}, json={"code": code})
    c.rest_shape(validation, c.VALIDATION, "invitation validate")
    assert (validation["valid"], validation["remainingUses"]) == (True, 5)

    # -- the agent endpoint (admin), so the admin has a chat to look at -------------------
    session_id = str(uuid.uuid4())
    accepted = await web.call(
        "POST",
        "/api/agent/chat",
        202,
        headers=admin_headers,
        json={"message": "안녕하세요", "session_id": session_id, "wedding_context": {"page_id": page["id"]}},
    )
    c.rest_shape(accepted, c.AGENT_ACCEPTED, "agent chat")
    assert accepted["status"] == "accepted" and c.UUID.match(accepted["message_id"])
    await c.turn_finished(accepted["message_id"])
    await web.fails("POST", "/api/agent/chat", 403, json={"message": "hi", "session_id": session_id})

    # -- admin ---------------------------------------------------------------------------
    await walk_admin_routes(web, admin_headers, user, page, created, session_id)
    await web.fails("GET", "/api/admin/stats", 403)
    await web.fails("GET", "/api/admin/stats", 401, headers={})

    # -- the owner deletes the page; a deactivated user's token is refused ----------------
    await web.call("DELETE", f"/api/page/{page['id']}", 204)
    await web.fails("GET", f"/api/page/{page['id']}", 404)
    assert (await client.get(URL(page["markdownUrl"]).path)).status == 404, "the snapshot is deleted"
    await web.call("PATCH", f"/api/admin/users/{user['id']}", 200, headers=admin_headers, json={"isActive": False})
    await web.fails("GET", "/api/auth/profile", 401)

    # -- health and the API description ---------------------------------------------------
    for path in ("/api/health", "/api"):
        health = await web.call("GET", path, 200, headers={})
        c.rest_shape(health, c.HEALTH, path)
        c.utc_times(health, "timestamp")
        assert health["status"] == "ok"
        missing = c.HEALTH_SERVICES - set(health["services"])
        assert not missing, f"{path}: services lack {missing}"
    document = await web.call("GET", "/api/openapi.json", 200, headers={})
    assert document["openapi"].startswith("3.1")
    listed = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert not PROTOCOL_ROUTES - listed, f"not in /api/openapi.json: {sorted(PROTOCOL_ROUTES - listed)}"
    for (method, path), status in PROTOCOL_SUCCESS.items():
        documented = document["paths"][path][method.lower()]["responses"]
        assert str(status) in documented, f"/api/openapi.json: {method} {path} does not document {status}"
    schemas = document["components"]["schemas"]
    described = {name: set(schema.get("properties", {})) for name, schema in schemas.items()}
    for shape, what in ((c.PAGE, "PageResponse"), (c.FILE, "files"), (c.PAYMENT, "payments"), (c.ERROR, "errors")):
        assert any(shape <= properties for properties in described.values()), f"no schema describes {what}"
    docs = await client.get("/api/docs")
    assert docs.status == 200 and docs.content_type == "text/html"


Body = dict[str, Any]


async def walk_admin_routes(
    web: Frontend, headers: dict[str, str], user: Body, page: Body, payment: Body, session_id: str
) -> None:
    async def get_list(path: str) -> list[dict[str, Any]]:
        body = c.rest_shape(await web.call("GET", path, 200, headers=headers), c.LIST_PAGE, path)
        assert isinstance(body["items"], list)
        for item in body["items"]:
            c.rest_shape(item, {"id"}, f"{path} items[]")
        return body["items"]

    stats = await web.call("GET", "/api/admin/stats", 200, headers=headers)
    c.rest_shape(stats, {"users", "pages", "chatsToday", "agentRuns", "payments", "liveSockets", "queueDepth"}, "stats")
    c.rest_shape(stats["pages"], {"published", "hidden"}, "stats.pages")
    c.rest_shape(stats["payments"], {"byStatus", "revenue"}, "stats.payments")

    users = await get_list(f"/api/admin/users?q={user['email'][:12]}&limit=10")
    assert [u["id"] for u in users] == [user["id"]]
    await web.fails("GET", "/api/admin/users?limit=0", 400, headers=headers)
    patched = await web.call("PATCH", f"/api/admin/users/{user['id']}", 200, headers=headers, json={"isAdmin": False})
    c.rest_shape(patched, {"id", "isActive", "isAdmin"}, "patch user")

    assert page["id"] in [p["id"] for p in await get_list("/api/admin/pages?status=published")]
    hide = {"reason": "스팸 신고"}
    await web.call("POST", f"/api/admin/pages/{page['id']}/hide", 200, headers=headers, json=hide)
    await web.fails("GET", f"/api/page/public/{page['slug']}", 404, headers={})
    await web.call("POST", f"/api/admin/pages/{page['id']}/unhide", 200, headers=headers)

    chats = await get_list(f"/api/admin/chats?sessionId={session_id}")
    assert chats and chats[-1]["role"] == "user"
    await web.call("POST", f"/api/admin/chats/{chats[-1]['id']}/hide", 200, headers=headers, json=hide)
    sessions = await get_list("/api/admin/sessions")
    assert session_id in [s["id"] for s in sessions]
    for session in sessions:
        c.rest_shape(session, {"id", "lastActivityAt", "liveSockets"}, "sessions items[]")

    assert payment["id"] in [p["id"] for p in await get_list("/api/admin/payments?status=paid")]
    refund = {"reason": "고객 요청", "amount": 1000}
    refunded = await web.call("POST", f"/api/admin/payments/{payment['id']}/refund", 200, headers=headers, json=refund)
    c.rest_shape(refunded, c.PAYMENT, "refund")
    review = {"decision": "approve", "note": "확인함"}
    reviewed = await web.call("POST", f"/api/admin/payments/{payment['id']}/review", 200, headers=headers, json=review)
    c.rest_shape(reviewed, c.PAYMENT, "review")

    # PROTOCOL.md "Admin evaluation" (snake_case; the page's own sequence is tests/server/admin/test_evaluation.py)
    names = await web.call("GET", "/api/admin/evaluation/datasets", 200, headers=headers)
    assert isinstance(names, list) and all(isinstance(name, str) for name in names), names
    name = "paraphrases"
    await web.fails("GET", "/api/admin/evaluation/results/no-such-dataset", 404, headers=headers)
    run = await web.call("POST", f"/api/admin/evaluation/run/{name}", 202, headers=headers)
    assert {"status", "dataset", "message"} <= set(run) and run["status"] == "running", run
    results = f"/api/admin/evaluation/results?dataset={name}"
    for _ in range(600):  # poll like the page (every 3 s there)
        response = await web.client.get(results, headers=headers)
        if response.status != 202:
            break
        await asyncio.sleep(0.05)
    assert response.status == 200
    assert {"summary", "category_breakdown", "test_results"} <= set(await response.json())

    audit = await get_list("/api/admin/audit?limit=100")
    for entry in audit:
        c.rest_shape(entry, c.AUDIT_ENTRY, "audit items[]")
        c.utc_times(entry, "createdAt")
    actions = {entry["action"] for entry in audit}
    assert {"page.hide", "page.unhide", "chat.hide", "evaluation.run"} <= actions, actions


# The success codes PROTOCOL.md names other than 200.
PROTOCOL_SUCCESS = {
    ("POST", "/api/auth/register"): 201,
    ("POST", "/api/page/publish"): 201,
    ("DELETE", "/api/page/{id}"): 204,
    ("POST", "/api/file/upload"): 201,
    ("DELETE", "/api/file/{id}"): 204,
    ("POST", "/api/payment/create"): 201,
    ("POST", "/api/invitation/create"): 201,
    ("POST", "/api/agent/chat"): 202,
}
PROTOCOL_ROUTES = {
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/profile"),
    ("GET", "/api/auth/profile"),
    ("POST", "/api/page/publish"),
    ("GET", "/api/page/my-pages"),
    ("GET", "/api/page/public/{slug}"),
    ("GET", "/api/page/{id}"),
    ("PUT", "/api/page/{id}"),
    ("DELETE", "/api/page/{id}"),
    ("POST", "/api/file/upload"),
    ("GET", "/api/file/my-files"),
    ("DELETE", "/api/file/{id}"),
    ("GET", "/api/payment/plans"),
    ("POST", "/api/payment/create"),
    ("POST", "/api/payment/verify"),
    ("POST", "/api/payment/webhook"),
    ("GET", "/api/payment/my-payments"),
    ("POST", "/api/invitation/create"),
    ("POST", "/api/invitation/validate"),
    ("GET", "/api/admin/stats"),
    ("GET", "/api/admin/users"),
    ("PATCH", "/api/admin/users/{id}"),
    ("GET", "/api/admin/pages"),
    ("POST", "/api/admin/pages/{id}/hide"),
    ("POST", "/api/admin/pages/{id}/unhide"),
    ("GET", "/api/admin/chats"),
    ("POST", "/api/admin/chats/{id}/hide"),
    ("GET", "/api/admin/sessions"),
    ("GET", "/api/admin/payments"),
    ("POST", "/api/admin/payments/{id}/refund"),
    ("POST", "/api/admin/payments/{id}/review"),
    ("GET", "/api/admin/audit"),
    ("GET", "/api/admin/evaluation/datasets"),
    ("GET", "/api/admin/evaluation/results/{dataset}"),
    ("POST", "/api/admin/evaluation/run/{dataset}"),
    ("GET", "/api/health"),
    ("GET", "/api"),
    ("POST", "/api/agent/chat"),
    ("GET", "/api/openapi.json"),
}


async def test_errors_outside_the_handlers_are_the_json_error_body(client: TestClient) -> None:
    """Unknown routes, wrong methods, broken JSON and rate limits answer the same body."""
    web = Frontend(client)
    await web.fails("GET", "/api/no-such-route", 404)
    await web.fails("DELETE", "/api/payment/plans", 405)
    not_json = await web.fails(
        "POST", "/api/auth/login", 400, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert "JSON" in not_json["message"]
    for _ in range(3):
        await web.call("POST", "/api/invitation/validate", 200, json={"code": "NOPE"})
    response = await client.post("/api/invitation/validate", json={"code": "NOPE"})
    await c.expect_error(response, 429, "validate, 4th time")
    assert int(response.headers["Retry-After"]) > 0


# ---- known gaps between PROTOCOL.md and the server: strict xfails, so a fix flips them ----


async def audit_targets(client: TestClient, headers: dict[str, str]) -> list[str]:
    body = await c.expect(await client.get("/api/admin/audit?limit=200", headers=headers), 200, "audit")
    return [entry["target"] for entry in body["items"]]


async def test_creating_an_invitation_code_is_audited(client: TestClient, api: Api) -> None:
    _, admin_headers = await api.admin()
    body = {"code": f"AUDIT-{uuid.uuid4().hex[:6]}", "maxUses": 1}
    created = await c.expect(
        await client.post("/api/invitation/create", json=body, headers=admin_headers), 201, "invitation create"
    )
    targets = await audit_targets(client, admin_headers)
    assert any(created["id"] in target or created["code"] in target for target in targets), targets


async def test_an_admin_deleting_a_users_page_and_file_is_audited(client: TestClient, api: Api) -> None:
    _, owner = await api.user()
    _, admin_headers = await api.admin()
    page = await c.expect(await client.post("/api/page/publish", json={"title": "t"}, headers=owner), 201, "publish")
    form = upload_form(PNG, "a.png", "image/png")
    stored = await c.expect(await client.post("/api/file/upload", data=form, headers=owner), 201, "upload")
    await c.expect(await client.delete(f"/api/page/{page['id']}", headers=admin_headers), 204, "admin deletes page")
    await c.expect(await client.delete(f"/api/file/{stored['id']}", headers=admin_headers), 204, "admin deletes file")
    targets = await audit_targets(client, admin_headers)
    assert any(page["id"] in target for target in targets), targets
    assert any(stored["id"] in target for target in targets), targets


async def test_writes_succeed_while_the_agents_answer(client: TestClient, api: Api, settings: Settings) -> None:
    if not settings.uses_sqlite:
        pytest.skip("two connections to one SQLite file is an embedded-mode concern; PostgreSQL locks rows")
    _, owner = await api.user()
    _, admin_headers = await api.admin()
    page = await c.expect(await client.post("/api/page/publish", json={"title": "t"}, headers=owner), 201, "publish")
    statuses: list[int] = []
    turns: list[str] = []
    for _ in range(6):
        chat = {"message": "예식은 2027년 5월 1일 오후 1시예요", "session_id": str(uuid.uuid4())}
        accepted = await c.expect(await client.post("/api/agent/chat", json=chat, headers=admin_headers), 202, "chat")
        turns.append(accepted["message_id"])
        for _ in range(5):  # the admin moderates while the agents answer
            hide = await client.post(f"/api/admin/pages/{page['id']}/hide", json={"reason": "x"}, headers=admin_headers)
            unhide = await client.post(f"/api/admin/pages/{page['id']}/unhide", headers=admin_headers)
            statuses += [hide.status, unhide.status]
    for turn in turns:
        await c.turn_finished(turn)
    assert set(statuses) == {200}, statuses
