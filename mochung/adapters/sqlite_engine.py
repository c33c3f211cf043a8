"""The SQLite engine mochung uses: Tortoise's own, with write-first transactions.

In embedded mode the web process and the in-process worker hold two connections to one
SQLite file. Tortoise opens transactions with a deferred ``BEGIN``; under WAL a
transaction that read first and then tries to write fails at once with "database is
locked" when the other connection wrote in between, and no busy timeout can help.
``BEGIN IMMEDIATE`` takes the write lock up front, so a transaction waits its turn
(up to ``busy_timeout``) instead of failing.

A module of its own, named for SQLite: Tortoise picks the migrations' schema editor by
the client class's module name, and :mod:`.database` names this module as the engine.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError

BUSY_TIMEOUT_MS = 10_000


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("busy_timeout", BUSY_TIMEOUT_MS)
        super().__init__(file_path, **kwargs)

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
