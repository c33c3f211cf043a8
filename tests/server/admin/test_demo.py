"""`mochung demo` in process (Typer's CliRunner) against a temporary SQLite data folder:
it seeds once, a second run adds nothing, and the printed credentials open the admin API
on data that fills every admin screen."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mochung.cli import app as cli
from mochung.cli.demo import ADMIN_EMAIL, DEMO_PASSWORD, DEMO_SLUG
from mochung.server.app import create_app
from mochung.settings import Settings


@pytest.fixture
def embedded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("MOCHUNG_DATABASE_URL", "MOCHUNG_REDIS_URL", "MOCHUNG_LLM", "MOCHUNG_PORTONE_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return {"MOCHUNG_DATA_DIR": str(tmp_path / "data")}


def _run_demo(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, ["demo", *args], env=env)


async def test_demo_seeds_once_and_the_admin_sees_it(embedded_env: dict[str, str], aiohttp_client) -> None:
    first = await asyncio.to_thread(_run_demo, embedded_env)
    assert first.exit_code == 0, first.output
    assert f"{ADMIN_EMAIL}  password: {DEMO_PASSWORD}" in first.output
    assert "mochung tui --url" in first.output and "frontend:" in first.output
    assert "created: admin account, couple account, published page" in first.output

    second = await asyncio.to_thread(_run_demo, embedded_env)
    assert second.exit_code == 0, second.output
    assert "created: nothing" in second.output

    settings = Settings(_env_file=None, data_dir=Path(embedded_env["MOCHUNG_DATA_DIR"]), log_format="text")  # type: ignore[call-arg]
    client = await aiohttp_client(create_app(settings))
    login = await client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
    assert login.status == 200
    headers = {"Authorization": f"Bearer {(await login.json())['access_token']}"}

    async def get(path: str, **params: str) -> Any:
        response = await client.get(path, params=params, headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()

    stats = await get("/api/admin/stats")
    assert stats["users"] == {"total": 2, "active": 2, "admins": 1}
    assert stats["pages"]["published"] == 1 and stats["pages"]["hidden"] == 1
    assert stats["chatsToday"] == 8  # four questions, four answers: not doubled by the second run
    assert stats["agentRuns"]["done"] == 4
    assert stats["payments"]["byStatus"]["failed"] == 1 and stats["payments"]["awaitingReview"] == 1

    pages = (await get("/api/admin/pages", status="published"))["items"]
    assert [p["slug"] for p in pages] == [DEMO_SLUG]
    assert pages[0]["componentTypes"] == ["Cover", "Invitation", "Calendar", "Location", "Account", "Gallery"]
    location = pages[0]["componentData"]["components"][3]["props"]
    assert isinstance(location["lat"], float) and isinstance(location["lng"], float)

    hides = (await get("/api/admin/audit", action="page.hide"))["items"]
    assert [e["adminEmail"] for e in hides] == [ADMIN_EMAIL]  # once, not once per run
    public = await client.get(f"/api/page/public/{DEMO_SLUG}")
    assert public.status == 200 and (await public.json())["title"] == "민준 ♥ 서연 결혼합니다"

    sessions = (await get("/api/admin/sessions"))["items"]
    assert len(sessions) == 1 and sessions[0]["messageCount"] == 8 and sessions[0]["pageId"] == pages[0]["id"]
    chats = (await get("/api/admin/chats", sessionId=sessions[0]["id"]))["items"]
    answers = [m["content"] for m in chats if m["role"] == "assistant"]
    assert any("더채플앳청담" in (text or "") for text in answers)  # the agents read the page
    # ... and its guests: 13 people coming, 6 on the groom's side and 7 on the bride's
    assert any("모두 13명" in (text or "") and "신부측 7명" in (text or "") for text in answers)

    # guests: RSVP and guestbook on, answers and entries once (not once per run), spam hidden
    page_id = pages[0]["id"]
    summary = await get(f"/api/admin/pages/{page_id}/rsvps/summary")
    assert (summary["responses"], summary["attending"], summary["guests"]) == (8, 6, 13)
    assert summary["bySide"] == {"groom": {"attending": 3, "guests": 6}, "bride": {"attending": 3, "guests": 7}}
    assert summary["meals"]["yes"] == 9
    entries = (await get("/api/admin/guestbook", pageId=page_id))["items"]
    assert len(entries) == 5 and [e["isHidden"] for e in entries] == [True, False, False, False, False]
    assert [e["adminEmail"] for e in (await get("/api/admin/audit", action="guestbook.hide"))["items"]] == [ADMIN_EMAIL]
    settings_out = (await (await client.get(f"/api/page/public/{DEMO_SLUG}")).json()).get("settings")
    if settings_out is not None:
        assert settings_out["rsvp"]["enabled"] and settings_out["guestbook"]["enabled"]
    public_book = await client.get(f"/api/page/public/{DEMO_SLUG}/guestbook")
    assert public_book.status == 200 and len((await public_book.json())["items"]) == 4

    routes = {route.resource.canonical for route in client.server.app.router.routes() if route.resource}
    if "/api/admin/payments" in routes:  # the payments feature's admin list
        flagged = (await get("/api/admin/payments", flagged="true"))["items"]
        assert [(p["status"], p["failureReason"]) for p in flagged] == [("failed", "amount_mismatch")]


def test_demo_refuses_a_shared_database_without_force(embedded_env: dict[str, str]) -> None:
    result = _run_demo(embedded_env | {"MOCHUNG_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.exit_code == 1
    assert "refusing to seed a shared database" in result.output and "Traceback" not in result.output


def test_demo_refuses_a_short_password(embedded_env: dict[str, str]) -> None:
    result = _run_demo(embedded_env, "--password", "short")
    assert result.exit_code == 1 and "at least 8 characters" in result.output
