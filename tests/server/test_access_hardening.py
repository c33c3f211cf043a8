"""Issue 12, defects 3, 7, 8 (registrations), 9 and 10 over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from mochung.domain.models import AuditEntry, ChatMessage, PageView
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.server.test_pages import COVER, fetch, publish
from tests.support import PASSWORD, Api
from tests.support.waiting import eventually


async def test_the_markdown_snapshot_answers_only_while_the_page_is_public(api: Api) -> None:
    client = api.client
    _, headers = await api.user()
    _, admin = await api.admin()
    page = await (await publish(api, headers, slug=f"snap-{uuid.uuid4().hex[:8]}")).json()
    url = page["markdownUrl"]
    assert (await fetch(client, url))[0] == 200

    async def update(**body: Any) -> None:
        response = await client.put(f"/api/page/{page['id']}", json=body, headers=headers)
        assert response.status == 200, await response.text()

    await update(isPublished=False)
    assert (await fetch(client, url))[0] == 404  # unpublished: the snapshot is gone
    await update(componentData={"components": [COVER]})  # an edit of a draft writes none
    assert (await fetch(client, url))[0] == 404
    await update(isPublished=True)
    status, markdown = await fetch(client, url)
    assert status == 200 and "groomName" in markdown  # republished: back, current

    hide = await client.post(f"/api/admin/pages/{page['id']}/hide", json={"reason": "spam"}, headers=admin)
    assert hide.status == 200, await hide.text()
    assert (await fetch(client, url))[0] == 404  # hidden by an admin
    await update(title="숨겨진 채로 고친 제목")
    assert (await fetch(client, url))[0] == 404  # an owner's edit does not bring it back
    assert (await client.post(f"/api/admin/pages/{page['id']}/unhide", headers=admin)).status == 200
    status, markdown = await fetch(client, url)
    assert status == 200 and "숨겨진 채로 고친 제목" in markdown


async def test_cookieless_requests_do_not_inflate_the_view_count(api: Api) -> None:
    client = api.client
    _, headers = await api.user()
    slug = f"views-{uuid.uuid4().hex[:8]}"
    page = await (await publish(api, headers, slug=slug)).json()
    for _ in range(30):
        client.session.cookie_jar.clear()
        response = await client.get(f"/api/page/public/{slug}")
        assert response.status == 200
    assert (await response.json())["viewCount"] == 1
    rows = await eventually(  # view rows are written in batches, every second
        lambda: PageView.filter(page_id=page["id"]).count(), "the view to be written", until=lambda n: n >= 1
    )
    assert rows == 1
    # the cookie set on a cookieless visit names the same visitor: not a second view
    again = await (await client.get(f"/api/page/public/{slug}")).json()
    assert again["viewCount"] == 1
    client.session.cookie_jar.clear()
    other = await (await client.get(f"/api/page/public/{slug}", headers={"User-Agent": "another browser"})).json()
    assert other["viewCount"] == 2


async def test_registrations_are_limited_per_ip(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> None:
    client: TestClient = await aiohttp_client(create_app(make_settings(registrations_per_hour=3)))
    statuses = []
    for _ in range(5):
        email = f"reg-{uuid.uuid4().hex[:8]}@example.com"
        response = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
        statuses.append(response.status)
    assert statuses == [201, 201, 201, 429, 429]
    body = await response.json()
    assert response.headers.get("Retry-After") and body["error"]


def _from_ip(ip: str) -> Callable[..., Any]:
    """A middleware that makes every request come from ``ip`` (as behind a proxy)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> Any:
        return await handler(request.clone(remote=request.headers.get("X-Test-Ip", ip)))

    return middleware


async def _login_app(aiohttp_client: Any, make_settings: Callable[..., Settings], **settings: Any) -> TestClient:
    app = create_app(make_settings(**settings))
    app.middlewares.insert(0, _from_ip("203.0.113.1"))
    return await aiohttp_client(app)


async def _login(client: TestClient, email: str, password: str, ip: str) -> int:
    response = await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers={"X-Test-Ip": ip}
    )
    return response.status


async def test_a_stranger_cannot_lock_the_owner_out(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await _login_app(aiohttp_client, make_settings, login_max_attempts=5)
    owner = await Api(client).register()
    stranger = "198.51.100.7"
    statuses = [await _login(client, owner["email"], "wrong-password", stranger) for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2  # brute force from one place is bounded
    assert await _login(client, owner["email"], PASSWORD, stranger) == 429
    assert await _login(client, owner["email"], PASSWORD, "192.0.2.10") == 200  # the owner, elsewhere, gets in


async def test_the_per_email_ceiling_bounds_a_spread_out_attack(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await _login_app(aiohttp_client, make_settings, login_max_attempts=5, login_email_max_attempts=12)
    owner = await Api(client).register()
    statuses = [await _login(client, owner["email"], "wrong-password", f"198.51.100.{n // 4}") for n in range(14)]
    assert statuses.count(401) == 12 and statuses[-2:] == [429, 429]


async def test_many_accounts_behind_one_shared_ip_are_not_locked_out(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await _login_app(aiohttp_client, make_settings, login_max_attempts=4)
    api = Api(client)
    colleague = await api.register()
    office = "203.0.113.50"
    for _ in range(22):  # others' typos, across accounts, behind the office NAT (was: 5 × 4 locked the IP)
        await _login(client, f"someone-{uuid.uuid4().hex[:6]}@example.com", "wrong-password", office)
    assert await _login(client, colleague["email"], PASSWORD, office) == 200


async def test_the_agent_endpoint_writes_an_audit_entry(api: Api) -> None:
    admin, headers = await api.admin()
    session_id = str(uuid.uuid4())
    response = await api.client.post(
        "/api/agent/chat", json={"message": "안녕하세요", "session_id": session_id}, headers=headers
    )
    assert response.status == 202, await response.text()
    message_id = (await response.json())["message_id"]
    entry = await AuditEntry.get(action="chat.agent_message")
    assert str(entry.admin_id) == admin["id"] and entry.target == f"session:{session_id}"
    assert entry.details["messageId"] == message_id
    assert await ChatMessage.filter(message_id=message_id, role="user").exists()
