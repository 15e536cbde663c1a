"""A labeled import finds each label's task by index probes whatever the statistics say: they describe the tables as
the import's first batch found them, and a plan made from them scanned the whole dataset once per batch."""

import pytest
from django.db import connection

from datasets.importers import ProductRow
from labeling.imports import _LABELED_TASKS, _stage, product_labels_write
from labeling.kinds.categorization.tasks import product_tasks_upsert
from labeling.models import Annotation
from tests.factories import DatasetFactory, LabelFactory

pytestmark = pytest.mark.postgres

PRODUCTS = 3000


def _plan(dataset, labels: dict[str, int]) -> list[str]:
    with connection.cursor() as cursor:
        _stage(cursor, "import_label_stage", "external_id text, answer_id bigint", labels)
        cursor.execute("DROP TABLE IF EXISTS pg_temp.import_answer_stage")
        cursor.execute("EXPLAIN " + _LABELED_TASKS, {"dataset": dataset.pk})
        return [row[0] for row in cursor.fetchall()]


def test_labels_find_their_tasks_by_index_when_the_statistics_predate_the_products(postgres):
    dataset = DatasetFactory()
    label = LabelFactory(dataset=dataset)
    with connection.cursor() as cursor:  # the statistics of an import's start: no products in the dataset
        cursor.execute("ANALYZE datasets_product")
        cursor.execute("ANALYZE labeling_task")
    rows = [ProductRow(line, f"P{line}", f"Product {line}") for line in range(PRODUCTS)]
    assert product_tasks_upsert(dataset=dataset, rows=rows) == PRODUCTS
    labels = {f"P{line}": label.pk for line in range(0, PRODUCTS, 3)}

    plan = "\n".join(_plan(dataset, labels))

    # The products are found by both columns of (dataset, external id), never by the dataset alone with the ids
    # as a filter over its rows; the tasks by their product.
    assert f"Index Cond: ((dataset_id = {dataset.pk}) AND ((external_id)::text = s.external_id))" in plan, plan
    assert "Index Cond: (product_id = p.id)" in plan, plan
    assert "Seq Scan on datasets_product" not in plan and "Seq Scan on labeling_task" not in plan, plan
    assert product_labels_write(dataset=dataset, labels=labels, source_name="import") == len(labels)
    assert Annotation.objects.filter(dataset=dataset, user=None, label=label).count() == len(labels)
