"""Invitation codes over HTTP: creation (admin), validation (anyone, rate-limited), redemption
at registration, and the race that must never admit more than ``maxUses`` (PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mochung.domain.models import AuditEntry, InvitationCode, User
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.support import PASSWORD, TEST_SECRET, Api


async def create_code(api: Api, admin: dict[str, str], code: str, max_uses: int, **extra: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/api/invitation/create", json={"code": code, "maxUses": max_uses, **extra}, headers=admin
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def test_admin_creates_codes(api: Api) -> None:
    _, admin = await api.admin()
    _, user = await api.user()
    client = api.client

    created = await create_code(api, admin, "WEDDING-2027", 5, expiresAt="2099-01-01T00:00:00")

    assert set(created) == {"id", "code", "maxUses", "uses", "expiresAt", "isActive"}
    assert (created["code"], created["maxUses"], created["uses"], created["isActive"]) == ("WEDDING-2027", 5, 0, True)
    assert created["expiresAt"] == "2099-01-01T00:00:00.000Z"  # no zone given: taken as UTC
    assert await AuditEntry.exists(action="invitation.create", target=f"invitation:{created['id']}")
    body = {"code": "ANOTHER", "maxUses": 1}
    assert (await client.post("/api/invitation/create", json=body)).status == 401
    assert (await client.post("/api/invitation/create", json=body, headers=user)).status == 403
    response = await client.post("/api/invitation/create", json={"code": "WEDDING-2027", "maxUses": 1}, headers=admin)
    assert response.status == 409
    for bad in (
        {"code": "a b", "maxUses": 1},
        {"code": "OK-CODE", "maxUses": 0},
        {"code": "OK-CODE", "maxUses": 1, "expiresAt": "2001-01-01T00:00:00Z"},
        {"code": "OK-CODE"},
    ):
        response = await client.post("/api/invitation/create", json=bad, headers=admin)
        assert response.status == 400, bad
        assert (await response.json())["statusCode"] == 400


async def test_validate_says_whether_and_why(api: Api) -> None:
    _, admin = await api.admin()
    await create_code(api, admin, "GOOD", 3)
    await create_code(api, admin, "EXPIRED", 3)
    await create_code(api, admin, "OFF", 3)
    await InvitationCode.filter(code="EXPIRED").update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    await InvitationCode.filter(code="OFF").update(is_active=False)

    async def validate(code: str) -> dict[str, Any]:
        response = await api.client.post("/api/invitation/validate", json={"code": code})
        assert response.status == 200
        return await response.json()

    assert await validate("GOOD") == {"valid": True, "remainingUses": 3, "reason": None}
    assert await validate("EXPIRED") == {"valid": False, "remainingUses": 0, "reason": "invitation code has expired"}
    assert (await validate("OFF"))["reason"] == "invitation code is no longer active"
    assert (await validate("NOPE"))["valid"] is False


async def test_validate_is_rate_limited(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> None:
    client: TestClient = await aiohttp_client(create_app(make_settings(invitation_validate_per_minute=3)))

    statuses = [(await client.post("/api/invitation/validate", json={"code": "X"})).status for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = await client.post("/api/invitation/validate", json={"code": "X"})
    assert response.headers["Retry-After"]


async def test_registration_consumes_codes(aiohttp_client: Any, make_settings: Callable[..., Settings]) -> None:
    api = Api(await aiohttp_client(create_app(make_settings(require_invitation=True))))
    admin = await User.create(email="ops@example.com", email_key="ops@example.com", password_hash="x", is_admin=True)
    await InvitationCode.create(code="TWICE", max_uses=2, created_by=admin)
    await InvitationCode.create(code="LATE", max_uses=2, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))

    async def register(code: str | None) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
        if code is not None:
            body["invitationCode"] = code
        response = await api.client.post("/api/auth/register", json=body)
        return response.status, await response.json()

    assert (await register(None))[0] == 400
    assert [(await register("TWICE"))[0] for _ in range(3)] == [201, 201, 400]
    status, body = await register("TWICE")
    assert (status, body["message"]) == (400, "invitation code has been used up")
    status, body = await register("LATE")
    assert (status, body["message"]) == (400, "invitation code has expired")
    assert (await InvitationCode.get(code="TWICE")).uses == 2
    assert (await InvitationCode.get(code="LATE")).uses == 0


@pytest.mark.postgres
async def test_concurrent_registrations_never_exceed_max_uses(
    aiohttp_client: Any, postgres_database: str, tmp_path: Path
) -> None:
    # PostgreSQL only, where requests really run in parallel transactions (SQLite serialises them).
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url=postgres_database,
        jwt_secret=TEST_SECRET,
        require_invitation=True,
        log_format="text",
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    code = f"RACE-{uuid.uuid4().hex[:8]}"
    await InvitationCode.create(code=code, max_uses=5)

    async def register(index: int) -> int:
        body = {"email": f"race-{code}-{index}@example.com", "password": PASSWORD, "invitationCode": code}
        return (await client.post("/api/auth/register", json=body)).status

    statuses = await asyncio.gather(*(register(index) for index in range(20)))

    assert sorted(statuses) == [201] * 5 + [400] * 15
    assert await User.filter(email__startswith=f"race-{code}-").count() == 5
    assert (await InvitationCode.get(code=code)).uses == 5
