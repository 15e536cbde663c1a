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
    assert detail["figures"]["withheld"] == "too few held-out labels: 24"


@pytest.mark.django_db
def test_a_version_measured_on_one_product_has_no_figures_but_why(labeled_catalog):
    version = ModelVersion.objects.create(
        dataset=labeled_catalog, number=1, status=VersionStatus.SUCCEEDED,
        metrics={"n": 1, "accuracy": 0.0, "macro_f1": 0.0, "level_accuracy": [1.0, 0.0], "evaluated_on": "holdout"},
    )
    api = client_for(member(labeled_catalog, "lead", Role.LEAD))
    figures = api.get(reverse("api-model-detail", args=[version.pk])).json()["figures"]
    assert (figures["accuracy"], figures["level_accuracy"], figures["n"]) == (None, [], 1)
    assert figures["withheld"] == "too few held-out labels: 1"


@pytest.mark.django_db
def test_a_versions_figures_carry_n_and_the_interval(labeled_catalog):
    ModelVersion.objects.create(
        dataset=labeled_catalog, number=1, status=VersionStatus.SUCCEEDED,
        metrics={"n": 200, "accuracy": 0.93, "macro_f1": 0.9, "evaluated_on": "holdout"},
    )
    api = client_for(member(labeled_catalog, "lead", Role.LEAD))
    figures = api.get(reverse("api-model-list", args=[labeled_catalog.pk])).json()["results"][0]["figures"]
    assert (figures["n"], figures["accuracy"], figures["accuracy_interval"]) == (200, 0.93, [0.8859, 0.9578])


@pytest.mark.django_db
def test_a_queued_version_has_no_figures_yet(labeled_catalog):
    version = ModelVersion.objects.create(dataset=labeled_catalog, number=1)
    api = client_for(member(labeled_catalog, "lead", Role.LEAD))
    assert api.get(reverse("api-model-detail", args=[version.pk])).json()["figures"] is None
