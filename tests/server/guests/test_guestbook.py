"""The guestbook (PROTOCOL.md "Guests") and its admin moderation, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from mochung.domain.models import AuditEntry, GuestbookEntry, Page
from tests.contract import contract as c
from tests.server.guests.helpers import publish
from tests.support.users import user_with_headers

ENTRY = {"id", "name", "content", "createdAt"}
ADMIN_ENTRY = ENTRY | {"pageId", "isHidden", "hiddenReason"}


def entry(**overrides: Any) -> dict[str, Any]:
    return {"name": "하늘", "content": "결혼 축하해요 <b>♥</b>", "password": "1234", **overrides}


async def _stored() -> list[tuple[Any, ...]]:
    return sorted(await GuestbookEntry.all().values_list("id", "name", "content", "is_hidden", "hidden_reason"))


async def test_write_list_newest_first_and_delete_with_the_password(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/guestbook"
    created = []
    for n in range(3):
        body = await c.expect(await client.post(path, json=entry(name=f"손님{n}")), 201, "POST guestbook")
        c.rest_shape(body, ENTRY, "entry")
        assert "password" not in body and "passwordHash" not in body
        created.append(body)
    assert created[0]["content"] == "결혼 축하해요 <b>♥</b>"  # kept as text; the frontend escapes it
    stored = await GuestbookEntry.get(id=created[0]["id"])
    assert stored.password_hash.startswith("$argon2id$")

    listed = await c.expect(await client.get(path, params={"limit": "2"}), 200, "GET guestbook")
    c.rest_shape(listed, {"items", "nextCursor"}, "guestbook page")
    assert [e["name"] for e in listed["items"]] == ["손님2", "손님1"] and listed["nextCursor"]
    rest = await c.expect(await client.get(path, params={"limit": "2", "cursor": listed["nextCursor"]}), 200, "p2")
    assert [e["name"] for e in rest["items"]] == ["손님0"] and rest["nextCursor"] is None
    await c.expect_error(await client.get(path, params={"cursor": "garbage!"}), 400, "bad cursor")

    target = f"{path}/{created[1]['id']}"
    before = await _stored()
    await c.expect_error(await client.delete(target, json={"password": "9999"}), 403, "wrong password")
    await c.expect_error(await client.delete(target, json={}), 403, "no password")
    assert await _stored() == before
    await c.expect(await client.delete(target, json={"password": "1234"}), 204, "DELETE mine")
    assert [e["name"] for e in (await (await client.get(path)).json())["items"]] == ["손님2", "손님0"]
    await c.expect_error(await client.delete(target, json={"password": "1234"}), 404, "again")


async def test_refusals_change_nothing(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/guestbook"
    await c.expect(await client.post(path, json=entry()), 201, "POST")
    before = await _stored()
    for bad, field in [
        (entry(name=""), "name"),
        (entry(name="가" * 41), "name"),
        (entry(content="   "), "content"),
        (entry(content="가" * 501), "content"),
        (entry(password="123"), "password"),
        (entry(password="x" * 33), "password"),
        ({"name": "a", "content": "b"}, "password"),
    ]:
        body = await c.expect_error(await client.post(path, json=bad), 400, f"POST {field}")
        assert field in {d["field"] for d in body["details"]}, body
    assert await _stored() == before
    off = await publish(client, headers, settings={"guestbook": {"enabled": False}})
    off_path = f"/api/page/public/{off['slug']}/guestbook"
    await c.expect_error(await client.get(off_path), 404, "guestbook off")
    await c.expect_error(await client.post(off_path, json=entry()), 404, "guestbook off")
    await c.expect_error(await client.get("/api/page/public/no-such-page/guestbook"), 404, "no page")
    assert await _stored() == before


async def test_a_hidden_or_unpublished_page_and_another_pages_slug_are_404(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    other = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/guestbook"
    created = await c.expect(await client.post(path, json=entry()), 201, "POST")
    before = await _stored()
    # an entry is deleted through its own page's guestbook only, even with the right password
    elsewhere = f"/api/page/public/{other['slug']}/guestbook/{created['id']}"
    await c.expect_error(await client.delete(elsewhere, json={"password": "1234"}), 404, "another page's slug")
    assert await _stored() == before

    async def gone(why: str) -> None:
        await c.expect_error(await client.get(path), 404, f"GET {why}")
        await c.expect_error(await client.post(path, json=entry(name="늦은 손님")), 404, f"POST {why}")
        target = f"{path}/{created['id']}"
        await c.expect_error(await client.delete(target, json={"password": "1234"}), 404, f"DELETE {why}")
        assert await _stored() == before

    await c.expect(await client.put(f"/api/page/{page['id']}", json={"isPublished": False}, headers=headers), 200, "")
    await gone("unpublished")
    await c.expect(await client.put(f"/api/page/{page['id']}", json={"isPublished": True}, headers=headers), 200, "")
    await Page.filter(id=page["id"]).update(is_hidden=True)
    await gone("hidden")


async def test_the_couple_deletes_on_their_page_only(client: TestClient) -> None:
    _, headers = await user_with_headers()
    _, stranger = await user_with_headers()
    page = await publish(client, headers)
    other_page = await publish(client, stranger)
    created = await (await client.post(f"/api/page/public/{page['slug']}/guestbook", json=entry())).json()
    before = await _stored()
    for url, who in [
        (f"/api/page/{page['id']}/guestbook/{created['id']}", stranger),
        (f"/api/page/{other_page['id']}/guestbook/{created['id']}", stranger),
    ]:
        await c.expect_error(await client.delete(url, headers=who), 404, f"DELETE {url}")
    await c.expect_error(await client.delete(f"/api/page/{page['id']}/guestbook/{created['id']}"), 401, "anonymous")
    assert await _stored() == before
    response = await client.delete(f"/api/page/{page['id']}/guestbook/{created['id']}", headers=headers)
    await c.expect(response, 204, "couple deletes")
    assert await _stored() == []


async def test_admins_hide_and_unhide_with_an_audit(client: TestClient) -> None:
    admin, admin_headers = await user_with_headers(admin=True)
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    path = f"/api/page/public/{page['slug']}/guestbook"
    spam = await (await client.post(path, json=entry(content="광고 http://spam"))).json()
    await client.post(path, json=entry(name="친구"))

    listed = await c.expect(
        await client.get("/api/admin/guestbook", params={"pageId": page["id"]}, headers=admin_headers), 200, "list"
    )
    c.rest_shape(listed, c.LIST_PAGE, "admin guestbook")
    assert [e["name"] for e in listed["items"]] == ["친구", "하늘"]
    c.rest_shape(listed["items"][0], ADMIN_ENTRY, "admin entry")

    before = await _stored()
    hide = f"/api/admin/guestbook/{spam['id']}/hide"
    await c.expect_error(await client.post(hide, json={"reason": "스팸"}, headers=headers), 403, "not an admin")
    await c.expect_error(await client.post(hide, json={"reason": "스팸"}), 401, "anonymous")
    await c.expect_error(await client.post(hide, json={"reason": ""}, headers=admin_headers), 400, "no reason")
    missing = "/api/admin/guestbook/00000000-0000-0000-0000-000000000000/hide"
    await c.expect_error(await client.post(missing, json={"reason": "x"}, headers=admin_headers), 404, "absent")
    assert await _stored() == before and await AuditEntry.all().count() == 0

    hidden = await c.expect(await client.post(hide, json={"reason": "스팸"}, headers=admin_headers), 200, "hide")
    assert hidden["isHidden"] is True and hidden["hiddenReason"] == "스팸"
    assert [e["name"] for e in (await (await client.get(path)).json())["items"]] == ["친구"]  # gone at once
    only_hidden = await client.get("/api/admin/guestbook", params={"hidden": "true"}, headers=admin_headers)
    assert [e["id"] for e in (await only_hidden.json())["items"]] == [spam["id"]]
    only_visible = await client.get("/api/admin/guestbook", params={"hidden": "false"}, headers=admin_headers)
    assert [e["name"] for e in (await only_visible.json())["items"]] == ["친구"]
    await c.expect_error(await client.get("/api/admin/guestbook", headers=headers), 403, "list: not an admin")
    bad = await client.get("/api/admin/guestbook", params={"pageId": "not-a-uuid"}, headers=admin_headers)
    await c.expect_error(bad, 400, "list: a bad pageId")

    unhide = f"/api/admin/guestbook/{spam['id']}/unhide"
    shown = await c.expect(await client.post(unhide, headers=admin_headers), 200, "unhide")
    assert shown["isHidden"] is False and shown["hiddenReason"] is None
    assert len((await (await client.get(path)).json())["items"]) == 2
    await c.expect(await client.post(unhide, headers=admin_headers), 200, "unhide again: nothing to do")

    audits = await AuditEntry.all().order_by("created_at").values_list("admin_id", "action", "target", "details")
    assert [(str(a), action, target) for a, action, target, _ in audits] == [
        (admin["id"], "guestbook.hide", f"guestbook_entry:{spam['id']}"),
        (admin["id"], "guestbook.unhide", f"guestbook_entry:{spam['id']}"),
    ]
    assert audits[0][3]["reason"] == "스팸"
