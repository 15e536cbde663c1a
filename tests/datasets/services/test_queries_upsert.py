import pytest
from django.db import IntegrityError

from datasets.importers.queries import QueryRow
from datasets.models import Query
from datasets.services.queries import queries_upsert
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def test_new_queries_are_created_and_known_ones_take_the_files_values():
    dataset, other = DatasetFactory(), DatasetFactory()
    first = [QueryRow(2, "1", "shoes"), QueryRow(3, "2", "boots", "us", 4.0)]
    assert queries_upsert(dataset=dataset, rows=first) == (2, 0)
    queries_upsert(dataset=other, rows=[QueryRow(2, "1", "hats")])  # the same id in another dataset

    again = [QueryRow(2, "2", "winter boots", "de", 2.5), QueryRow(3, "3", "hat")]
    assert queries_upsert(dataset=dataset, rows=again) == (1, 1)

    stored = {q.external_id: (q.text, q.locale, q.weight) for q in Query.objects.filter(dataset=dataset)}
    assert stored == {"1": ("shoes", "", 1.0), "2": ("winter boots", "de", 2.5), "3": ("hat", "", 1.0)}
    assert Query.objects.get(dataset=other).text == "hats"


@pytest.mark.parametrize("fields", [{"text": ""}, {"weight": 0}, {"weight": -1.5}])
def test_a_query_with_no_text_or_a_weight_not_positive_never_lands(fields):
    with pytest.raises(IntegrityError):
        Query.objects.create(**{"dataset": DatasetFactory(), "external_id": "1", "text": "shoes", **fields})
