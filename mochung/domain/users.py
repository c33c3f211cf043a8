"""Accounts: registration, login, and who a token belongs to."""

from __future__ import annotations

import re
import uuid

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mochung.domain import security
from mochung.domain.errors import Conflict, Invalid, Unauthenticated
from mochung.domain.invitations import consume_invitation
from mochung.domain.models import User

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
BAD_CREDENTIALS = "Invalid email or password"


def normalise_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise Invalid("must be a valid email address", field="email")
    return email


async def register(
    email: str,
    password: str,
    name: str | None = None,
    *,
    invitation_code: str | None = None,
    require_invitation: bool = False,
    is_admin: bool = False,
) -> User:
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if require_invitation and not invitation_code:
        raise Invalid("an invitation code is required to register", field="invitationCode")
    if await User.exists(email_key=email.lower()):
        raise Conflict("Email already registered")
    password_hash = security.hash_password(password)
    try:
        async with in_transaction() as connection:
            if require_invitation and invitation_code:
                await consume_invitation(invitation_code, connection)
            return await User.create(
                email=email,
                email_key=email.lower(),
                password_hash=password_hash,
                name=name,
                is_admin=is_admin,
                using_db=connection,
            )
    except IntegrityError as error:  # a concurrent registration of the same email won
        raise Conflict("Email already registered") from error


async def authenticate(email: str, password: str) -> User:
    """The active user with these credentials; one message for every failure."""
    user = await User.get_or_none(email_key=email.strip().lower())
    if not security.verify_password(user.password_hash if user else None, password):
        raise Unauthenticated(BAD_CREDENTIALS)
    assert user is not None
    if not user.is_active:
        raise Unauthenticated(BAD_CREDENTIALS)
    return user


async def user_for_token(token: str, key: str) -> User:
    claims = security.read_token(token, key)
    user = await User.get_or_none(id=claims.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("invalid token")
    return user


async def still_active(user_id: uuid.UUID) -> bool:
    """Whether the account may still act (checked on long-lived connections, per event)."""
    return await User.filter(id=user_id, is_active=True).exists()


async def create_admin(email: str, password: str, name: str | None = None) -> tuple[User, bool]:
    """Create an admin, or promote the existing account; returns (user, created)."""
    existing = await User.get_or_none(email_key=normalise_email(email).lower())
    if existing is not None:
        existing.is_admin = True
        existing.is_active = True
        existing.password_hash = security.hash_password(password)
        await existing.save(update_fields=["is_admin", "is_active", "password_hash", "updated_at"])
        return existing, False
    return await register(email, password, name, is_admin=True), True


async def get_user(user_id: uuid.UUID) -> User | None:
    return await User.get_or_none(id=user_id)
