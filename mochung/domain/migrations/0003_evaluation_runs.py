from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0002_guests")]

    initial = False

    operations = [
        ops.CreateModel(
            name="EvaluationRun",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ("dataset", fields.CharField(max_length=100)),
                ("status", fields.CharField(default="running", max_length=20)),
                ("scope", fields.CharField(default="dataset", max_length=20)),
                ("case_name", fields.CharField(null=True, max_length=200)),
                (
                    "rerun_of",
                    fields.ForeignKeyField(
                        "models.EvaluationRun",
                        source_field="rerun_of_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="reruns",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "started_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="started_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="evaluation_runs",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("lock", fields.CharField(null=True, unique=True, max_length=20)),
                ("owner", fields.CharField(null=True, max_length=200)),
                ("heartbeat_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("done", fields.IntField(default=0)),
                ("total", fields.IntField(default=0)),
                ("summary", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("category_breakdown", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("judge", fields.CharField(null=True, max_length=200)),
                ("error", fields.TextField(null=True, unique=False)),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("duration", fields.FloatField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "evaluation_runs",
                "app": "models",
                "indexes": [Index(fields=["dataset", "created_at"]), Index(fields=["created_at"])],
                "pk_attr": "id",
                "table_description": "One run of an evaluation dataset (or a rerun of one case), started by an admin.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EvaluationCaseResult",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "run",
                    fields.ForeignKeyField(
                        "models.EvaluationRun",
                        source_field="run_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="cases",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                ("name", fields.CharField(max_length=200)),
                ("category", fields.CharField(max_length=100)),
                ("success", fields.BooleanField()),
                ("execution_time", fields.FloatField()),
                ("result", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "evaluation_case_results",
                "app": "models",
                "unique_together": (("run_id", "position"),),
                "pk_attr": "id",
                "table_description": "One case of a run: its verdict, and the whole ``test_results`` entry (evaluations,",
            },
            bases=["Model"],
        ),
    ]
