"""Page settings (PROTOCOL.md "Guests"): validated on publish and update, in PageResponse."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from mochung.domain.models import Page
from tests.contract import contract as c
from tests.server.guests.helpers import OPEN, publish
from tests.support.users import user_with_headers

OFF = {
    "rsvp": {"enabled": False, "deadline": None, "askMeal": False, "maxPartySize": 5},
    "guestbook": {"enabled": False},
}


async def test_settings_default_off_and_come_back_as_sent(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers, settings=None)
    assert page["settings"] == OFF
    page = await publish(client, headers)
    assert page["settings"] == {
        "rsvp": {"enabled": True, "deadline": None, "askMeal": True, "maxPartySize": 4},
        "guestbook": {"enabled": True},
    }
    mine = await (await client.get(f"/api/page/{page['id']}", headers=headers)).json()
    assert mine["settings"] == page["settings"]
    public = await (await client.get(f"/api/page/public/{page['slug']}")).json()
    assert public["settings"] == page["settings"]


async def test_an_update_replaces_the_sections_it_names(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    response = await client.put(
        f"/api/page/{page['id']}",
        json={"settings": {"rsvp": {"enabled": True, "deadline": "2027-05-10"}}},
        headers=headers,
    )
    body = await c.expect(response, 200, "PUT settings")
    # a date alone: the end of that day in Korea (15:00 UTC)
    assert body["settings"]["rsvp"] == {
        "enabled": True,
        "deadline": "2027-05-10T15:00:00.000Z",
        "askMeal": False,
        "maxPartySize": 5,
    }
    assert body["settings"]["guestbook"] == {"enabled": True}  # kept
    assert body["version"] == 2
    response = await client.put(
        f"/api/page/{page['id']}", json={"settings": {"guestbook": {"enabled": False}}}, headers=headers
    )
    body = await c.expect(response, 200, "PUT settings")
    assert body["settings"]["guestbook"] == {"enabled": False}
    assert body["settings"]["rsvp"]["deadline"] == "2027-05-10T15:00:00.000Z"


async def test_invalid_settings_are_refused_with_nothing_changed(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    bad = [
        {"rsvp": {"enabled": True, "maxPartySize": 0}},
        {"rsvp": {"enabled": True, "maxPartySize": 21}},
        {"rsvp": {"enabled": "maybe"}},
        {"rsvp": {"enabled": True, "deadline": "next week"}},
        {"rsvp": {"enabled": True, "deadline": 0}},  # not seconds since 1970: the document says a string
        {"guestbook": {"enabled": [1]}},
    ]
    for settings in bad:
        response = await client.put(f"/api/page/{page['id']}", json={"settings": settings}, headers=headers)
        body = await c.expect_error(response, 400, f"PUT {settings}")
        assert body["details"][0]["field"].startswith("settings."), body
    stored = await Page.get(id=page["id"])
    assert stored.version == 1 and stored.settings["rsvp"]["max_party_size"] == 4
    response = await client.post(
        "/api/page/publish",
        json={"title": "x", "settings": {"rsvp": {"maxPartySize": 99}}},
        headers=headers,
    )
    await c.expect_error(response, 400, "publish with bad settings")
    assert await Page.all().count() == 1
    assert OPEN  # the helper's settings are the valid kind


async def test_the_public_page_has_directions_for_its_location(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    public = await (await client.get(f"/api/page/public/{page['slug']}")).json()
    directions = public["directions"]
    assert set(directions) == {"kakao", "kakaoWeb", "naver", "naverWeb", "tmap"}
    assert directions["kakao"] == "kakaomap://route?ep=37.5226,127.0398&by=PUBLICTRANS"
    assert directions["kakaoWeb"].startswith("https://map.kakao.com/link/to/") and directions["kakaoWeb"].endswith(
        ",37.5226,127.0398"
    )
    assert directions["naver"].startswith("nmap://route/public?dlat=37.5226&dlng=127.0398")
    assert directions["naverWeb"].startswith("https://map.naver.com/p/search/")
    assert directions["tmap"].startswith("tmap://route?") and "goalx=127.0398" in directions["tmap"]
    bare = await publish(client, headers, components=[])
    assert (await (await client.get(f"/api/page/public/{bare['slug']}")).json())["directions"] is None
