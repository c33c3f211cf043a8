from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="GuestbookEntry",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "page",
                    fields.ForeignKeyField(
                        "models.Page",
                        source_field="page_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="guestbook_entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=40)),
                ("content", fields.CharField(max_length=500)),
                ("password_hash", fields.CharField(max_length=255)),
                ("is_hidden", fields.BooleanField(default=False)),
                ("hidden_reason", fields.CharField(null=True, max_length=500)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "guestbook_entries",
                "app": "models",
                "indexes": [Index(fields=["page_id", "created_at"])],
                "pk_attr": "id",
                "table_description": "A guestbook (방명록) entry: plain text, deleted by its writer with the password.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Rsvp",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "page",
                    fields.ForeignKeyField(
                        "models.Page",
                        source_field="page_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="rsvps",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("side", fields.CharField(max_length=10)),
                ("name", fields.CharField(max_length=40)),
                ("attending", fields.BooleanField()),
                ("party_size", fields.IntField(default=1)),
                ("meal", fields.CharField(null=True, max_length=10)),
                ("phone", fields.CharField(null=True, max_length=40)),
                ("message", fields.CharField(null=True, max_length=300)),
                ("edit_token_hash", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "rsvps",
                "app": "models",
                "indexes": [Index(fields=["page_id", "created_at"])],
                "pk_attr": "id",
                "table_description": "A guest's answer (참석 의사) to a page's invitation.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Page",
            name="settings",
            field=fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
