"""Invitation codes (PROTOCOL.md "Invitation codes"): admins create them, anyone may check one.

Redemption happens at registration (``mochung.domain.users.register``) when
``MOCHUNG_REQUIRE_INVITATION`` is on.
"""

from __future__ import annotations

import datetime as dt
import functools

from aiohttp import web
from pydantic import Field, field_validator

from mochung.domain import invitations
from mochung.domain.models import InvitationCode, User
from mochung.server import keys
from mochung.server.auth import client_ip, limit
from mochung.server.http.replies import filled
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
_endpoint = functools.partial(endpoint, tag="invitations")


class CreateInvitationBody(WireModel):
    code: str = Field(min_length=3, max_length=64, pattern=invitations.CODE_PATTERN.pattern)
    max_uses: int = Field(ge=1, le=1_000_000)
    expires_at: UtcDatetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        # A time without a zone is taken as UTC, like every time in this API.
        return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


class InvitationResponse(WireModel):
    id: str
    code: str
    max_uses: int
    uses: int
    expires_at: UtcDatetime | None
    is_active: bool


class ValidateBody(WireModel):
    code: str = Field(min_length=1, max_length=64)


class Validation(WireModel):
    valid: bool
    remaining_uses: int
    reason: str | None = None  # why an invalid code cannot be used; None when valid


def invitation_response(invitation: InvitationCode) -> InvitationResponse:
    return filled(InvitationResponse, invitation, id=str(invitation.id))


@routes.post("/api/invitation/create")
@_endpoint(
    summary="Create an invitation code",
    auth="admin",
    body=CreateInvitationBody,
    response=InvitationResponse,
    status=201,
    errors=(400, 409),
)
async def create(request: web.Request, caller: User, body: CreateInvitationBody) -> web.Response:
    invitation = await invitations.create_invitation(body.code, body.max_uses, body.expires_at, caller.id)
    return respond(invitation_response(invitation), status=201)


@routes.post("/api/invitation/validate")
@_endpoint(
    summary="Check an invitation code before registering (rate-limited per client)",
    body=ValidateBody,
    response=Validation,
    errors=(400, 429),
)
async def validate(request: web.Request, body: ValidateBody) -> web.Response:
    per_minute = request.app[keys.SETTINGS].invitation_validate_per_minute
    await limit(request, f"invitation:ip:{client_ip(request)}", per_minute, 60, "invitation checks")
    invitation = await InvitationCode.get_or_none(code=body.code.strip())
    reason = invitations.why_unusable(invitation)
    if reason is not None or invitation is None:
        return respond(Validation(valid=False, remaining_uses=0, reason=reason))
    return respond(Validation(valid=True, remaining_uses=invitation.max_uses - invitation.uses))
