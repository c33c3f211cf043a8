"""Password hashing (argon2id) and access tokens (HS256 JWT)."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mochung.domain.errors import Unauthenticated

ALGORITHM = "HS256"


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2id with the library's recommended cost (stateless, built on first use)."""
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time."""
    return _hasher().hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    email: str
    issued_at: int
    expires_at: int


def issue_token(user_id: uuid.UUID, email: str, key: str, lifetime_seconds: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user_id), "email": email, "iat": issued, "exp": issued + lifetime_seconds}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(token: str, key: str) -> TokenClaims:
    """Decode and check a token; only HS256 with our key is accepted (never ``alg: none``)."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]})
        return TokenClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            email=str(claims.get("email", "")),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthenticated("token expired") from error
    except (jwt.InvalidTokenError, ValueError) as error:
        raise Unauthenticated("invalid token") from error
