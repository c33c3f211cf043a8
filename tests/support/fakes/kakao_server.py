"""A fake Kakao Local API (keyword search) for the map adapter's tests.

It checks the ``Authorization: KakaoAK <key>`` header like the real one (401 otherwise),
answers documents shaped like Kakao's (``x`` longitude, ``y`` latitude, as strings), and
can be told to hang (``slow``) so the client's timeout is exercised.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

KAKAO_TEST_KEY = "kakao-test-key"

PLACES: list[dict[str, Any]] = [
    {
        "id": "26338954",
        "place_name": "더채플앳청담",
        "category_name": "가정,생활 > 예식장",
        "phone": "02-518-0101",
        "address_name": "서울 강남구 청담동 4-1",
        "road_address_name": "서울 강남구 선릉로 757",
        "x": "127.039812",
        "y": "37.522614",
        "place_url": "http://place.map.kakao.com/26338954",
    },
    {
        "id": "8160573",
        "place_name": "더채플앳청담 주차장",
        "category_name": "교통,수송 > 주차장",
        "phone": "",
        "address_name": "서울 강남구 청담동 4-2",
        "road_address_name": "",
        "x": "127.0401",
        "y": "37.5229",
        "place_url": "http://place.map.kakao.com/8160573",
    },
]


@dataclass
class FakeKakao:
    """The app plus what it saw; ``mode`` switches the behaviour for the next requests."""

    mode: str = "ok"  # ok | empty | slow | broken
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v2/local/search/keyword.json", self.keyword)
        return app

    async def keyword(self, request: web.Request) -> web.Response:
        self.requests.append(
            {"query": request.query.get("query"), "authorization": request.headers.get("Authorization")}
        )
        if request.headers.get("Authorization") != f"KakaoAK {KAKAO_TEST_KEY}":
            return web.json_response({"errorType": "AccessDeniedError", "message": "wrong appKey"}, status=401)
        if self.mode == "slow":
            await asyncio.sleep(30)  # the client gives up long before; the server is closed after the test
        if self.mode == "broken":
            return web.Response(text="<html>upstream error</html>", status=502)
        query = request.query.get("query", "")
        documents = [] if self.mode == "empty" else [p for p in PLACES if query and query in p["place_name"]]
        size = int(request.query.get("size", "15"))
        meta = {"total_count": len(documents), "pageable_count": len(documents), "is_end": True}
        return web.json_response({"documents": documents[:size], "meta": meta})
