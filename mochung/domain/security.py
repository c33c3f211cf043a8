"""Password hashing (argon2id) and access tokens (HS256 JWT).

An argon2 hash or check costs ~100+ ms of CPU: on an event loop, ten logins at once
would stall every request and socket of the process for a second. So the async
functions (:func:`hash_password_off_loop`, :func:`verify_password_off_loop`) run them in
one bounded thread pool per process (argon2 releases the GIL, so they use other cores);
:func:`configure_hashing` sizes it (``MOCHUNG_PASSWORD_HASH_THREADS``). Extra calls wait
in the pool's queue, never on the loop.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mochung.domain.errors import Unauthenticated

ALGORITHM = "HS256"
DEFAULT_HASH_THREADS = 2


class _HashPool:
    """The process's pool for argon2 work: made on first use, resized by configure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads = DEFAULT_HASH_THREADS
        self._executor: ThreadPoolExecutor | None = None

    def configure(self, threads: int) -> None:
        with self._lock:
            if threads == self._threads:
                return
            old, self._threads, self._executor = self._executor, threads, None
        if old is not None:
            old.shutdown(wait=False)  # calls already queued there still run

    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="mochung-hash")
            return self._executor


_POOL = _HashPool()


def configure_hashing(threads: int) -> None:
    """Run argon2 in ``threads`` threads (the composition root calls this from settings)."""
    _POOL.configure(threads)


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


async def hash_password_off_loop(password: str) -> str:
    """:func:`hash_password` in the hashing pool, leaving the event loop free."""
    return await asyncio.get_running_loop().run_in_executor(_POOL.executor(), hash_password, password)


@functools.cache
def _light_hasher() -> PasswordHasher:
    """argon2id at OWASP's minimum (19 MiB, 2 passes): for guest secrets that guard little
    (deleting one's own guestbook note), written in bursts when a link is shared."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_guest_secret(secret: str) -> str:
    return _light_hasher().hash(secret)


async def hash_guest_secret_off_loop(secret: str) -> str:
    """:func:`hash_guest_secret` in the hashing pool; checked with :func:`verify_password_off_loop`
    (an argon2 hash carries its own parameters)."""
    return await asyncio.get_running_loop().run_in_executor(_POOL.executor(), hash_guest_secret, secret)


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """:func:`verify_password` in the hashing pool, leaving the event loop free."""
    return await asyncio.get_running_loop().run_in_executor(_POOL.executor(), verify_password, password_hash, password)


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
