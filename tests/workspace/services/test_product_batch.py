"""A batch of products is prepared in the parser's thread, which must not query, and written in the batch's
transaction."""

import pytest

from datasets.importers import ProductRow
from datasets.selectors import LabelResolver
from labeling.models import Annotation, Task
from tests.factories import DatasetFactory, LabelFactory
from workspace.services.products import product_batch_prepare, product_batch_write

pytestmark = pytest.mark.django_db


def test_preparing_a_batch_resolves_its_labels_without_a_query_and_rejects_the_unknown_ones(
    django_assert_num_queries,
):
    dataset = DatasetFactory()
    shoes = LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    resolver = LabelResolver(dataset)
    rows = [
        ProductRow(2, "P1", "Boot", label="Shoes"), ProductRow(3, "P2", "Hat", label="Hats"), ProductRow(4, "P3", "Cap")
    ]
    with django_assert_num_queries(0):
        batch, errors = product_batch_prepare(dataset=dataset, rows=rows, resolve_label=resolver)
    assert [(error.line, error.reason) for error in errors] == [(3, "unknown label 'Hats'")]
    assert ([row.external_id for row in batch.rows], batch.labels) == (["P1", "P3"], {"P1": shoes.pk})
    result, rejected = product_batch_write(dataset=dataset, batch=batch, label_source="import")
    assert (result.created, result.updated, result.labels, rejected) == (2, 0, 1, [])
    assert Task.objects.filter(dataset=dataset).count() == 2
    assert Annotation.objects.get(dataset=dataset).label == shoes
