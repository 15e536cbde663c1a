"""Lookups by a dataset's keys probe their indexes whatever the statistics say. Statistics may predate the dataset's
rows (taken at an import's first batch, or before the dataset was made): planned from them, a lookup read every row
of the dataset and tested it against the whole list of keys, once per batch."""

import numpy as np
import pytest
from django.db import connection

from datasets.importers import ProductRow
from datasets.models import Query
from datasets.selectors import _IDS_BY_EXTERNAL_ID, product_ids, query_ids
from labeling.imports import _LABELED_TASKS, _stage, product_labels_write
from labeling.kinds.categorization.tasks import product_tasks_upsert
from labeling.kinds.matching.tasks import _PRODUCTS_OF_DATASET, _check_products
from labeling.models import Annotation
from tests.factories import DatasetFactory, LabelFactory

pytestmark = pytest.mark.postgres

PRODUCTS = 3000


def _explain(statement: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + statement, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def grown(postgres):
    """A dataset of PRODUCTS products (with their tasks) that the statistics, taken before them, say is empty."""
    dataset = DatasetFactory()
    with connection.cursor() as cursor:
        for table in ("datasets_product", "datasets_query", "labeling_task"):
            cursor.execute(f"ANALYZE {table}")
    rows = [ProductRow(line, f"P{line}", f"Product {line}") for line in range(PRODUCTS)]
    assert product_tasks_upsert(dataset=dataset, rows=rows) == PRODUCTS
    return dataset


def test_labels_find_their_tasks_by_both_columns_of_the_product_key(grown):
    label = LabelFactory(dataset=grown)
    labels = {f"P{line}": label.pk for line in range(0, PRODUCTS, 3)}
    with connection.cursor() as cursor:
        _stage(cursor, "import_label_stage", "external_id text, answer_id bigint", labels)
        cursor.execute("DROP TABLE IF EXISTS pg_temp.import_answer_stage")

    plan = _explain(_LABELED_TASKS, {"dataset": grown.pk})

    # Never the dataset alone as the index condition with the ids as a filter over its rows.
    assert f"Index Cond: ((dataset_id = {grown.pk}) AND ((external_id)::text = s.external_id))" in plan, plan
    assert "Index Cond: (product_id = p.id)" in plan, plan
    assert "Seq Scan on datasets_product" not in plan and "Seq Scan on labeling_task" not in plan, plan
    assert product_labels_write(dataset=grown, labels=labels, source_name="import") == len(labels)
    assert Annotation.objects.filter(dataset=grown, user=None, label=label).count() == len(labels)


@pytest.mark.parametrize(("table", "lookup"), [("datasets_product", product_ids), ("datasets_query", query_ids)])
def test_ids_by_external_id_probe_both_columns_of_the_key(grown, table, lookup):
    Query.objects.bulk_create(Query(dataset=grown, external_id=f"P{n}", text=f"query {n}") for n in range(PRODUCTS))
    wanted = [f"P{line}" for line in range(0, PRODUCTS, 2)] + ["nowhere"]

    plan = _explain(_IDS_BY_EXTERNAL_ID.format(table=table), {"external_ids": wanted, "dataset": grown.pk})

    assert f"Index Cond: ((dataset_id = {grown.pk}) AND ((external_id)::text = e.external_id))" in plan, plan
    found = lookup(dataset=grown, external_ids=wanted)
    assert sorted(found) == sorted(wanted[:-1])
    assert lookup(dataset=grown, external_ids=[]) == {}


def test_a_pair_s_products_are_checked_by_the_primary_key(grown):
    ids = np.array(sorted(product_ids(dataset=grown, external_ids=[f"P{n}" for n in range(0, PRODUCTS, 2)]).values()))

    plan = _explain(_PRODUCTS_OF_DATASET, [ids.tolist(), grown.pk])

    # By the key (or a scan, in a table this small), never through the dataset's rows of the external-id index.
    assert "product_unique_external_id" not in plan, plan
    _check_products(dataset=grown, ids=ids)  # all the dataset's: no error
