"""Accounts: registration, login, who a token belongs to, and what admins do to accounts
(list, deactivate, grant or revoke admin), audited in the same transaction.

:class:`AccountCache` keeps the active accounts one web process's sockets check on every
event; the web process forgets an account whose rights it changed, and in distributed mode
tells the other web processes over the bus (``mochung.server.chat``).
"""

from __future__ import annotations

import re
import time
import uuid

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from mochung.aio import Coalesced
from mochung.domain import audit, security
from mochung.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from mochung.domain.invitations import consume_invitation
from mochung.domain.listing import Slice, paginate
from mochung.domain.models import (
    User,
)

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
    password_hash = await security.hash_password_off_loop(password)
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
    if not await security.verify_password_off_loop(user.password_hash if user else None, password):
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


async def active_user(user_id: uuid.UUID) -> User | None:
    """The account as it is now, if it may still act (long-lived connections re-read it
    on each event, so a deactivation or a demotion takes effect at once)."""
    return await User.get_or_none(id=user_id, is_active=True)


async def accounts(user_ids: set[uuid.UUID]) -> dict[uuid.UUID, User]:
    """These accounts as they are now (missing: deleted)."""
    return {user.id: user for user in await User.filter(id__in=list(user_ids))} if user_ids else {}


# The per-process cache of active accounts ---------------------------------------------


async def _active_users(user_ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
    return {user.id: user for user in await User.filter(id__in=user_ids, is_active=True)}


TOKENS_KEPT = 10_000  # verified tokens an AccountCache remembers (all forgotten when full)


class AccountCache:
    """Active accounts by id, for the long-lived sockets of one web process: the token is
    checked at connect and the account on every event without a query while the account
    is cached.

    An entry is dropped by :meth:`forget` — the process's own changes (the admin route)
    and, in distributed mode, the other processes' (the bus) — and is read again at most
    ``ttl`` seconds after it was read (a change made outside these paths: a script, the
    database by hand). While invalidations could be missed (distributed mode, bus not
    subscribed: ``trusted`` False) nothing is cached: every look-up is a query. A read that
    overlaps a ``forget`` is not kept (it may predate the change).
    """

    def __init__(self, *, ttl: float = 30.0, trusted: bool = True, max_entries: int = 100_000) -> None:
        self._ttl = ttl
        self._trusted = trusted
        self._max_entries = max_entries
        self._entries: dict[uuid.UUID, tuple[float, User]] = {}
        self._forgets = 0
        self._read: Coalesced[uuid.UUID, User] = Coalesced(_active_users)
        self._tokens: dict[str, security.TokenClaims] = {}

    @property
    def trusted(self) -> bool:
        return self._trusted

    def trust(self, trusted: bool) -> None:
        """Start (True) or stop caching; either way, what is cached is forgotten."""
        self._trusted = trusted
        self.forget(None)

    def forget(self, user_id: uuid.UUID | None) -> None:
        """Drop one account (None: every account)."""
        self._forgets += 1
        if user_id is None:
            self._entries.clear()
        else:
            self._entries.pop(user_id, None)

    def cached(self, user_id: uuid.UUID) -> User | None:
        entry = self._entries.get(user_id)
        if entry is None:
            return None
        if time.monotonic() - entry[0] >= self._ttl:
            del self._entries[user_id]
            return None
        return entry[1]

    async def active(self, user_id: uuid.UUID) -> User | None:
        """The active account, cached; None when it may no longer act."""
        user = self.cached(user_id)
        return user if user is not None else await self.fresh(user_id)

    async def fresh(self, user_id: uuid.UUID) -> User | None:
        """The active account as the database has it now (and cached again)."""
        forgets, read_at = self._forgets, time.monotonic()
        user = await self._read(user_id)
        if user is None:
            self._entries.pop(user_id, None)
        elif self._trusted and forgets == self._forgets:
            if len(self._entries) >= self._max_entries:
                self._drop_expired(read_at)
            self._entries[user_id] = (read_at, user)
        return user

    async def for_token(self, token: str, key: str) -> User:
        """:func:`user_for_token`, through the cache (a token already verified is not
        verified again while it has not expired: its signature cannot have changed)."""
        claims = self._tokens.get(token)
        if claims is None or claims.expires_at <= time.time():
            claims = security.read_token(token, key)
            if len(self._tokens) >= TOKENS_KEPT:
                self._tokens.clear()
            self._tokens[token] = claims
        user = await self.active(claims.user_id)
        if user is None:
            raise Unauthenticated("invalid token")
        return user

    def _drop_expired(self, now: float) -> None:
        for user_id in [u for u, (read_at, _) in self._entries.items() if now - read_at >= self._ttl]:
            del self._entries[user_id]
        while len(self._entries) >= self._max_entries:  # all fresh: drop the oldest
            del self._entries[next(iter(self._entries))]


async def create_admin(email: str, password: str, name: str | None = None) -> tuple[User, bool]:
    """Create an admin, or promote the existing account; returns (user, created)."""
    existing = await User.get_or_none(email_key=normalise_email(email).lower())
    if existing is not None:
        existing.is_admin = True
        existing.is_active = True
        existing.password_hash = await security.hash_password_off_loop(password)
        await existing.save(update_fields=["is_admin", "is_active", "password_hash", "updated_at"])
        return existing, False
    return await register(email, password, name, is_admin=True), True


# What admins do to accounts ---------------------------------------------------------


async def list_users(
    q: str | None,
    limit: int,
    cursor: str | None,
    *,
    is_admin: bool | None = None,
    is_active: bool | None = None,
) -> Slice[User]:
    query = User.all()
    if is_admin is not None:
        query = query.filter(is_admin=is_admin)
    if is_active is not None:
        query = query.filter(is_active=is_active)
    if q and q.strip():
        needle = q.strip()
        query = query.filter(Q(email_key__icontains=needle.lower()) | Q(name__icontains=needle))
    return await paginate(query, limit=limit, cursor=cursor)


async def update_user(admin: User, user_id: uuid.UUID, is_active: bool | None, is_admin: bool | None) -> User:
    """Deactivate/reactivate, grant/revoke admin. An admin may not lock themselves out,
    which also guarantees that at least one active admin always remains."""
    if is_active is None and is_admin is None:
        raise Invalid("nothing to change: send isActive and/or isAdmin")
    if user_id == admin.id and is_admin is False:
        raise Forbidden("you cannot remove your own admin right")
    if user_id == admin.id and is_active is False:
        raise Forbidden("you cannot deactivate yourself")
    async with in_transaction() as connection:
        user = await User.filter(id=user_id).using_db(connection).select_for_update().first()
        if user is None:
            raise NotFound("user not found")
        changes: dict[str, dict[str, bool]] = {}
        for name, wanted in (("is_active", is_active), ("is_admin", is_admin)):
            if wanted is not None and getattr(user, name) != wanted:
                changes["isActive" if name == "is_active" else "isAdmin"] = {"from": getattr(user, name), "to": wanted}
                setattr(user, name, wanted)
        if changes:
            await user.save(using_db=connection, update_fields=["is_active", "is_admin", "updated_at"])
            await audit.record(admin.id, "user.update", f"user:{user.id}", {"email": user.email, **changes}, connection)
    return user
