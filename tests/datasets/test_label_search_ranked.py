"""The annotators' label search: typos, word order and synonyms forgiven; names before paths; used labels first."""

import pytest

from datasets.importers import TaxonomyRow
from datasets.label_cache import label_index
from datasets.models import Label
from datasets.selectors import label_search_ranked
from datasets.services.label_synonyms import label_synonyms_set
from datasets.services.taxonomy import taxonomy_upsert
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db

PATHS = [
    "Apparel > Shoes > Sneakers",
    "Apparel > Shoes > Running Shoes",
    "Apparel > Shoes > Boots",
    "Apparel > Socks",
    "Electronics > Audio > Speakers",
    "Electronics > Televisions",
    "Home > Lamps",
]


@pytest.fixture
def shop():
    dataset = DatasetFactory()
    rows = [TaxonomyRow(line, "", tuple(path.split(" > "))) for line, path in enumerate(PATHS, 1)]
    taxonomy_upsert(dataset=dataset, rows=rows)
    return dataset


def paths(dataset, query, **kwargs):
    return [label.path for label in label_search_ranked(dataset=dataset, query=query, **kwargs)]


def test_a_typo_finds_the_leaf(shop):
    assert paths(shop, "sneeker")[0] == "Apparel > Shoes > Sneakers"


def test_words_in_any_order_find_the_leaf(shop):
    assert paths(shop, "shoes running")[0] == "Apparel > Shoes > Running Shoes"


def test_name_matches_come_before_path_only_matches(shop):
    found = paths(shop, "shoes")
    # "Shoes" and "Running Shoes" by name; Sneakers and Boots only through their path.
    assert found[:2] == ["Apparel > Shoes", "Apparel > Shoes > Running Shoes"]
    assert set(found[2:]) == {"Apparel > Shoes > Boots", "Apparel > Shoes > Sneakers"}


def test_a_synonym_finds_its_label(shop):
    label_synonyms_set(label=Label.objects.get(dataset=shop, name="Televisions"), synonyms=["TV", "flatscreen"])
    assert paths(shop, "flatscren")[0] == "Electronics > Televisions"


def test_unrelated_words_find_nothing(shop):
    assert paths(shop, "xylophone") == []


def test_an_empty_query_lists_the_most_used_then_the_leaves_by_path(shop):
    lamps, boots = (Label.objects.get(dataset=shop, name=n).pk for n in ("Lamps", "Boots"))
    found = paths(shop, " ", usage={boots: 2, lamps: 5})
    assert found == [
        "Home > Lamps",
        "Apparel > Shoes > Boots",
        "Apparel > Shoes > Running Shoes",
        "Apparel > Shoes > Sneakers",
        "Apparel > Socks",
        "Electronics > Audio > Speakers",
        "Electronics > Televisions",
    ]


def test_the_index_is_reused_until_the_taxonomy_changes(shop):
    first = label_index(dataset=shop)
    assert label_index(dataset=shop) is first
    taxonomy_upsert(dataset=shop, rows=[TaxonomyRow(1, "", ("Home", "Rugs"))])
    assert label_index(dataset=shop) is not first
    assert paths(shop, "rugs") == ["Home > Rugs"]


def test_a_renamed_label_is_found_by_its_new_name(shop):
    label_index(dataset=shop)
    label = Label.objects.get(dataset=shop, name="Socks")
    label.name, label.path = "Stockings", "Apparel > Stockings"
    label.save()
    assert paths(shop, "stockings") == ["Apparel > Stockings"]
