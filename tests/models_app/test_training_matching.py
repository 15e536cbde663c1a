"""A matching dataset trains like a categorization one: a request queues a run, and answers request one
every `retrain_every` labels."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labeling.services import annotation_submit
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from models_app.services.training import training_request, trainings_due_request
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def pairs(db):
    dataset = MatchingDatasetFactory(retrain_every=3)
    for _ in range(3):
        left, right = ProductFactory(dataset=dataset), ProductFactory(dataset=dataset)
        pair_task(dataset, left, right)
    return dataset


def test_a_training_request_queues_a_run(pairs):
    version = training_request(dataset=pairs, enqueue=False)
    assert (version.status, version.number) == (VersionStatus.QUEUED, 1)


def test_the_api_accepts_a_run(pairs, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(member(pairs, "lead", role="lead"))
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(reverse("api-model-train", args=[pairs.pk]))
    assert response.status_code == 202
    assert ModelVersion.objects.filter(dataset=pairs, status=VersionStatus.QUEUED).count() == 1


def test_answers_request_a_run_every_retrain_every_labels(pairs):
    user = member(pairs, "ann")
    match = pairs.labels.get(code="1")
    tasks = list(pairs.tasks.order_by("pk"))
    for task in tasks[:2]:
        annotation_submit(task=task, user=user, label=match)
    assert trainings_due_request() == []
    annotation_submit(task=tasks[2], user=user, label=match)
    trainings_due_request()
    version = ModelVersion.objects.get(dataset=pairs)
    assert (version.trigger, version.status) == (TrainingTrigger.AUTO, VersionStatus.QUEUED)


def test_the_models_page_queues_a_run(pairs, client, django_capture_on_commit_callbacks):
    client.force_login(member(pairs, "lead", role="lead"))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("models_app:train", args=[pairs.pk]), follow=True)
    assert response.status_code == 200
    assert "Version 1 is queued" in response.content.decode()
