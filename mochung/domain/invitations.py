"""Invitation codes: creation, validation and the atomic redemption at registration."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from mochung.domain import audit
from mochung.domain.errors import Conflict, Invalid
from mochung.domain.models import InvitationCode

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,64}$")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _usable() -> Q:
    return Q(is_active=True) & Q(uses__lt=F("max_uses")) & (Q(expires_at=None) | Q(expires_at__gt=_now()))


async def create_invitation(
    code: str, max_uses: int, expires_at: dt.datetime | None, created_by: uuid.UUID | None
) -> InvitationCode:
    """A new code. One an admin creates (``created_by``) is audited in the same transaction,
    so there is never a code without its entry or the reverse; the CLI's are not."""
    if not CODE_PATTERN.match(code):
        raise Invalid("code must be 3-64 letters, digits, '-' or '_'", field="code")
    if max_uses < 1:
        raise Invalid("maxUses must be at least 1", field="maxUses")
    if expires_at is not None and expires_at <= _now():
        raise Invalid("expiresAt must be in the future", field="expiresAt")
    try:
        async with in_transaction() as connection:
            invitation = await InvitationCode.create(
                code=code, max_uses=max_uses, expires_at=expires_at, created_by_id=created_by, using_db=connection
            )
            if created_by is not None:
                details: dict[str, object] = {"code": invitation.code, "maxUses": invitation.max_uses}
                if invitation.expires_at is not None:
                    details["expiresAt"] = invitation.expires_at.isoformat()
                target = f"invitation:{invitation.id}"
                await audit.record(created_by, "invitation.create", target, details, connection)
    except IntegrityError as error:
        raise Conflict(f"invitation code {code!r} already exists") from error
    return invitation


def why_unusable(invitation: InvitationCode | None) -> str | None:
    """The reason a code cannot be redeemed now, or None when it can."""
    if invitation is None:
        return "invitation code not found"
    if not invitation.is_active:
        return "invitation code is no longer active"
    if invitation.expires_at is not None and invitation.expires_at <= _now():
        return "invitation code has expired"
    if invitation.uses >= invitation.max_uses:
        return "invitation code has been used up"
    return None


async def remaining_uses(code: str) -> int | None:
    """Uses left for a valid code, None when the code cannot be redeemed."""
    invitation = await InvitationCode.get_or_none(code=code)
    if why_unusable(invitation) is not None or invitation is None:
        return None
    return invitation.max_uses - invitation.uses


async def consume_invitation(code: str, connection: BaseDBAsyncClient) -> None:
    """Take one use inside the caller's transaction.

    A single conditional UPDATE (``uses < max_uses``) is what keeps concurrent
    registrations from ever exceeding ``max_uses``: the database serialises the row.
    """
    taken = await InvitationCode.filter(Q(code=code) & _usable()).using_db(connection).update(uses=F("uses") + 1)
    if taken == 0:
        invitation = await InvitationCode.filter(code=code).using_db(connection).first()
        raise Invalid(why_unusable(invitation) or "invitation code cannot be used", field="invitationCode")
