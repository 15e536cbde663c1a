"""A matching dataset has no models yet: asking for a run is refused and its answers never request one."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from labeling.services import annotation_submit
from models_app.models import ModelVersion
from models_app.services.training import training_request
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def pairs(db):
    dataset = MatchingDatasetFactory(retrain_every=1)
    for _ in range(3):
        left, right = ProductFactory(dataset=dataset), ProductFactory(dataset=dataset)
        pair_task(dataset, left, right)
    return dataset


def test_a_training_request_is_refused_with_a_clear_message(pairs):
    with pytest.raises(ApplicationError) as refused:
        training_request(dataset=pairs)
    assert refused.value.message == "Models for product matching are not available yet."
    assert not ModelVersion.objects.exists()


def test_the_api_answers_400(pairs):
    api = APIClient()
    api.force_authenticate(member(pairs, "lead", role="lead"))
    response = api.post(reverse("api-model-train", args=[pairs.pk]))
    assert response.status_code == 400
    assert "Models for product matching are not available yet." in str(response.json())


def test_answers_never_request_a_run(pairs, django_capture_on_commit_callbacks):
    user = member(pairs, "ann")
    match = pairs.labels.get(code="1")
    with django_capture_on_commit_callbacks(execute=True):
        for task in pairs.tasks.all():
            annotation_submit(task=task, user=user, label=match)
    assert not ModelVersion.objects.exists()


def test_the_models_page_says_why_instead_of_queuing(pairs, client):
    client.force_login(member(pairs, "lead", role="lead"))
    response = client.post(reverse("models_app:train", args=[pairs.pk]), follow=True)
    assert response.status_code == 200
    assert "Models for product matching are not available yet." in response.content.decode()
    assert not ModelVersion.objects.exists()
