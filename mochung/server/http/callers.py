"""Who is calling: the bearer token's user, resolved once per request and kept on it.

``endpoint(auth=...)`` and the admin guard admit callers through :func:`admit`; no handler
reads the token itself.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from mochung.domain import users
from mochung.domain.errors import Forbidden, Unauthenticated
from mochung.domain.models import User
from mochung.server import keys

# "provider": PortOne calls the route and the handler checks its signature, not a token.
Auth = Literal["none", "user", "admin", "provider"]
CALLER = web.RequestKey("caller", User)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def _user(request: web.Request) -> User:
    """The active user the request's bearer token names; 401 otherwise."""
    if CALLER in request:  # the admin guard (or an earlier check) already resolved it
        return request[CALLER]
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("Unauthorized: a bearer token is required")
    user = await users.user_for_token(token, request.app[keys.JWT_KEY])
    request[CALLER] = user
    return user


async def admit(request: web.Request, *, admin: bool) -> User:
    """The caller: 401 without a valid token, 403 for a non-admin when ``admin``."""
    user = await _user(request)
    if admin and not user.is_admin:
        raise Forbidden("admin only")
    return user
