"""Tortoise models: every entity of PROTOCOL.md, snake_case, UUID keys.

Schema changes go through the committed migrations in ``mochung/domain/migrations``:
after editing a model, run ``scripts/makemigrations NAME`` and commit the new file.

Each foreign key's column (``user_id`` beside ``user``) is declared as a bare annotation:
Tortoise sets it on every instance, and the annotation lets mypy see it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    READY = "ready"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class Entity(Model):
    """What every table has: a UUID key, and when the row was created.

    Tortoise lists an abstract base's fields before the model's own; the tables' column
    order is the migrations', where ``created_at`` and ``updated_at`` come last.
    """

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True


class EditedEntity(Entity):
    """An entity that also keeps when it was last saved."""

    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


def _owned_by(to: str, related_name: str) -> fields.ForeignKeyRelation[Any]:
    """A foreign key to the row this one belongs to: it is deleted with that row."""
    return fields.ForeignKeyField(to, related_name=related_name, on_delete=fields.CASCADE)


def _refers_to(to: str, related_name: str) -> fields.ForeignKeyNullableRelation[Any]:
    """An optional foreign key: it becomes NULL when the row it names is deleted."""
    return fields.ForeignKeyField(to, related_name=related_name, null=True, on_delete=fields.SET_NULL)


class User(EditedEntity):
    email = fields.CharField(max_length=254)
    # lower-cased email: the unique key, so "A@x.kr" and "a@x.kr" are one account
    email_key = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    name = fields.CharField(max_length=100, null=True)
    is_admin = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "users"


class Page(EditedEntity):
    user: fields.ForeignKeyRelation[User] = _owned_by("models.User", "pages")
    user_id: uuid.UUID
    title = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=64, unique=True)
    component_data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    # the guest features: {"rsvp": {...}, "guestbook": {...}} (see domain/guests.py)
    settings: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    markdown_path = fields.CharField(max_length=300, null=True)
    is_published = fields.BooleanField(default=True)
    is_hidden = fields.BooleanField(default=False)
    hidden_reason = fields.CharField(max_length=500, null=True)
    plan = fields.CharField(max_length=50, null=True)
    version = fields.IntField(default=1)
    view_count = fields.IntField(default=0)

    class Meta:
        table = "pages"
        indexes = (Index(fields=("user_id", "created_at")),)


class PageView(Entity):
    """One row per page, visitor and day: how views are counted once a day."""

    page: fields.ForeignKeyRelation[Page] = _owned_by("models.Page", "views")
    page_id: uuid.UUID
    visitor_id = fields.CharField(max_length=64)
    day = fields.DateField()

    class Meta:
        table = "page_views"
        unique_together = (("page_id", "visitor_id", "day"),)


class ChatSession(Entity):
    user: fields.ForeignKeyRelation[User] = _owned_by("models.User", "chat_sessions")
    user_id: uuid.UUID
    room = fields.CharField(max_length=200, unique=True)
    page: fields.ForeignKeyNullableRelation[Page] = _refers_to("models.Page", "chat_sessions")
    page_id: uuid.UUID | None
    last_activity_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chat_sessions"
        indexes = (Index(fields=("user_id", "last_activity_at")),)


class ChatMessage(Entity):
    """A stored chat message. ``message_id`` is the turn it belongs to: the user's message
    carries its own id there, and each answer carries the id of the message it answers,
    with ``position`` numbering the answers so a retried turn cannot store one twice."""

    session: fields.ForeignKeyRelation[ChatSession] = _owned_by("models.ChatSession", "messages")
    session_id: uuid.UUID
    message_id = fields.UUIDField()
    role = fields.CharField(max_length=20)  # user | assistant
    type = fields.CharField(max_length=20, default="text")  # text | component
    position = fields.IntField(default=0)
    content = fields.TextField(null=True)
    component: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    is_hidden = fields.BooleanField(default=False)
    hidden_reason = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "chat_messages"
        unique_together = (("message_id", "role", "position"),)
        indexes = (Index(fields=("session_id", "created_at")),)


class AgentRun(Entity):
    message_id = fields.UUIDField(unique=True)
    session: fields.ForeignKeyRelation[ChatSession] = _owned_by("models.ChatSession", "runs")
    session_id: uuid.UUID
    status = fields.CharEnumField(RunStatus, default=RunStatus.QUEUED, max_length=20)
    attempts = fields.IntField(default=0)
    cancel_requested = fields.BooleanField(default=False)
    trajectory: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    timings: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    error = fields.TextField(null=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "agent_runs"
        indexes = (Index(fields=("status",)),)


class StoredFile(Entity):
    user: fields.ForeignKeyRelation[User] = _owned_by("models.User", "files")
    user_id: uuid.UUID
    key = fields.CharField(max_length=300, unique=True)
    filename = fields.CharField(max_length=255)
    mime_type = fields.CharField(max_length=100)
    size = fields.BigIntField()

    class Meta:
        table = "files"
        indexes = (Index(fields=("user_id", "created_at")),)


class Payment(EditedEntity):
    user: fields.ForeignKeyRelation[User] = _owned_by("models.User", "payments")
    user_id: uuid.UUID
    page: fields.ForeignKeyNullableRelation[Page] = _refers_to("models.Page", "payments")
    page_id: uuid.UUID | None
    plan_id = fields.CharField(max_length=50)
    merchant_uid = fields.CharField(max_length=100, unique=True)
    amount = fields.IntField()
    currency = fields.CharField(max_length=10, default="KRW")
    customer_name = fields.CharField(max_length=100)
    status = fields.CharEnumField(PaymentStatus, default=PaymentStatus.READY, max_length=20)
    provider_payment_id = fields.CharField(max_length=200, null=True)  # impUid (V1) / paymentId (V2)
    failure_reason = fields.CharField(max_length=100, null=True)
    flagged = fields.BooleanField(default=False)
    review_decision = fields.CharField(max_length=20, null=True)
    review_note = fields.TextField(null=True)
    refunded_amount = fields.IntField(default=0)
    provider_record: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    paid_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payments"
        indexes = (Index(fields=("user_id", "created_at")), Index(fields=("status", "flagged")))


class InvitationCode(Entity):
    code = fields.CharField(max_length=64, unique=True)
    max_uses = fields.IntField()
    uses = fields.IntField(default=0)
    expires_at = fields.DatetimeField(null=True)
    is_active = fields.BooleanField(default=True)
    created_by: fields.ForeignKeyNullableRelation[User] = _refers_to("models.User", "invitation_codes")
    created_by_id: uuid.UUID | None

    class Meta:
        table = "invitation_codes"


class AuditEntry(Entity):
    admin: fields.ForeignKeyNullableRelation[User] = _refers_to("models.User", "audit_entries")
    admin_id: uuid.UUID | None
    action = fields.CharField(max_length=100)
    target = fields.CharField(max_length=200)
    details: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entries"
        indexes = (Index(fields=("created_at",)),)


class Rsvp(EditedEntity):
    """A guest's answer (참석 의사) to a page's invitation.

    The guest changes it with the edit token they got on creation; only its SHA-256 is stored.
    """

    page: fields.ForeignKeyRelation[Page] = _owned_by("models.Page", "rsvps")
    page_id: uuid.UUID
    side = fields.CharField(max_length=10)  # groom | bride
    name = fields.CharField(max_length=40)
    attending = fields.BooleanField()
    party_size = fields.IntField(default=1)
    meal = fields.CharField(max_length=10, null=True)  # yes | no | undecided
    phone = fields.CharField(max_length=40, null=True)
    message = fields.CharField(max_length=300, null=True)
    edit_token_hash = fields.CharField(max_length=64)

    class Meta:
        table = "rsvps"
        indexes = (Index(fields=("page_id", "created_at")),)


class GuestbookEntry(Entity):
    """A guestbook (방명록) entry: plain text, deleted by its writer with the password."""

    page: fields.ForeignKeyRelation[Page] = _owned_by("models.Page", "guestbook_entries")
    page_id: uuid.UUID
    name = fields.CharField(max_length=40)
    content = fields.CharField(max_length=500)
    password_hash = fields.CharField(max_length=255)
    is_hidden = fields.BooleanField(default=False)
    hidden_reason = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "guestbook_entries"
        indexes = (Index(fields=("page_id", "created_at")),)


class EvaluationRun(Entity):
    """One run of an evaluation dataset (or a rerun of one case), started by an admin.

    ``lock`` is the one-dataset-at-a-time lock every web process shares: a dataset run
    holds ``"evaluation"`` there while it runs (a unique column, so a second holder cannot
    be inserted) and gives it back (``NULL``) when it ends. ``heartbeat_at`` is refreshed
    while it runs, so a run whose process died is noticed and released.
    """

    dataset = fields.CharField(max_length=100)
    status = fields.CharField(max_length=20, default="running")  # running | done | failed | cancelled
    scope = fields.CharField(max_length=20, default="dataset")  # dataset | case (a rerun)
    case_name = fields.CharField(max_length=200, null=True)  # the case a rerun ran
    rerun_of: fields.ForeignKeyNullableRelation[EvaluationRun] = _refers_to("models.EvaluationRun", "reruns")
    rerun_of_id: uuid.UUID | None
    started_by: fields.ForeignKeyNullableRelation[User] = _refers_to("models.User", "evaluation_runs")
    started_by_id: uuid.UUID | None
    lock = fields.CharField(max_length=20, null=True, unique=True)
    owner = fields.CharField(max_length=200, null=True)  # the process running it
    heartbeat_at = fields.DatetimeField(null=True)
    done = fields.IntField(default=0)
    total = fields.IntField(default=0)
    summary: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    category_breakdown: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    judge = fields.CharField(max_length=200, null=True)  # the judge's model, when one judged
    error = fields.TextField(null=True)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    duration = fields.FloatField(null=True)  # seconds

    class Meta:
        table = "evaluation_runs"
        indexes = (Index(fields=("dataset", "created_at")), Index(fields=("created_at",)))


class EvaluationCaseResult(Entity):
    """One case of a run: its verdict, and the whole ``test_results`` entry (evaluations,
    answer, trajectory) as the runner reported it."""

    run: fields.ForeignKeyRelation[EvaluationRun] = _owned_by("models.EvaluationRun", "cases")
    run_id: uuid.UUID
    position = fields.IntField()
    name = fields.CharField(max_length=200)
    category = fields.CharField(max_length=100)
    success = fields.BooleanField()
    execution_time = fields.FloatField()
    result: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "evaluation_case_results"
        unique_together = (("run_id", "position"),)
