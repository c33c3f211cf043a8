"""``calendar.ics`` parsed with the icalendar library, and the ``/i/:slug`` link preview:
its tags parsed, and rendered by a real headless browser (Debian's chromium)."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import tempfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mochung.domain.models import Page
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.contract import contract as c
from tests.server.guests.helpers import CALENDAR, COVER, LOCATION, publish
from tests.support.users import user_with_headers

CHROMIUM = "/usr/bin/chromium"
SEOUL = ZoneInfo("Asia/Seoul")


async def test_the_calendar_file_parses_and_carries_seoul_time(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    response = await client.get(f"/api/page/public/{page['slug']}/calendar.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    raw = await response.read()
    assert b"\r\n" in raw and all(len(line) <= 75 for line in raw.split(b"\r\n"))
    calendar = icalendar.Calendar.from_ical(raw)
    events = [part for part in calendar.walk("VEVENT")]
    assert len(events) == 1
    event = events[0]
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2027, 5, 15, 13, 30, tzinfo=SEOUL)
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 5, 15, 4, 30, tzinfo=dt.UTC)
    assert event.decoded("DTEND") - start == dt.timedelta(hours=2)
    assert str(event["UID"]) == f"{page['id']}@mochung"
    assert str(event["SUMMARY"]) == "민수 ♥ 지은 결혼식"
    assert str(event["LOCATION"]) == "더채플앳청담 3층 그랜드홀, 서울 강남구 선릉로 757"
    assert event["GEO"].latitude == pytest.approx(37.5226) and event["GEO"].longitude == pytest.approx(127.0398)
    assert str(event["URL"]) == f"http://localhost:3001/{page['slug']}"
    alarms = [part for part in event.walk("VALARM")]
    assert len(alarms) == 1 and alarms[0].decoded("TRIGGER") == -dt.timedelta(days=1)
    # the same UID every time (a guest who adds it twice updates one event)
    again = icalendar.Calendar.from_ical(
        await (await client.get(f"/api/page/public/{page['slug']}/calendar.ics")).read()
    )
    assert str(next(iter(again.walk("VEVENT")))["UID"]) == str(event["UID"])


async def test_a_date_only_page_is_an_all_day_event_and_no_date_is_404(client: TestClient) -> None:
    _, headers = await user_with_headers()
    date_only = {**CALENDAR, "props": {"weddingDate": "2027-10-09"}}
    page = await publish(client, headers, components=[COVER, date_only])
    event = next(iter(icalendar.Calendar.from_ical(
        await (await client.get(f"/api/page/public/{page['slug']}/calendar.ics")).read()
    ).walk("VEVENT")))  # fmt: skip
    assert event.decoded("DTSTART") == dt.date(2027, 10, 9)
    bare = await publish(client, headers, components=[{**COVER, "props": {"groomName": "민수"}}])
    body = await c.expect_error(await client.get(f"/api/page/public/{bare['slug']}/calendar.ics"), 404, "no date")
    assert "no wedding date" in body["message"]
    await Page.filter(id=page["id"]).update(is_hidden=True)
    await c.expect_error(await client.get(f"/api/page/public/{page['slug']}/calendar.ics"), 404, "hidden")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in values or "name" in values):
            self.meta[values.get("property") or values["name"]] = values.get("content", "")
        elif tag == "link":
            self.links[values.get("rel", "")] = values.get("href", "")
        elif tag == "script":
            self.scripts += 1


def tags_of(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


async def test_the_preview_carries_the_tags(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    response = await client.get(f"/i/{page['slug']}")
    assert response.status == 200 and response.content_type == "text/html"
    assert "script-src 'sha256-" in response.headers["Content-Security-Policy"]
    tags = tags_of(await response.text())
    assert tags.meta["og:title"] == "민수 ♥ 지은" == tags.meta["twitter:title"]
    assert tags.meta["og:description"] == "2027년 5월 15일 토요일 오후 1시 30분 · 더채플앳청담 3층 그랜드홀"
    assert tags.meta["og:image"] == "http://localhost:3002/files/cover.jpg"  # made absolute
    assert tags.meta["og:url"] == f"http://localhost:3002/i/{page['slug']}"
    assert tags.meta["twitter:card"] == "summary_large_image"
    assert tags.links["canonical"] == f"http://localhost:3001/{page['slug']}"

    plain = await publish(client, headers, components=[{**COVER, "props": {"groomName": "A", "brideName": "B"}}])
    tags = tags_of(await (await client.get(f"/i/{plain['slug']}")).text())
    assert tags.meta["og:image"] == "http://localhost:3002/static/preview-default.png"
    image = await client.get("/static/preview-default.png")
    assert image.status == 200 and (await image.read()).startswith(b"\x89PNG")


HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


async def test_a_hostile_page_is_inert_and_a_hidden_one_404(client: TestClient) -> None:
    _, headers = await user_with_headers()
    cover = {
        **COVER,
        "props": {
            "groomName": HOSTILE,
            "brideName": "</title><script>x()</script>",
        },
    }
    page = await publish(client, headers, components=[cover, CALENDAR, LOCATION])
    text = await (await client.get(f"/i/{page['slug']}")).text()
    tags = tags_of(text)
    assert tags.scripts == 1  # only the server's own redirect
    assert "<script>alert" not in text and "<img" not in text
    assert tags.meta["og:title"] == f"{HOSTILE} ♥ </title><script>x()</script>"  # as text, intact
    assert tags.meta["og:image"].endswith("/static/preview-default.png")
    await Page.filter(id=page["id"]).update(is_hidden=True)
    response = await client.get(f"/i/{page['slug']}")
    assert response.status == 404 and response.content_type == "text/html"
    assert "청첩장을 찾을 수 없습니다" in await response.text()
    assert (await client.get("/i/no-such-page")).status == 404


# ---- a real browser ----------------------------------------------------------------------


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test installs it)")


_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


CHROMIUM_START_SECONDS = 120


def _dump_dom(url: str) -> str:
    """The DOM chromium ends on, scripts on (so after any redirect)."""
    with tempfile.TemporaryDirectory() as profile:
        command = [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60 + CHROMIUM_START_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


async def _dom_without_scripts(url: str) -> str:
    """The DOM chromium builds from the page with page scripts off (so it stays on the
    page), read over the DevTools protocol: --dump-dom itself needs scripts."""
    with tempfile.TemporaryDirectory() as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stderr is not None
            while True:
                # generous: chromium's first start on a fresh, busy machine builds its caches
                # (one CI run waited more than 30 s here)
                line = (await asyncio.wait_for(process.stderr.readline(), CHROMIUM_START_SECONDS)).decode()
                assert line, "chromium exited before DevTools listened"
                if "DevTools listening on" in line:
                    port = int(line.split("ws://")[1].split("/")[0].split(":")[1])
                    break
            async with aiohttp.ClientSession() as http:
                targets = await (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
                page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
                async with http.ws_connect(page_ws, max_msg_size=0) as ws:
                    ids = iter(range(1, 1000))

                    async def call(method: str, **params: Any) -> dict[str, Any]:
                        number = next(ids)
                        await ws.send_json({"id": number, "method": method, "params": params})
                        while True:
                            message = await asyncio.wait_for(ws.receive_json(), 30)
                            if message.get("id") == number:
                                return dict(message.get("result", {}))
                            if message.get("method") == "Page.loadEventFired":
                                loaded.set()

                    loaded = asyncio.Event()
                    await call("Page.enable")
                    await call("Emulation.setScriptExecutionDisabled", value=True)
                    await call("Page.navigate", url=url)
                    while not loaded.is_set():
                        message = await asyncio.wait_for(ws.receive_json(), 30)
                        if message.get("method") == "Page.loadEventFired":
                            loaded.set()
                    result = await call(
                        "Runtime.evaluate", expression="document.documentElement.outerHTML", returnByValue=True
                    )
                    return str(result["result"]["value"])
        finally:
            process.kill()
            await process.wait()


@pytest.fixture
async def frontend(aiohttp_server: Any) -> TestServer:
    """A stand-in for the Next.js frontend: it answers every page with a marker."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=f"<html><body><h1 id=frontend>frontend {request.path}</h1></body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    return await aiohttp_server(app)


@pytest.mark.timeout(2 * CHROMIUM_START_SECONDS + 180)  # two chromium runs, each allowed a slow first start
async def test_a_real_browser_sees_the_tags_and_goes_on_to_the_frontend(
    aiohttp_server: Any, make_settings: Callable[..., Settings], frontend: TestServer
) -> None:
    _need_chromium()
    server = await aiohttp_server(create_app(make_settings(frontend_url=str(frontend.make_url("")).rstrip("/"))))
    client = TestClient(server)
    await client.start_server()
    try:
        _, headers = await user_with_headers()
        cover = {**COVER, "props": {**COVER["props"], "brideName": HOSTILE}}
        page = await publish(client, headers, components=[cover, CALENDAR, LOCATION])
        url = str(server.make_url(f"/i/{page['slug']}"))
        dom = await _dom_without_scripts(url)
        tags = tags_of(dom)
        assert tags.meta["og:title"] == f"민수 ♥ {HOSTILE}"
        assert tags.meta["og:description"].startswith("2027년 5월 15일")
        assert tags.meta["og:image"].endswith("/files/cover.jpg") and tags.meta["og:image"].startswith("http")
        assert tags.meta["twitter:card"] == "summary_large_image"
        assert tags.scripts == 1 and "<img" not in dom  # the hostile name stayed text
        dom = await asyncio.to_thread(_dump_dom, url)
        assert f"frontend /{page['slug']}" in dom  # the browser was sent on to the frontend's page
    finally:
        await client.close()
