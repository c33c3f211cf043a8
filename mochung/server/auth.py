"""Register, login, profile; and the helpers every handler uses to require a user or an admin."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from mochung.domain import users
from mochung.domain.errors import Forbidden, RateLimited, Unauthenticated
from mochung.domain.models import User
from mochung.domain.security import issue_token
from mochung.server import keys
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, read_body, respond

routes = web.RouteTableDef()
_USER = web.RequestKey("user", User)


class RegisterBody(WireModel):
    email: str = Field(min_length=3, max_length=254)
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


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def current_user(request: web.Request) -> User:
    """The active user the request's bearer token names; 401 otherwise."""
    if _USER in request:
        return request[_USER]
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("Unauthorized: a bearer token is required")
    user = await users.user_for_token(token, request.app[keys.JWT_KEY])
    request[_USER] = user
    return user


async def current_admin(request: web.Request) -> User:
    user = await current_user(request)
    if not user.is_admin:
        raise Forbidden("admin only")
    return user


async def limit(request: web.Request, key: str, max_hits: int, window_seconds: int, what: str) -> None:
    wait = await request.app[keys.RATE_LIMITER].hit(key, max_hits, window_seconds)
    if wait is not None:
        raise RateLimited(f"too many {what}; try again later", retry_after=wait)


def client_ip(request: web.Request) -> str:
    return request.remote or "unknown"


@routes.post("/api/auth/register")
@endpoint(
    summary="Create an account",
    tag="auth",
    body=RegisterBody,
    response=RegisteredUser,
    status=201,
    errors=(400, 409),
)
async def register(request: web.Request) -> web.Response:
    body = await read_body(request, RegisterBody)
    settings = request.app[keys.SETTINGS]
    user = await users.register(
        body.email,
        body.password,
        body.name,
        invitation_code=body.invitation_code,
        require_invitation=settings.require_invitation,
    )
    return respond(RegisteredUser(**_summary(user), created_at=user.created_at), status=201)


@routes.post("/api/auth/login")
@endpoint(
    summary="Log in and get an access token",
    tag="auth",
    body=LoginBody,
    response=LoginResult,
    errors=(400, 401, 429),
)
async def login(request: web.Request) -> web.Response:
    body = await read_body(request, LoginBody)
    settings = request.app[keys.SETTINGS]
    window = settings.login_window_seconds
    await limit(request, f"login:ip:{client_ip(request)}", settings.login_max_attempts * 5, window, "login attempts")
    await limit(
        request,
        f"login:email:{body.email.strip().lower()}",
        settings.login_max_attempts,
        window,
        "login attempts",
    )
    user = await users.authenticate(body.email, body.password)
    token = issue_token(user.id, user.email, request.app[keys.JWT_KEY], settings.jwt_expires_seconds)
    return respond(LoginResult(access_token=token, user=UserSummary(**_summary(user))))


@routes.get("/api/auth/profile")
@routes.post("/api/auth/profile")
@endpoint(summary="The logged-in user", tag="auth", auth="user", response=Profile, errors=(401,))
async def profile(request: web.Request) -> web.Response:
    user = await current_user(request)
    return respond(Profile(**_summary(user), is_active=user.is_active))
