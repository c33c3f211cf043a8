"""Accounts for tests that need someone signed in but do not test signing in.

The rows are made straight through the model and the token is issued with the test secret,
as the app would issue it: registration and login have their own tests, and hashing a
password (argon2, slow on purpose) for every test would dominate the suite's time.
Tests that exercise the real flow use :class:`tests.support.Api` instead.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support import TEST_SECRET

TOKEN_SECONDS = 3600


def bearer(token: str) -> dict[str, str]:
    """The headers that authenticate a REST call with ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def new_account(email: str | None = None, name: str | None = None, *, admin: bool = False) -> dict[str, Any]:
    """An account that never logs in (its password matches nothing), shaped like the
    register response: ``{"id", "email", "name"}``."""
    from mochung.domain.models import User

    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    user = await User.create(email=email, email_key=email.lower(), password_hash="!", name=name, is_admin=admin)
    return {"id": str(user.id), "email": user.email, "name": user.name}


def token_for(account: dict[str, Any]) -> str:
    """A token for ``account`` as the test app issues them (the test secret, one hour)."""
    from mochung.domain.security import issue_token

    return issue_token(uuid.UUID(account["id"]), account["email"], TEST_SECRET, TOKEN_SECONDS)


async def user_with_headers(*, admin: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """A new account and the bearer headers of a token for it (for REST calls)."""
    account = await new_account(admin=admin)
    return account, bearer(token_for(account))


async def user_with_token(*, admin: bool = False) -> tuple[str, str]:
    """A new account's id and a token for it (for Socket.IO connections)."""
    account = await new_account(admin=admin)
    return account["id"], token_for(account)
