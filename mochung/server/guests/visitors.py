"""Who a guest is, for rate limits: the ``mochung_visitor`` cookie the public page sets.

Writes are limited per visitor and, more loosely, per IP: a wedding hall's Wi-Fi or a mobile
carrier's NAT puts hundreds of guests behind one address, so a client without the cookie is
held to the IP's share only (and gets the cookie with its answer).
"""

from __future__ import annotations

import re
import uuid

from aiohttp import web

from mochung.server import keys
from mochung.server.auth import client_ip, limit
from mochung.server.pages import VISITOR_COOKIE

_VISITOR = re.compile(r"^[0-9a-f]{32}$")
_YEAR_SECONDS = 365 * 24 * 3600


def visitor_of(request: web.Request) -> str | None:
    cookie = request.cookies.get(VISITOR_COOKIE, "")
    return cookie if _VISITOR.match(cookie) else None


async def limit_guest_write(request: web.Request, page_id: str) -> None:
    """429 (with Retry-After) past the visitor's or the IP's share of writes on this page."""
    settings = request.app[keys.SETTINGS]
    window = settings.guest_write_window_seconds
    visitor = visitor_of(request)
    if visitor is not None:
        await limit(request, f"guest:{page_id}:{visitor}", settings.guest_writes_per_visitor, window, "writes")
    await limit(request, f"guest-ip:{page_id}:{client_ip(request)}", settings.guest_writes_per_ip, window, "writes")


def remember_visitor(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Give a guest without the visitor cookie one, as the public page would have."""
    if visitor_of(request) is None:
        response.set_cookie(
            VISITOR_COOKIE,
            uuid.uuid4().hex,
            max_age=_YEAR_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=request.app[keys.SETTINGS].base_url.startswith("https://"),
        )
    return response
