"""Admin: accounts (search, deactivate/reactivate, grant/revoke admin) and the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import ConfigDict, Field, StrictBool

from mochung.domain import audit, users
from mochung.domain.listing import Slice
from mochung.domain.models import AuditEntry, User
from mochung.server import keys
from mochung.server.admin.kit import AdminRoutes, admin_endpoint, mapped
from mochung.server.http.listing import SliceQuery
from mochung.server.http.replies import filled
from mochung.server.http.wire import UtcDatetime, WireModel, respond

routes = AdminRoutes()


class AdminUser(WireModel):
    id: uuid.UUID
    email: str
    name: str | None
    is_admin: bool
    is_active: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class UsersQuery(SliceQuery):
    q: str | None = Field(default=None, max_length=200, description="part of the email or name")
    is_admin: bool | None = None
    is_active: bool | None = None


class UserPatch(WireModel):
    """At least one of the two, as a boolean: nothing to change is 400 (``users.update``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "boolean"}}} for name in ("isActive", "isAdmin")
            ]
        }
    )

    is_active: StrictBool | None = None
    is_admin: StrictBool | None = None


class AuditEntryOut(WireModel):
    id: uuid.UUID
    admin_id: uuid.UUID | None
    admin_email: str | None = Field(description="the acting admin's email, null once deleted")
    action: str
    target: str
    details: dict[str, Any]
    created_at: UtcDatetime


class AuditQuery(SliceQuery):
    action: str | None = Field(default=None, max_length=100, description="e.g. page.hide, user.update")
    admin_id: uuid.UUID | None = None
    target: str | None = Field(default=None, max_length=200, description="e.g. page:<id>, user:<id>")


def user_out(user: User) -> AdminUser:
    return AdminUser.model_validate(user)


def audit_out(entry: AuditEntry) -> AuditEntryOut:
    admin = entry.admin
    return filled(
        AuditEntryOut, entry, admin_email=admin.email if admin is not None else None, details=entry.details or {}
    )


@routes.listing("/api/admin/users", UsersQuery, AdminUser, summary="Search accounts (email or name), newest first")
async def list_users(request: web.Request, query: UsersQuery) -> Slice[AdminUser]:
    found = await users.list_users(
        query.q, query.limit, query.cursor, is_admin=query.is_admin, is_active=query.is_active
    )
    return mapped(found, user_out)


@routes.patch("/api/admin/users/{id}")
@admin_endpoint(
    summary="Deactivate/reactivate an account, grant/revoke admin (never your own)",
    body=UserPatch,
    response=AdminUser,
    errors=(400, 404),
)
async def update_user(request: web.Request, caller: User, path_id: uuid.UUID, body: UserPatch) -> web.Response:
    user = await users.update_user(caller, path_id, body.is_active, body.is_admin)
    await request.app[keys.ACCOUNT_CHANGED](user.id)  # open sockets see it at once
    return respond(user_out(user))


@routes.listing("/api/admin/audit", AuditQuery, AuditEntryOut, summary="The audit log of admin actions, newest first")
async def list_audit(request: web.Request, query: AuditQuery) -> Slice[AuditEntryOut]:
    found = await audit.list_audit(query.action, query.admin_id, query.limit, query.cursor, target=query.target)
    return mapped(found, audit_out)
