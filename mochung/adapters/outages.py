"""Errors that mean a service the server depends on is down (the database restarting, Redis
gone), not that the request or the code is wrong: answered 503 (REST) or ``unavailable``
(Socket.IO) instead of a 500, and the client may try again."""

from __future__ import annotations

import asyncpg
from redis import exceptions as redis_errors
from tortoise.exceptions import DBConnectionError

OUTAGE_MESSAGE = "a service is unavailable; try again shortly"
_OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset (PostgreSQL restarting), Tortoise's DBConnectionError
    TimeoutError,  # waiting for a pooled connection
    DBConnectionError,
    asyncpg.exceptions.InterfaceError,  # ConnectionDoesNotExistError: the server closed it
    asyncpg.exceptions.OperatorInterventionError,  # AdminShutdown, CannotConnectNow
    asyncpg.exceptions.PostgresConnectionError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
)


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a dependency being unreachable."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, _OUTAGES) or (isinstance(seen, OSError) and seen.errno is not None):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
