"""The foreign-key constraints of answers and label events on their dataset and task are dropped on PostgreSQL (the
models say why). On SQLite the tables keep them: dropping one there rebuilds the table, and the rebuilt label event
table would lose the append-only trigger of 0002."""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, the table the column refers to)
FOREIGN_KEYS = [
    ("labeling_annotation", "dataset_id", "datasets_dataset"),
    ("labeling_annotation", "task_id", "labeling_task"),
    ("labeling_labelevent", "dataset_id", "datasets_dataset"),
    ("labeling_labelevent", "task_id", "labeling_task"),
]


def _constraints(schema_editor, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [name for name, info in found.items() if info["foreign_key"] and info["columns"] == [column]]


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, _ in FOREIGN_KEYS:
        for name in _constraints(schema_editor, table, column):
            schema_editor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


def restore(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, target in FOREIGN_KEYS:
        if not _constraints(schema_editor, table, column):
            schema_editor.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_{column}_fk" FOREIGN KEY ("{column}") '
                f'REFERENCES "{target}" ("id") DEFERRABLE INITIALLY DEFERRED'
            )


class Migration(migrations.Migration):

    dependencies = [
        ('datasets', '0017_query_dataset_no_own_index'),
        ('labeling', '0022_pair_conflict_check_answers_seen'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                migrations.AlterField(
                    model_name='annotation',
                    name='dataset',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='datasets.dataset'),
                ),
                migrations.AlterField(
                    model_name='annotation',
                    name='task',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='annotations', to='labeling.task'),
                ),
                migrations.AlterField(
                    model_name='labelevent',
                    name='dataset',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='datasets.dataset'),
                ),
                migrations.AlterField(
                    model_name='labelevent',
                    name='task',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='labeling.task'),
                ),
            ],
        ),
    ]
