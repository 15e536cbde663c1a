"""Three single-column indexes that composite indexes leading with the same column already serve.

Only the indexes are dropped, on every database: altering the fields would make SQLite rebuild the tables, and
the rebuilt label event table would lose the append-only trigger of 0002.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, the index Django named for the field)
INDEXES = [
    ("labeling_annotation", "dataset_id", "labeling_annotation_dataset_id_80b4969b"),
    ("labeling_annotation", "task_id", "labeling_annotation_task_id_3cb3ec71"),
    ("labeling_labelevent", "task_id", "labeling_labelevent_task_id_2581651f"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('datasets', '0016_product_dataset_no_own_index'),
        ('labeling', '0020_job_worker'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"', f'CREATE INDEX "{index}" ON "{table}" ("{column}")')
                for table, column, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='annotation',
                    name='dataset',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='datasets.dataset'),
                ),
                migrations.AlterField(
                    model_name='annotation',
                    name='task',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='annotations', to='labeling.task'),
                ),
                migrations.AlterField(
                    model_name='labelevent',
                    name='task',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='labeling.task'),
                ),
            ],
        ),
    ]
