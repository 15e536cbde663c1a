"""A dataset's task kind is chosen at creation, from the registry, and brings the kind's fixed labels with it."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.models import Dataset, Label, TaskType
from labeling.kinds import KINDS
from tests.factories import UserFactory
from workspace.services.datasets import dataset_create

pytestmark = pytest.mark.django_db


def test_the_dataset_kinds_are_the_registrys():
    assert sorted(TaskType.values) == sorted(KINDS)


def test_a_matching_dataset_is_created_with_its_match_and_no_match_labels():
    dataset = dataset_create(user=UserFactory(), name="Offers", task_type="matching")
    assert sorted(Label.objects.filter(dataset=dataset).values_list("code", "name", "path")) == [
        ("0", "no match", "no match"),
        ("1", "match", "match"),
    ]


def test_a_categorization_dataset_starts_without_labels():
    dataset = dataset_create(user=UserFactory(), name="Catalog")
    assert (dataset.task_type, Label.objects.filter(dataset=dataset).count()) == ("categorization", 0)


def test_an_unknown_kind_is_refused_and_nothing_is_created():
    with pytest.raises(ApplicationError, match="Unknown task kind 'ranking'; choose one of: categorization, matching"):
        dataset_create(user=UserFactory(), name="Queries", task_type="ranking")
    assert not Dataset.objects.exists()


def test_the_labels_roll_back_with_a_dataset_that_fails_its_checks():
    with pytest.raises(ApplicationError, match="needs a name"):
        dataset_create(user=UserFactory(), name=" ", task_type="matching")
    assert not Label.objects.exists()


def test_the_api_creates_a_dataset_of_a_kind_and_refuses_an_unknown_one():
    api = APIClient()
    api.force_authenticate(UserFactory(is_staff=True))
    response = api.post(reverse("api-dataset-list"), {"name": "Offers", "task_type": "matching"}, format="json")
    assert (response.status_code, response.json()["task_type"]) == (201, "matching")
    assert Label.objects.filter(dataset_id=response.json()["id"]).count() == 2
    refused = api.post(reverse("api-dataset-list"), {"name": "X", "task_type": "ranking"}, format="json")
    assert refused.status_code == 400


def test_the_kind_cannot_change_after_creation():
    api = APIClient()
    api.force_authenticate(UserFactory(is_staff=True))
    created = api.post(reverse("api-dataset-list"), {"name": "Offers", "task_type": "matching"}, format="json").json()
    api.patch(reverse("api-dataset-detail", args=[created["id"]]), {"task_type": "categorization"}, format="json")
    assert Dataset.objects.get(pk=created["id"]).task_type == "matching"


def test_the_create_page_offers_the_kinds_and_creates_a_matching_dataset(client):
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("workspace:create")).content.decode()
    assert all(f'value="{name}"' in page for name in KINDS)
    response = client.post(
        reverse("workspace:create"),
        {"name": "Offers", "task_type": "matching", "overlap": 1, "gold_fraction": 0, "gold_warmup": 3,
         "random_fraction": 0.1, "uncertainty_strategy": "margin", "lease_minutes": 10, "retrain_every": 50,
         "cold_start_examples": 3, "suggestion_hide_fraction": 0},
    )
    dataset = Dataset.objects.get(name="Offers")
    assert response.status_code == 302
    assert (dataset.task_type, dataset.labels.count()) == ("matching", 2)


def test_the_api_and_the_page_create_a_relevance_dataset_on_the_grade_scale_asked_for(client):
    api = APIClient()
    api.force_authenticate(UserFactory(is_staff=True))
    response = api.post(
        reverse("api-dataset-list"), {"name": "Search", "task_type": "relevance", "grade_scale": "binary"},
        format="json",
    )
    assert (response.status_code, response.json()["grade_scale"]) == (201, "binary")
    assert sorted(Label.objects.filter(dataset_id=response.json()["id"]).values_list("code", flat=True)) == ["0", "1"]
    refused = api.post(reverse("api-dataset-list"), {"name": "X", "task_type": "relevance", "grade_scale": "stars"},
                       format="json")
    assert refused.status_code == 400 and "grade_scale" in str(refused.json())
    wrong_kind = api.post(reverse("api-dataset-list"), {"name": "Y", "grade_scale": "esci"}, format="json")
    assert wrong_kind.status_code == 400 and "only search relevance datasets grade" in wrong_kind.json()["detail"]

    client.force_login(UserFactory(is_staff=True))
    assert 'name="grade_scale"' in client.get(reverse("workspace:create")).content.decode()
    client.post(
        reverse("workspace:create"),
        {"name": "Queries", "task_type": "relevance", "grade_scale": "", "overlap": 1, "gold_fraction": 0,
         "gold_warmup": 3, "random_fraction": 0.1, "uncertainty_strategy": "margin", "lease_minutes": 10,
         "retrain_every": 50, "cold_start_examples": 3, "suggestion_hide_fraction": 0},
    )
    dataset = Dataset.objects.get(name="Queries")
    assert (dataset.task_type, dataset.grade_scale, dataset.labels.count()) == ("relevance", "esci", 4)
