"""A pair becomes one task row: its products move from TaskItem rows to `product` / `other_product` (id order)
with `swapped` for the roles, and the item table, the item key and the per-kind unique constraints go."""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models

_FILL_POSTGRESQL = """
UPDATE labeling_task AS t
SET product_id = LEAST(l.product_id, r.product_id),
    other_product_id = GREATEST(l.product_id, r.product_id),
    swapped = l.product_id > r.product_id
FROM labeling_taskitem AS l, labeling_taskitem AS r
WHERE l.task_id = t.id AND l.role = 'left' AND r.task_id = t.id AND r.role = 'right' AND t.product_id IS NULL
"""


def pairs_to_columns(apps, schema_editor) -> None:
    Task = apps.get_model("labeling", "Task")
    TaskItem = apps.get_model("labeling", "TaskItem")
    if schema_editor.connection.vendor == "postgresql":
        # Checked now, not at commit: the ALTER TABLEs that follow in this transaction refuse pending checks.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(_FILL_POSTGRESQL)
    else:
        sides: dict[int, dict[str, int]] = {}
        for task_id, role, product_id in TaskItem.objects.values_list("task_id", "role", "product_id").iterator():
            sides.setdefault(task_id, {})[role] = product_id
        changed = []
        for task in Task.objects.filter(product=None).only("pk").iterator():
            left, right = sides.get(task.pk, {}).get("left"), sides.get(task.pk, {}).get("right")
            if left is None or right is None:
                continue
            task.product_id, task.other_product_id, task.swapped = min(left, right), max(left, right), left > right
            changed.append(task)
        Task.objects.bulk_update(changed, ["product", "other_product", "swapped"], batch_size=2000)
    # A pair that lost a side (its product deleted) was left out everywhere; it goes, with its answers.
    Task.objects.filter(product=None).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0008_dataset_kind_matching"),
        ("labeling", "0013_task_item_no_db_constraints"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="task", name="task_unique_product"),
        migrations.RemoveConstraint(model_name="task", name="task_unique_items"),
        migrations.RemoveConstraint(model_name="task", name="task_product_or_items"),
        migrations.RemoveIndex(model_name="task", name="task_product"),
        migrations.AddField(
            model_name="task",
            name="other_product",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="A pair's second product, the higher id; null for a single-product task.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="datasets.product",
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="swapped",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="A pair's first role (left) is `other_product`: it came with the higher id first.",
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="product",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="datasets.product",
            ),
        ),
        migrations.RunPython(pairs_to_columns, migrations.RunPython.noop),
        migrations.RemoveField(model_name="task", name="item_key"),
        migrations.DeleteModel(name="TaskItem"),
        migrations.AlterField(
            model_name="task",
            name="product",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="datasets.product",
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="attributes",
            field=models.JSONField(
                blank=True, help_text="What an imported pair brings besides its products (a split).", null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.UniqueConstraint(
                models.F("product"),
                django.db.models.functions.comparison.Coalesce(models.F("other_product"), models.Value(0)),
                name="task_unique_products",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("other_product", None), ("swapped", False)),
                    models.Q(("other_product__gt", models.F("product")), ("other_product__isnull", False)),
                    _connector="OR",
                ),
                name="task_pair_in_id_order",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("other_product__isnull", False)),
                fields=["other_product"],
                name="task_other_product",
            ),
        ),
    ]
