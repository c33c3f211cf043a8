"""Admin: accounts (search, deactivate/reactivate, grant/revoke admin) and the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import ConfigDict, Field, StrictBool

from mochung.domain import audit, users
from mochung.domain.models import AuditEntry, User
from mochung.server.http.listing import Paginated, SliceQuery, respond_slice
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
TAG = "admin"


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


@routes.get("/api/admin/users")
@endpoint(
    summary="Search accounts (email or name), newest first",
    tag=TAG,
    auth="admin",
    query=UsersQuery,
    response=Paginated[AdminUser],
    errors=(400,),
)
async def list_users(request: web.Request, query: UsersQuery) -> web.Response:
    found = await users.list_users(
        query.q, query.limit, query.cursor, is_admin=query.is_admin, is_active=query.is_active
    )
    return respond_slice(found, Paginated[AdminUser], user_out)


@routes.patch("/api/admin/users/{id}")
@endpoint(
    summary="Deactivate/reactivate an account, grant/revoke admin (never your own)",
    tag=TAG,
    auth="admin",
    body=UserPatch,
    response=AdminUser,
    errors=(400, 404),
)
async def update_user(request: web.Request, caller: User, path_id: uuid.UUID, body: UserPatch) -> web.Response:
    user = await users.update_user(caller, path_id, body.is_active, body.is_admin)
    return respond(user_out(user))


@routes.get("/api/admin/audit")
@endpoint(
    summary="The audit log of admin actions, newest first",
    tag=TAG,
    auth="admin",
    query=AuditQuery,
    response=Paginated[AuditEntryOut],
    errors=(400,),
)
async def list_audit(request: web.Request, query: AuditQuery) -> web.Response:
    found = await audit.list_audit(query.action, query.admin_id, query.limit, query.cursor, target=query.target)
    return respond_slice(found, Paginated[AuditEntryOut], audit_out)


def audit_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        admin_id=entry.admin_id,
        admin_email=entry.admin.email if entry.admin is not None else None,
        action=entry.action,
        target=entry.target,
        details=entry.details or {},
        created_at=entry.created_at,
    )
