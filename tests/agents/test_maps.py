"""The map search: directions links, the offline search over the page's own venue, and the
Kakao Local client against a fake Kakao server — directly and through a whole chat turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mochung.adapters.maps import KakaoMapSearch, OfflineMapSearch, directions_links
from mochung.agents import TurnInput, build_runtime
from mochung.domain.ports import MapSearchError, Place
from mochung.settings import load_settings
from tests.agents.helpers import answer, collect
from tests.support.fakes.kakao_server import KAKAO_TEST_KEY, FakeKakao

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def test_directions_links_route_to_the_coordinates() -> None:
    links = directions_links("더채플앳청담", 37.5226, 127.0398)
    assert (
        links["kakao"]
        == "https://map.kakao.com/link/to/%EB%8D%94%EC%B1%84%ED%94%8C%EC%95%B3%EC%B2%AD%EB%8B%B4,37.5226,127.0398"
    )
    assert links["naver"].startswith("nmap://route/public?dlat=37.5226&dlng=127.0398&dname=")
    assert "appname=" in links["naver"]
    assert links["naver_web"].startswith("https://map.naver.com/p/search/")
    assert links["tmap"].startswith("tmap://route?goalname=") and "goalx=127.0398&goaly=37.5226" in links["tmap"]


def test_directions_links_without_coordinates_search_by_name_and_address() -> None:
    links = directions_links("Grand Hall", None, None, "1 Main St")
    assert links["kakao"] == "https://map.kakao.com/link/search/Grand%20Hall%201%20Main%20St"
    assert links["tmap"] == "tmap://search?name=Grand+Hall+1+Main+St"


async def test_offline_search_finds_the_pages_venue_by_name_or_address() -> None:
    search = OfflineMapSearch([Place(name="더채플앳청담", address="서울 강남구 선릉로 757", lat=37.52, lng=127.04)])
    [by_name] = await search.search("더채플앳청담")
    [by_address] = await search.search("선릉로 757")
    assert by_name == by_address
    assert by_name.links["kakao"].endswith(",37.52,127.04")
    assert await search.search("롯데호텔") == []
    assert await OfflineMapSearch().details("anything") is None


@pytest.fixture
async def kakao(aiohttp_server: ServerFactory) -> tuple[FakeKakao, str]:
    fake = FakeKakao()
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("")).rstrip("/")


def _client(http: aiohttp.ClientSession | None, base_url: str, key: str = KAKAO_TEST_KEY) -> KakaoMapSearch:
    return KakaoMapSearch(http, api_key=key, base_url=base_url, timeout_seconds=0.5)


async def test_kakao_search_returns_places_with_links(kakao: tuple[FakeKakao, str]) -> None:
    fake, base_url = kakao
    async with aiohttp.ClientSession() as http:
        places = await _client(http, base_url).search("더채플앳청담")
    assert [place.name for place in places] == ["더채플앳청담", "더채플앳청담 주차장"]
    venue = places[0]
    assert (venue.lat, venue.lng) == (37.522614, 127.039812)  # y is the latitude, x the longitude
    assert venue.road_address == "서울 강남구 선릉로 757" and venue.phone == "02-518-0101"
    assert venue.links["kakao"].endswith(",37.522614,127.039812")
    assert fake.requests[0] == {"query": "더채플앳청담", "authorization": f"KakaoAK {KAKAO_TEST_KEY}"}


async def test_kakao_search_without_a_shared_session_opens_its_own(kakao: tuple[FakeKakao, str]) -> None:
    _, base_url = kakao
    place = await _client(None, base_url).details("더채플앳청담")
    assert place is not None and place.name == "더채플앳청담"


async def test_kakao_empty_result_is_an_empty_list(kakao: tuple[FakeKakao, str]) -> None:
    fake, base_url = kakao
    fake.mode = "empty"
    async with aiohttp.ClientSession() as http:
        assert await _client(http, base_url).search("없는 예식장") == []


@pytest.mark.parametrize(
    ("mode", "key", "message"),
    [
        ("ok", "wrong-key", "Kakao map search refused the API key (check MOCHUNG_KAKAO_REST_API_KEY)"),
        ("slow", KAKAO_TEST_KEY, "Kakao map search timed out"),
        ("broken", KAKAO_TEST_KEY, "Kakao map search failed (HTTP 502)"),
    ],
)
async def test_kakao_failures_are_clear_errors(kakao: tuple[FakeKakao, str], mode: str, key: str, message: str) -> None:
    fake, base_url = kakao
    fake.mode = mode
    async with aiohttp.ClientSession() as http:
        with pytest.raises(MapSearchError) as raised:
            await _client(http, base_url, key).search("더채플앳청담")
    assert raised.value.message == message
    assert key not in raised.value.message


async def test_kakao_unreachable_is_a_clear_error() -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(MapSearchError, match="Kakao map search is unreachable"):
            await _client(http, "http://127.0.0.1:9").search("더채플앳청담")


async def _venue_turn(base_url: str, key: str, wedding: dict[str, Any]) -> tuple[list[Any], list[str]]:
    settings = load_settings(llm="offline", kakao_rest_api_key=key, kakao_base_url=base_url, map_timeout_seconds=0.5)
    async with aiohttp.ClientSession() as http:
        turn = build_runtime(settings, http=http).turn(TurnInput(text="예식장이 어디예요?", wedding=wedding))
        events = await collect(turn)
    return events, [step["tool"] for step in turn.trajectory]


async def test_venue_turn_through_kakao(kakao: tuple[FakeKakao, str], wedding: dict[str, Any]) -> None:
    fake, base_url = kakao
    events, tools = await _venue_turn(base_url, KAKAO_TEST_KEY, wedding)
    assert [event.type for event in events][-2:] == ["text", "done"]
    text = answer(events)
    assert "전화: 02-518-0101" in text  # only Kakao knows the phone number
    assert ",37.522614,127.039812" in text  # and these coordinates
    assert tools == ["call_context_agent", "get_wedding_info", "call_map_agent", "search_place", "get_place_details"]
    assert [request["query"] for request in fake.requests] == ["더채플앳청담", "더채플앳청담"]


async def test_venue_turn_when_kakao_finds_nothing(kakao: tuple[FakeKakao, str], wedding: dict[str, Any]) -> None:
    fake, base_url = kakao
    fake.mode = "empty"
    events, tools = await _venue_turn(base_url, KAKAO_TEST_KEY, wedding)
    text = answer(events)
    assert "지도 검색에서는 이 장소를 찾지 못해서" in text
    assert "서울 강남구 선릉로 757" in text  # the page's own address still helps
    assert "get_place_details" not in tools


@pytest.mark.parametrize(
    ("mode", "key", "message"),
    [
        ("ok", "revoked-key", "map search failed: Kakao map search refused the API key"),
        ("slow", KAKAO_TEST_KEY, "map search failed: Kakao map search timed out"),
    ],
)
async def test_venue_turn_when_kakao_fails_ends_with_an_error_event(
    kakao: tuple[FakeKakao, str], wedding: dict[str, Any], mode: str, key: str, message: str
) -> None:
    fake, base_url = kakao
    fake.mode = mode
    events, _ = await _venue_turn(base_url, key, wedding)
    assert [event.type for event in events if event.type != "chunk"] == ["error", "done"]
    assert (events[-2].content or "").startswith(message)
    assert key not in (events[-2].content or "")
