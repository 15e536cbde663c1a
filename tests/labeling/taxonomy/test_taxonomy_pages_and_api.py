"""The Taxonomy page and API (issue 15): leads see the tree with counts and make changes; others cannot."""

import pytest
from django.urls import reverse

from datasets.models import Label, TaxonomyChange
from labeling.models import Annotation
from tests.factories import DatasetFactory, LabelFactory, MatchingDatasetFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    dataset = DatasetFactory()
    labels = {name: LabelFactory(dataset=dataset, name=name, path=name) for name in ("Boots", "Sneakers")}
    task = TaskFactory(dataset=dataset)
    Annotation.objects.create(dataset=dataset, task=task, label=labels["Boots"], source="import", source_name="seed")
    return dataset, labels, member(dataset, "lead", "lead")


def test_the_page_shows_the_tree_with_counts_and_is_linked_from_the_dataset_page(client, shop):
    dataset, _, lead = shop
    client.force_login(lead)
    assert (
        reverse("labeling:taxonomy", args=[dataset.pk])
        in client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode()
    )
    page = client.get(reverse("labeling:taxonomy", args=[dataset.pk])).content.decode()
    assert 'data-path="Boots"' in page and 'id="form-merge"' in page


def test_a_merge_on_the_page_asks_for_confirmation_first(client, shop):
    dataset, labels, lead = shop
    client.force_login(lead)
    url = reverse("labeling:taxonomy-change", args=[dataset.pk])
    asked = client.post(url, {"action": "merge", "label": "Boots", "target": "Sneakers"}).content.decode()
    assert 'id="merge-confirm"' in asked and not TaxonomyChange.objects.exists()
    client.post(url, {"action": "merge", "label": "Boots", "target": "Sneakers", "confirm": "yes"})
    assert Annotation.objects.get().label_id == labels["Sneakers"].pk


def test_an_unknown_label_on_the_page_is_a_clear_error(client, shop):
    dataset, _, lead = shop
    client.force_login(lead)
    url = reverse("labeling:taxonomy-change", args=[dataset.pk])
    response = client.post(url, {"action": "rename", "label": "Nope", "name": "X"}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "No label &#x27;Nope&#x27;" in response.content.decode()


def test_annotators_cannot_open_the_page(client, shop):
    dataset, _, _ = shop
    client.force_login(member(dataset, "ann"))
    assert client.get(reverse("labeling:taxonomy", args=[dataset.pk])).status_code == 403


def test_the_api_lists_the_tree_and_applies_a_rename(client, shop):
    dataset, labels, lead = shop
    client.force_login(lead)
    tree = client.get(reverse("api-taxonomy", args=[dataset.pk])).json()
    assert {node["path"]: node["answers"] for node in tree} == {"Boots": 1, "Sneakers": 0}
    url = reverse("api-taxonomy-changes", args=[dataset.pk])
    response = client.post(
        url, {"action": "rename", "label": labels["Boots"].pk, "name": "Ankle boots"}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["new_path"] == "Ankle boots"
    assert client.get(url).json()[0]["action"] == "rename"


def test_the_api_merge_without_a_target_is_a_400(client, shop):
    dataset, labels, lead = shop
    client.force_login(lead)
    url = reverse("api-taxonomy-changes", args=[dataset.pk])
    response = client.post(url, {"action": "merge", "label": labels["Boots"].pk}, content_type="application/json")
    assert response.status_code == 400 and "target" in response.json()["detail"]


def test_the_api_refuses_changes_to_a_matching_dataset_with_the_reason(client, db):
    dataset = MatchingDatasetFactory()
    client.force_login(member(dataset, "lead", "lead"))
    label = Label.objects.filter(dataset=dataset).first()
    url = reverse("api-taxonomy-changes", args=[dataset.pk])
    response = client.post(url, {"action": "deprecate", "label": label.pk}, content_type="application/json")
    assert response.status_code == 400 and "only categorization datasets" in response.json()["detail"]
