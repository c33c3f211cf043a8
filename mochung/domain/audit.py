"""The audit log every state-changing admin action writes to, and reading it back."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from mochung.domain.listing import Slice, paginate, where
from mochung.domain.models import (
    AuditEntry,
)


async def record(
    admin_id: uuid.UUID | None,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> AuditEntry:
    return await AuditEntry.create(
        admin_id=admin_id, action=action, target=target, details=details or {}, using_db=connection
    )


async def record_evaluation_run(
    admin_id: uuid.UUID | None,
    dataset: str,
    run_id: str,
    trigger: str = "run",
    connection: BaseDBAsyncClient | None = None,
) -> AuditEntry:
    """An admin started an evaluation run (``trigger``: the run route, or the results route
    of a dataset never run); written in the transaction that creates the run."""
    details = {"runId": run_id} if trigger == "run" else {"runId": run_id, "trigger": trigger}
    return await record(admin_id, "evaluation.run", f"dataset:{dataset}", details, connection)


async def list_audit(
    action: str | None, admin_id: uuid.UUID | None, limit: int, cursor: str | None, *, target: str | None = None
) -> Slice[AuditEntry]:
    query = AuditEntry.all().select_related("admin")
    query = where(query, target=target or None, action=action or None, admin_id=admin_id)
    return await paginate(query, limit=limit, cursor=cursor)
