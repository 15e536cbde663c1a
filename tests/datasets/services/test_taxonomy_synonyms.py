"""Importing a taxonomy writes its synonyms; importing it again with others replaces them, without keeps them."""

import pytest

from datasets.importers import TaxonomyRow
from datasets.models import Label
from datasets.selectors import label_search_ranked
from datasets.services.taxonomy import taxonomy_upsert
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def synonyms(dataset) -> dict[str, list[str]]:
    return dict(Label.objects.filter(dataset=dataset).values_list("path", "synonyms"))


def test_imported_synonyms_are_written_replaced_and_searched():
    dataset = DatasetFactory()
    taxonomy_upsert(dataset=dataset, rows=[TaxonomyRow(1, "", ("Shoes", "Sneakers"), ("trainers",))])
    assert synonyms(dataset) == {"Shoes": [], "Shoes > Sneakers": ["trainers"]}
    assert [label.path for label in label_search_ranked(dataset=dataset, query="trainers")] == ["Shoes > Sneakers"]

    created, updated, _ = taxonomy_upsert(dataset=dataset, rows=[TaxonomyRow(1, "", ("Shoes", "Sneakers"), ("kicks",))])
    assert (created, updated) == (0, 1)
    assert [label.path for label in label_search_ranked(dataset=dataset, query="kicks")] == ["Shoes > Sneakers"]

    taxonomy_upsert(dataset=dataset, rows=[TaxonomyRow(1, "", ("Shoes", "Sneakers"))])
    assert synonyms(dataset)["Shoes > Sneakers"] == ["kicks"]
