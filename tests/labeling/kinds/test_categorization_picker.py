"""The categorization picker: numbered small label sets, the taxonomy tree's levels, the search view's order."""

import re
from html import unescape

import pytest
from django.urls import reverse

from datasets.importers import TaxonomyRow
from datasets.models import Label
from datasets.services.taxonomy import taxonomy_upsert
from labeling.kinds.categorization.page import all_labels
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


def dataset_with(paths):
    dataset = DatasetFactory()
    taxonomy_upsert(dataset=dataset, rows=[TaxonomyRow(i, "", tuple(p.split(" > "))) for i, p in enumerate(paths, 1)])
    TaskFactory.create_batch(2, dataset=dataset)
    return dataset


def page(client, dataset, user):
    client.force_login(user)
    return client.get(reverse("labeling:annotate", args=[dataset.pk])).content.decode()


def found(pattern, html):
    return [unescape(path) for path in re.findall(pattern, html)]


def shortcut_paths(html):
    return found(r'data-key="\d" data-label-id="\d+" data-label-path="([^"]+)"', html)


def test_a_small_label_set_is_numbered_in_path_order_before_any_label_was_used(client):
    dataset = dataset_with(["Toys", "Books > Fiction", "Books > Comics"])
    html = page(client, dataset, member(dataset, "ann"))
    assert shortcut_paths(html) == ["Books > Comics", "Books > Fiction", "Toys"]
    assert ">Categories</h2>" in html


def test_ten_leaves_are_not_numbered_until_used(client):
    dataset = dataset_with([f"Category {i:02d}" for i in range(10)])
    assert shortcut_paths(page(client, dataset, member(dataset, "ann"))) == []


def test_a_small_label_set_puts_the_suggestions_first_then_the_other_leaves():
    dataset = dataset_with(["A", "B", "C"])
    leaves = list(Label.objects.filter(dataset=dataset).order_by("path"))
    keys = all_labels(leaves=leaves, suggestions=[{"label": leaves[2], "probability": 0.7}])
    assert [(k["key"], k["label"].name, k["kind"], k["probability"]) for k in keys] == [
        (1, "C", "suggestion", 0.7),
        (2, "A", "choice", None),
        (3, "B", "choice", None),
    ]


def test_the_page_shows_the_tree_roots_and_a_level_loads_on_request(client):
    dataset = dataset_with(["Toys", "Books > Fiction", "Books > Comics"])
    user = member(dataset, "ann")
    html = page(client, dataset, user)
    roots = found(r'data-tree-node="\d+" data-label-id="\d+" data-label-path="([^"]+)"', html)
    assert roots == ["Books", "Toys"]
    books = Label.objects.get(dataset=dataset, path="Books")
    level = client.get(reverse("labeling:label-tree", args=[dataset.pk]), {"parent": books.pk}).content.decode()
    assert found(r'data-label-path="([^"]+)"', level) == ["Books > Comics", "Books > Fiction"]
    assert 'aria-level="2"' in level and "aria-expanded" not in level  # leaves


def test_another_datasets_node_has_no_children_here(client):
    dataset, other = dataset_with(["Toys"]), dataset_with(["Books > Fiction"])
    client.force_login(member(dataset, "ann"))
    books = Label.objects.get(dataset=other, path="Books")
    level = client.get(reverse("labeling:label-tree", args=[dataset.pk]), {"parent": books.pk}).content.decode()
    assert "Fiction" not in level


def test_the_empty_search_lists_the_most_used_label_first(client):
    dataset = dataset_with([f"Shop > Category {i:02d}" for i in range(12)])
    user = member(dataset, "ann")
    used = Label.objects.get(dataset=dataset, name="Category 07")
    for task in dataset.tasks.all():
        annotation_submit(task=task, user=user, label=used, active_seconds=1.0)
    client.force_login(user)
    html = client.get(reverse("labeling:label-search", args=[dataset.pk]), {"q": ""}).content.decode()
    listed = found(r'data-label-path="([^"]+)"', html)
    assert listed[:3] == ["Shop > Category 07", "Shop > Category 00", "Shop > Category 01"]
    assert "Shop" not in listed  # inner nodes are found by typing, not listed


def test_the_search_view_forgives_a_typo(client):
    dataset = dataset_with(["Apparel > Shoes > Sneakers", "Apparel > Shoes > Boots"])
    client.force_login(member(dataset, "ann"))
    html = client.get(reverse("labeling:label-search", args=[dataset.pk]), {"q": "sneeker"}).content.decode()
    assert found(r'data-label-path="([^"]+)"', html) == ["Apparel > Shoes > Sneakers"]
