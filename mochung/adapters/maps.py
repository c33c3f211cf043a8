"""Place search for the map agent: one ``MapSearch`` interface, two implementations.

- :class:`KakaoMapSearch` asks the Kakao Local API (keyword search) over aiohttp.
- :class:`OfflineMapSearch` answers from the places the couple already put on their page
  (the Location component), so directions work with no key and no network.

Both return :class:`Place` values carrying directions links for Kakao Map, Naver Map and
T map, built from the name and coordinates by :func:`directions_links`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import aiohttp

from mochung.domain.directions import directions_links
from mochung.domain.ports import MapSearchError, Place

__all__ = ["KakaoMapSearch", "OfflineMapSearch", "directions_links", "with_links"]

def with_links(place: Place) -> Place:
    return replace(place, links=directions_links(place.name, place.lat, place.lng, place.road_address or place.address))


class KakaoMapSearch:
    """Kakao Local keyword search (``GET /v2/local/search/keyword.json``)."""

    def __init__(
        self, http: aiohttp.ClientSession | None, *, api_key: str, base_url: str, timeout_seconds: float
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def search(self, query: str, *, limit: int = 5) -> list[Place]:
        query = query.strip()
        if not query:
            return []
        documents = await self._keyword(query, limit)
        return [with_links(_place_from_kakao(doc)) for doc in documents[:limit]]

    async def details(self, name: str) -> Place | None:
        found = await self.search(name, limit=1)
        return found[0] if found else None

    async def _keyword(self, query: str, limit: int) -> list[dict[str, Any]]:
        url = f"{self._base_url}/v2/local/search/keyword.json"
        params = {"query": query, "size": str(max(1, min(limit, 15)))}
        headers = {"Authorization": f"KakaoAK {self._api_key}"}
        try:
            if self._http is not None:
                body = await self._get(self._http, url, params, headers)
            else:  # no shared session (CLI, one-off runs): one for this search
                async with aiohttp.ClientSession() as http:
                    body = await self._get(http, url, params, headers)
        except TimeoutError:
            raise MapSearchError("Kakao map search timed out") from None
        except aiohttp.ClientError as error:
            raise MapSearchError(f"Kakao map search is unreachable ({type(error).__name__})") from None
        documents = body.get("documents") if isinstance(body, dict) else None
        if not isinstance(documents, list):
            raise MapSearchError("Kakao map search returned an unexpected answer")
        return [doc for doc in documents if isinstance(doc, dict)]

    async def _get(self, http: aiohttp.ClientSession, url: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        async with http.get(url, params=params, headers=headers, timeout=self._timeout) as response:
            if response.status in (401, 403):
                raise MapSearchError("Kakao map search refused the API key (check MOCHUNG_KAKAO_REST_API_KEY)")
            if response.status == 429:
                raise MapSearchError("Kakao map search is rate limited; try again in a moment")
            if response.status >= 400:
                raise MapSearchError(f"Kakao map search failed (HTTP {response.status})")
            try:
                return await response.json(content_type=None)
            except ValueError:
                raise MapSearchError("Kakao map search returned an unreadable answer") from None


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _place_from_kakao(doc: dict[str, Any]) -> Place:
    return Place(
        name=str(doc.get("place_name") or ""),
        address=str(doc.get("address_name") or ""),
        road_address=str(doc.get("road_address_name") or ""),
        lat=_float_or_none(doc.get("y")),  # Kakao: y is the latitude, x the longitude
        lng=_float_or_none(doc.get("x")),
        phone=str(doc.get("phone") or ""),
        place_url=str(doc.get("place_url") or ""),
    )


_WORD = re.compile(r"[0-9A-Za-z가-힣]+")


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text) if len(word) > 1}


class OfflineMapSearch:
    """Searches the places the couple put on their page; no network.

    A place matches when the query shares a word with its name or address, or when the
    query is contained in them (Korean names are often written without spaces).
    """

    def __init__(self, places: Sequence[Place] = ()) -> None:
        self._places = [with_links(place) for place in places if place.name or place.address]

    async def search(self, query: str, *, limit: int = 5) -> list[Place]:
        wanted = _words(query)
        compact = re.sub(r"\s+", "", query).lower()
        scored: list[tuple[int, int, Place]] = []
        for index, place in enumerate(self._places):
            haystack = f"{place.name} {place.address} {place.road_address}"
            score = len(wanted & _words(haystack))
            if compact and compact in re.sub(r"\s+", "", haystack).lower():
                score += 2
            if score:
                scored.append((-score, index, place))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [place for _, _, place in scored[:limit]]

    async def details(self, name: str) -> Place | None:
        found = await self.search(name, limit=1)
        return found[0] if found else None
