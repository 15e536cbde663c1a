import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from models_app.models import ModelVersion, VersionStatus
from models_app.services.training import model_version_train, training_request
from tests.conftest import wait_until_finished
from tests.factories import member


def client_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.django_db
def test_next_carries_the_suggestions_of_the_active_model(labeled_catalog):
    model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    task = client_for(member(labeled_catalog, "ann")).post(reverse("api-task-next", args=[labeled_catalog.pk])).json()
    assert len(task["suggestions"]) == 3
    assert task["suggestions"][0]["probability"] >= task["suggestions"][1]["probability"]


@pytest.mark.django_db
def test_hidden_suggestions_are_not_sent(labeled_catalog):
    model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    labeled_catalog.show_suggestions = False
    labeled_catalog.save()
    task = client_for(member(labeled_catalog, "ann")).post(reverse("api-task-next", args=[labeled_catalog.pk])).json()
    assert task["suggestions"] == []


@pytest.mark.django_db
def test_an_annotator_cannot_train_or_list_models(labeled_catalog):
    api = client_for(member(labeled_catalog, "ann"))
    assert api.post(reverse("api-model-train", args=[labeled_catalog.pk])).status_code == 403
    assert api.get(reverse("api-model-list", args=[labeled_catalog.pk])).status_code == 403


@pytest.mark.worker
def test_training_on_demand_runs_in_the_worker(celery_worker, labeled_catalog):
    api = client_for(member(labeled_catalog, "lead", Role.LEAD))
    response = api.post(reverse("api-model-train", args=[labeled_catalog.pk]))
    assert response.status_code == 202
    version = ModelVersion.objects.get(pk=response.json()["id"])
    wait_until_finished(version)
    assert (version.status, version.is_active) == (VersionStatus.SUCCEEDED, True)
    detail = api.get(reverse("api-model-detail", args=[version.pk])).json()
    assert detail["metrics"]["accuracy"] >= 0
