"""The audit log every state-changing admin action writes to."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from mochung.domain.models import AuditEntry


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
