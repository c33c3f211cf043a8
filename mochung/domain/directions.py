"""Directions to a place in the Korean map apps (Kakao Map, Naver Map, T map).

One pure function, used by the map agent (``mochung.adapters.maps``) and by the public page
(PROTOCOL.md "Guests": ``directions`` for a Location), so both give the same links.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

NAVER_APP_NAME = "kr.mochung"


def directions_links(name: str, lat: float | None, lng: float | None, address: str = "") -> dict[str, str]:
    """Links that open directions to the place in each Korean map app, snake_case keys.

    ``kakao`` and ``kakao_web`` are web links (Kakao's ``/link/to`` opens the app when it is
    installed), ``kakao_app`` the ``kakaomap://`` scheme; ``naver`` is the ``nmap://`` app
    scheme and ``naver_web`` its web fallback; ``tmap`` is the ``tmap://`` app scheme.
    With coordinates the links route straight to the point; without them they fall back
    to a search for the name and address, which every app understands.
    """
    query = " ".join(part for part in (name, address) if part).strip() or name
    naver_web = f"https://map.naver.com/p/search/{quote(query)}"
    if lat is None or lng is None:
        kakao_web = f"https://map.kakao.com/link/search/{quote(query)}"
        return {
            "kakao": kakao_web,
            "kakao_web": kakao_web,
            "kakao_app": "kakaomap://search?" + urlencode({"q": query}),
            "naver": naver_web,
            "naver_web": naver_web,
            "tmap": "tmap://search?" + urlencode({"name": query}),
        }
    kakao_web = f"https://map.kakao.com/link/to/{quote(name)},{lat},{lng}"
    return {
        "kakao": kakao_web,
        "kakao_web": kakao_web,
        "kakao_app": f"kakaomap://route?ep={lat},{lng}&by=PUBLICTRANS",
        "naver": "nmap://route/public?"
        + urlencode({"dlat": lat, "dlng": lng, "dname": name, "appname": NAVER_APP_NAME}),
        "naver_web": naver_web,
        "tmap": "tmap://route?" + urlencode({"goalname": name, "goalx": lng, "goaly": lat}),
    }
