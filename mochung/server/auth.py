"""Register, login, profile; and the rate-limit helpers of the routes anyone may call.
(``endpoint(auth=...)`` admits callers: see ``mochung.server.http.callers``.)"""

from __future__ import annotations

import functools

from aiohttp import web
from pydantic import Field

from mochung.domain import users
from mochung.domain.errors import RateLimited, Unauthenticated
from mochung.domain.models import User
from mochung.domain.security import issue_token
from mochung.server import keys
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
_endpoint = functools.partial(endpoint, tag="auth")


class RegisterBody(WireModel):
    email: str = Field(min_length=3, max_length=254, json_schema_extra={"format": "email"})
    password: str = Field(min_length=8, max_length=256)
    name: str | None = Field(default=None, max_length=100)
    invitation_code: str | None = Field(default=None, max_length=64)


class LoginBody(WireModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class UserSummary(WireModel):
    id: str
    email: str
    name: str | None
    is_admin: bool


class RegisteredUser(UserSummary):
    created_at: UtcDatetime


class Profile(UserSummary):
    is_active: bool


class LoginResult(WireModel):
    access_token: str = Field(serialization_alias="access_token")
    user: UserSummary


def _summary(user: User) -> dict[str, object]:
    return {"id": str(user.id), "email": user.email, "name": user.name, "is_admin": user.is_admin}


async def limit(request: web.Request, key: str, max_hits: int, window_seconds: int, what: str) -> None:
    wait = await request.app[keys.RATE_LIMITER].hit(key, max_hits, window_seconds)
    if wait is not None:
        raise RateLimited(f"too many {what}; try again later", retry_after=wait)


def client_ip(request: web.Request) -> str:
    return request.remote or "unknown"


async def limit_login(request: web.Request, email: str) -> None:
    """Brute force is bounded per email from one IP (``login_max_attempts`` per window), and
    more slowly per email from anywhere (``login_email_max_attempts`` per email window), so
    a stranger's wrong passwords from their IP never lock the owner out of theirs; the per
    IP bound is wide, since many people may share one IP."""
    settings = request.app[keys.SETTINGS]
    ip, email = client_ip(request), email.strip().lower()
    window = settings.login_window_seconds
    await limit(request, f"login:ip:{ip}", settings.login_ip_max_attempts, window, "login attempts")
    await limit(request, f"login:email-ip:{email}:{ip}", settings.login_max_attempts, window, "login attempts")
    await limit(
        request,
        f"login:email:{email}",
        settings.login_email_max_attempts,
        settings.login_email_window_seconds,
        "login attempts",
    )


@routes.post("/api/auth/register")
@_endpoint(summary="Create an account", body=RegisterBody, response=RegisteredUser, status=201, errors=(400, 409, 429))
async def register(request: web.Request, body: RegisterBody) -> web.Response:
    settings = request.app[keys.SETTINGS]
    await limit(request, f"register:ip:{client_ip(request)}", settings.registrations_per_hour, 3600, "registrations")
    user = await users.register(
        body.email,
        body.password,
        body.name,
        invitation_code=body.invitation_code,
        require_invitation=settings.require_invitation,
    )
    return respond(RegisteredUser(**_summary(user), created_at=user.created_at), status=201)


@routes.post("/api/auth/login")
@_endpoint(summary="Log in and get an access token", body=LoginBody, response=LoginResult, errors=(400, 401, 429))
async def login(request: web.Request, body: LoginBody) -> web.Response:
    settings = request.app[keys.SETTINGS]
    metrics = request.app[keys.METRICS]
    try:
        await limit_login(request, body.email)
    except RateLimited:
        metrics.child(metrics.login_failures, reason="rate_limited").inc()
        raise
    try:
        user = await users.authenticate(body.email, body.password)
    except Unauthenticated:
        metrics.child(metrics.login_failures, reason="bad_credentials").inc()
        raise
    token = issue_token(user.id, user.email, request.app[keys.JWT_KEY], settings.jwt_expires_seconds)
    return respond(LoginResult(access_token=token, user=UserSummary(**_summary(user))))


@routes.get("/api/auth/profile")
@routes.post("/api/auth/profile")
@_endpoint(summary="The logged-in user", auth="user", response=Profile)  # (401 follows from auth: docs.py)
async def profile(request: web.Request, caller: User) -> web.Response:
    return respond(Profile(**_summary(caller), is_active=caller.is_active))
