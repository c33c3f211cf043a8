"""Register → login → profile over HTTP, and every refusal PROTOCOL.md documents."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from mochung.domain.models import User
from tests.support import PASSWORD, TEST_SECRET, Api


def _error_shape(body: dict, status: int) -> None:
    assert body["statusCode"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["error"], str)
    assert body["requestId"]


async def test_register_login_profile(client, api: Api) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": "Bride@Example.com", "password": PASSWORD, "name": "신부"}
    )
    assert response.status == 201
    created = await response.json()
    assert set(created) == {"id", "email", "name", "isAdmin", "createdAt"}
    assert created["email"] == "Bride@Example.com" and created["name"] == "신부" and created["isAdmin"] is False
    assert created["createdAt"].endswith("Z")

    response = await client.post("/api/auth/login", json={"email": "bride@example.com", "password": PASSWORD})
    assert response.status == 200
    login = await response.json()
    assert set(login) == {"access_token", "user"}
    assert login["user"] == {
        "id": created["id"],
        "email": "Bride@Example.com",
        "name": "신부",
        "isAdmin": False,
    }
    claims = jwt.decode(login["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == created["id"] and claims["email"] == "Bride@Example.com"
    assert claims["exp"] > claims["iat"]

    headers = {"Authorization": f"Bearer {login['access_token']}"}
    for method in (client.get, client.post):
        response = await method("/api/auth/profile", headers=headers)
        assert response.status == 200
        assert await response.json() == {
            "id": created["id"],
            "email": "Bride@Example.com",
            "name": "신부",
            "isAdmin": False,
            "isActive": True,
        }


async def test_password_is_stored_hashed(client, api: Api) -> None:
    user = await api.register(email="hash@example.com")
    stored = await User.get(id=user["id"])
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash


async def test_duplicate_email_in_any_case_is_409_and_writes_nothing(client, api: Api) -> None:
    await api.register(email="groom@example.com")
    response = await client.post("/api/auth/register", json={"email": "GROOM@example.COM", "password": PASSWORD})
    assert response.status == 409
    _error_shape(await response.json(), 409)
    assert await User.filter(email_key="groom@example.com").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": 12, "password": PASSWORD}, "email"),
    ],
)
async def test_bad_registration_is_400_with_details_and_nothing_written(client, body, field) -> None:
    response = await client.post("/api/auth/register", json=body)
    assert response.status == 400
    error = await response.json()
    _error_shape(error, 400)
    assert field in [detail["field"] for detail in error["details"]]
    assert await User.all().count() == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
async def test_non_object_body_is_400(client, raw: bytes) -> None:
    response = await client.post("/api/auth/register", data=raw, headers={"Content-Type": "application/json"})
    assert response.status == 400
    _error_shape(await response.json(), 400)


async def test_login_failures_share_one_message(client, api: Api) -> None:
    await api.register(email="known@example.com")
    wrong_password = await client.post("/api/auth/login", json={"email": "known@example.com", "password": "x" * 9})
    unknown_email = await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong_password.status == unknown_email.status == 401
    assert (await wrong_password.json())["message"] == (await unknown_email.json())["message"]


async def test_deactivated_user_cannot_log_in_and_its_token_is_refused(client, api: Api) -> None:
    user, headers = await api.user()
    await User.filter(id=user["id"]).update(is_active=False)
    assert (await client.get("/api/auth/profile", headers=headers)).status == 401
    response = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status == 401


def _unsigned(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_bad_tokens_are_401(client, api: Api) -> None:
    user, headers = await api.user()
    token = headers["Authorization"].split()[1]
    now = int(time.time())
    claims = {"sub": user["id"], "email": user["email"], "iat": now, "exp": now + 600}
    head, _payload, signature = token.split(".")
    tampered_payload = (
        base64.urlsafe_b64encode(json.dumps({**claims, "sub": "00000000-0000-0000-0000-000000000000"}).encode())
        .rstrip(b"=")
        .decode()
    )
    bad = {
        "none algorithm": _unsigned(claims),
        "tampered": f"{head}.{tampered_payload}.{signature}",
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, TEST_SECRET, algorithm="HS256"),
        "wrong secret": jwt.encode(claims, "another-secret-0123456789abcdef0123456789", algorithm="HS256"),
        "garbage": "abc.def",
    }
    for name, value in bad.items():
        response = await client.get("/api/auth/profile", headers={"Authorization": f"Bearer {value}"})
        assert response.status == 401, name
        _error_shape(await response.json(), 401)
    assert (await client.get("/api/auth/profile")).status == 401
    assert (await client.get("/api/auth/profile", headers={"Authorization": "Basic abc"})).status == 401


async def test_login_is_rate_limited_per_email(make_settings, aiohttp_client, tmp_path) -> None:
    from mochung.server.app import create_app

    client = await aiohttp_client(create_app(make_settings(login_max_attempts=3)))
    api = Api(client)
    await api.register(email="limited@example.com")
    statuses = []
    for _ in range(4):
        response = await client.post("/api/auth/login", json={"email": "limited@example.com", "password": "wrongpass"})
        statuses.append(response.status)
    assert statuses == [401, 401, 401, 429]
    assert int(response.headers["Retry-After"]) >= 1
    _error_shape(await response.json(), 429)
    # even the right password waits until the window ends
    response = await client.post("/api/auth/login", json={"email": "limited@example.com", "password": PASSWORD})
    assert response.status == 429
