"""Admin accounts over HTTP: search, pages of results, deactivate/reactivate, grant/revoke
admin, the self-protection rules and the audit entries they leave."""

from __future__ import annotations

from mochung.domain.models import AuditEntry
from tests.support import PASSWORD, Api
from tests.support.users import new_account, user_with_headers


async def _audit(client, headers: dict[str, str], **params: str) -> list[dict]:
    response = await client.get("/api/admin/audit", params=params, headers=headers)
    assert response.status == 200
    return (await response.json())["items"]


async def test_search_by_email_or_name(client) -> None:
    _, headers = await user_with_headers(admin=True)
    bride = await new_account("bride-hana@example.com", "이하나")
    await new_account("groom@example.com", "김철수")

    response = await client.get("/api/admin/users", params={"q": "HANA"}, headers=headers)
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"items", "nextCursor"}
    assert [u["email"] for u in body["items"]] == ["bride-hana@example.com"]
    item = body["items"][0]
    assert set(item) == {"id", "email", "name", "isAdmin", "isActive", "createdAt", "updatedAt"}
    assert item["id"] == bride["id"] and item["isActive"] is True and item["createdAt"].endswith("Z")

    response = await client.get("/api/admin/users", params={"q": "철수"}, headers=headers)
    assert [u["name"] for u in (await response.json())["items"]] == ["김철수"]

    response = await client.get("/api/admin/users", params={"q": "", "limit": "", "cursor": ""}, headers=headers)
    assert response.status == 200 and len((await response.json())["items"]) == 3
    response = await client.get("/api/admin/users", params={"isAdmin": "true"}, headers=headers)
    assert [u["isAdmin"] for u in (await response.json())["items"]] == [True]
    await client.patch(f"/api/admin/users/{bride['id']}", json={"isActive": False}, headers=headers)
    response = await client.get("/api/admin/users", params={"isActive": "false"}, headers=headers)
    assert [u["id"] for u in (await response.json())["items"]] == [bride["id"]]


async def test_cursor_pages_cover_every_user_once(client) -> None:
    admin, headers = await user_with_headers(admin=True)
    registered = [admin["id"]] + [(await new_account())["id"] for _ in range(4)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        body = await (await client.get("/api/admin/users", params=params, headers=headers)).json()
        assert len(body["items"]) <= 2
        seen += [u["id"] for u in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(registered))


async def test_bad_limits_and_cursors_are_400(client) -> None:
    _, headers = await user_with_headers(admin=True)
    for params, field in (({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "many"}, "limit")):
        response = await client.get("/api/admin/users", params=params, headers=headers)
        assert response.status == 400
        assert (await response.json())["details"][0]["field"] == field
    for path in ("/api/admin/users", "/api/admin/pages", "/api/admin/chats", "/api/admin/sessions", "/api/admin/audit"):
        response = await client.get(path, params={"cursor": "not-a-cursor"}, headers=headers)
        assert response.status == 400, path
        body = await response.json()
        assert body["details"] == [{"field": "cursor", "message": body["message"]}]


async def test_deactivate_then_reactivate_with_audit(client, api: Api) -> None:
    admin, headers = await user_with_headers(admin=True)
    member, member_headers = await api.user()

    response = await client.patch(f"/api/admin/users/{member['id']}", json={"isActive": False}, headers=headers)
    assert response.status == 200
    assert (await response.json())["isActive"] is False
    # the member is locked out at once: their token and their password stop working
    assert (await client.get("/api/auth/profile", headers=member_headers)).status == 401
    login = await client.post("/api/auth/login", json={"email": member["email"], "password": PASSWORD})
    assert login.status == 401

    response = await client.patch(f"/api/admin/users/{member['id']}", json={"isActive": True}, headers=headers)
    assert (await response.json())["isActive"] is True
    assert (await client.get("/api/auth/profile", headers=member_headers)).status == 200

    entries = await _audit(client, headers, action="user.update")
    assert await _audit(client, headers, target=f"user:{member['id']}") == entries
    assert await _audit(client, headers, target="user:someone-else") == []
    assert [e["details"]["isActive"] for e in entries] == [{"from": False, "to": True}, {"from": True, "to": False}]
    assert {e["target"] for e in entries} == {f"user:{member['id']}"}
    assert {e["adminId"] for e in entries} == {admin["id"]}
    assert {e["adminEmail"] for e in entries} == {admin["email"]}
    assert set(entries[0]) == {"id", "adminId", "adminEmail", "action", "target", "details", "createdAt"}


async def test_grant_and_revoke_admin(client) -> None:
    _, headers = await user_with_headers(admin=True)
    member, member_headers = await user_with_headers()
    assert (await client.get("/api/admin/stats", headers=member_headers)).status == 403

    response = await client.patch(f"/api/admin/users/{member['id']}", json={"isAdmin": True}, headers=headers)
    assert response.status == 200 and (await response.json())["isAdmin"] is True
    assert (await client.get("/api/admin/stats", headers=member_headers)).status == 200

    await client.patch(f"/api/admin/users/{member['id']}", json={"isAdmin": False}, headers=headers)
    assert (await client.get("/api/admin/stats", headers=member_headers)).status == 403
    assert await AuditEntry.filter(action="user.update").count() == 2


async def test_an_admin_cannot_demote_or_deactivate_themselves(client) -> None:
    admin, headers = await user_with_headers(admin=True)
    for change, message in (({"isAdmin": False}, "admin right"), ({"isActive": False}, "deactivate yourself")):
        response = await client.patch(f"/api/admin/users/{admin['id']}", json=change, headers=headers)
        assert response.status == 403
        assert message in (await response.json())["message"]
    assert (await client.get("/api/admin/stats", headers=headers)).status == 200
    assert await AuditEntry.all().count() == 0


async def test_patch_refusals(client) -> None:
    _, headers = await user_with_headers(admin=True)
    member = await new_account()
    response = await client.patch(f"/api/admin/users/{member['id']}", json={}, headers=headers)
    assert response.status == 400 and "nothing to change" in (await response.json())["message"]
    response = await client.patch(f"/api/admin/users/{member['id']}", json={"isAdmin": "yes"}, headers=headers)
    assert response.status == 400 and (await response.json())["details"][0]["field"] == "isAdmin"
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await client.patch(f"/api/admin/users/{unknown}", json={"isActive": False}, headers=headers)).status == 404
    assert (await client.patch("/api/admin/users/not-a-uuid", json={"isActive": False}, headers=headers)).status == 404


async def test_a_patch_that_changes_nothing_writes_no_audit_entry(client) -> None:
    _, headers = await user_with_headers(admin=True)
    member = await new_account()
    response = await client.patch(f"/api/admin/users/{member['id']}", json={"isActive": True}, headers=headers)
    assert response.status == 200
    assert await AuditEntry.all().count() == 0
