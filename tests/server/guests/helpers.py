"""Pages with guest features, for the guest route tests."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

COVER = {
    "type": "Cover",
    "id": "cover-1",
    "props": {"title": "우리 결혼합니다", "groomName": "민수", "brideName": "지은", "mainPhoto": "/files/cover.jpg"},
}
CALENDAR = {"type": "Calendar", "id": "cal-1", "props": {"weddingDate": "2027-05-15", "weddingTime": "13:30"}}
LOCATION = {
    "type": "Location",
    "id": "loc-1",
    "props": {
        "placeName": "더채플앳청담",
        "hall": "3층 그랜드홀",
        "address": "서울 강남구 선릉로 757",
        "lat": 37.5226,
        "lng": 127.0398,
    },
}
OPEN = {"rsvp": {"enabled": True, "askMeal": True, "maxPartySize": 4}, "guestbook": {"enabled": True}}


async def publish(
    client: TestClient,
    headers: dict[str, str],
    *,
    settings: dict[str, Any] | None = OPEN,
    components: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "민수 ♥ 지은",
        "componentData": {"components": components if components is not None else [COVER, CALENDAR, LOCATION]},
        **extra,
    }
    if settings is not None:
        body["settings"] = settings
    response = await client.post("/api/page/publish", json=body, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


def answer(**overrides: Any) -> dict[str, Any]:
    return {"side": "bride", "name": "김하늘", "attending": True, "partySize": 2, "meal": "yes", **overrides}
