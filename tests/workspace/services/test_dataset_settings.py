"""The pages and the API save only model settings that training can use; the check is the workspace's."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.models import Dataset, Role
from tests.factories import DatasetFactory, UserFactory, member
from workspace.services.datasets import dataset_create, dataset_update

pytestmark = pytest.mark.django_db


def test_create_refuses_model_settings_training_cannot_use():
    with pytest.raises(ApplicationError, match=r"Model settings: .*classifier"):
        dataset_create(user=UserFactory(), name="Shoes", model_config={"classifier": "no-such-classifier"})
    assert not Dataset.objects.exists()


def test_create_keeps_model_settings_training_can_use():
    dataset = dataset_create(user=UserFactory(), name="Shoes", model_config={"classifier": "sgd"})
    assert Dataset.objects.get(pk=dataset.pk).model_config == {"classifier": "sgd"}


def test_update_refuses_an_unknown_model_setting_and_keeps_the_old_ones():
    dataset = DatasetFactory(model_config={"classifier": "sgd"})
    with pytest.raises(ApplicationError, match="Model settings: unknown"):
        dataset_update(dataset=dataset, model_config={"no_such_key": 1})
    dataset.refresh_from_db()
    assert dataset.model_config == {"classifier": "sgd"}


def test_the_api_answers_bad_model_settings_with_a_400():
    dataset = DatasetFactory()
    api = APIClient()
    api.force_authenticate(member(dataset, "lead", Role.LEAD))
    url = reverse("api-dataset-detail", args=[dataset.pk])
    response = api.patch(url, {"model_config": {"classifier": "no-such-classifier"}}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Model settings:")


def test_a_form_posted_null_model_settings_is_a_400_not_a_500():
    # A JSON body's null is refused by the serializer; a form field's "null" is parsed into None past it.
    dataset = DatasetFactory()
    api = APIClient()
    api.force_authenticate(member(dataset, "lead", Role.LEAD))
    response = api.patch(reverse("api-dataset-detail", args=[dataset.pk]), {"model_config": "null"}, format="multipart")
    assert response.status_code == 400
    assert "model_config" in response.json()["detail"]


def test_a_matching_dataset_takes_a_matchers_settings_and_refuses_a_categorizers():
    lead = UserFactory()
    dataset = dataset_create(user=lead, name="pairs", task_type="matching", model_config={"classifier": "hgb"})
    assert dataset.model_config == {"classifier": "hgb"}
    with pytest.raises(ApplicationError, match="Model settings"):
        dataset_update(dataset=dataset, model_config={"classifier": "hgb", "ngrams": [1, 2]})
    dataset.refresh_from_db()
    assert dataset.model_config == {"classifier": "hgb"}
