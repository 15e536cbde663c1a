"""A job the broker refuses: the request answers 503 and leaves nothing behind; a joined job is re-sent."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from config.celery import app
from config.jobs.models import JobStatus
from datasets.models import Role
from labeling.models import QualityReport
from labeling.queue import task_lease_next
from models_app.models import Experiment, ModelVersion
from models_app.services.training import trainings_due_request
from tests.factories import member
from workspace.models import Export, ImportJob

transactional = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch) -> None:
    """The broker refuses every message, as kombu reports a connection refused after its retries."""

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", refuse)


@pytest.fixture
def lead_api(labeled_catalog) -> APIClient:
    api = APIClient()
    api.force_authenticate(member(labeled_catalog, "lead", Role.LEAD))
    return api


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert "job queue is not reachable" in response.json()["detail"]


@transactional
def test_training_refused_by_the_broker_answers_503_and_leaves_no_run(labeled_catalog, lead_api, broker_down):
    assert_unavailable(lead_api.post(reverse("api-model-train", args=[labeled_catalog.pk])))
    assert not ModelVersion.objects.filter(dataset=labeled_catalog).exists()


@transactional
def test_a_quality_report_refused_by_the_broker_leaves_no_report(labeled_catalog, lead_api, broker_down):
    assert_unavailable(lead_api.post(reverse("api-quality", args=[labeled_catalog.pk])))
    assert not QualityReport.objects.filter(dataset=labeled_catalog).exists()


@transactional
def test_an_export_refused_by_the_broker_leaves_no_snapshot(labeled_catalog, lead_api, broker_down):
    response = lead_api.post(reverse("api-export-list", args=[labeled_catalog.pk]), {"format": "jsonl"}, format="json")
    assert_unavailable(response)
    assert not Export.objects.filter(dataset=labeled_catalog).exists()


@transactional
def test_an_experiment_refused_by_the_broker_leaves_none(labeled_catalog, lead_api, broker_down):
    url = reverse("api-experiment-list", args=[labeled_catalog.pk])
    assert_unavailable(lead_api.post(url, {"names": ["default"], "folds": 2}, format="json"))
    assert not Experiment.objects.filter(dataset=labeled_catalog).exists()


@transactional
def test_an_import_refused_by_the_broker_leaves_neither_job_nor_file(labeled_catalog, lead_api, broker_down, settings):
    upload = SimpleUploadedFile("refused.csv", b"id,title\nR1,Red lamp\n", content_type="text/csv")
    stored = lambda: set(settings.MEDIA_ROOT.rglob("refused*.csv"))  # noqa: E731
    before = stored()
    url = reverse("api-import-list", args=[labeled_catalog.pk])
    assert_unavailable(lead_api.post(url, {"kind": "products", "file": upload}))
    assert not ImportJob.objects.filter(dataset=labeled_catalog).exists()
    assert stored() == before


@transactional
def test_a_submit_still_counts_when_the_automatic_training_cannot_be_queued(labeled_catalog, broker_down):
    labeled_catalog.retrain_every = 1
    labeled_catalog.save()
    annotator = member(labeled_catalog, "ann")
    api = APIClient()
    api.force_authenticate(annotator)
    task = task_lease_next(dataset=labeled_catalog, user=annotator)
    label = labeled_catalog.labels.first()
    response = api.post(reverse("api-task-submit", args=[task.pk]), {"label": label.pk}, format="json")
    assert response.status_code == 201
    assert task.annotations.filter(user=annotator, label=label).exists()
    assert trainings_due_request() == []  # the worker's sweep asks, and asks again at the next one
    assert not ModelVersion.objects.filter(dataset=labeled_catalog).exists()


@transactional
def test_a_retry_refused_by_the_broker_leaves_the_job_as_it_was(labeled_catalog, lead_api, broker_down):
    failed = Export.objects.create(dataset=labeled_catalog, format="jsonl", status=JobStatus.FAILED, message="boom")
    assert_unavailable(lead_api.post(reverse("api-export-retry", args=[failed.pk])))
    failed.refresh_from_db()
    assert (failed.status, failed.message) == (JobStatus.FAILED, "boom")


@transactional
def test_joining_a_run_that_waited_long_sends_it_again(labeled_catalog, lead_api, sent, settings):
    sent_at = timezone.now() - timedelta(seconds=settings.JOB_REDISPATCH_SECONDS + 1)
    waiting = ModelVersion.objects.create(dataset=labeled_catalog, number=1, dispatched_at=sent_at)
    response = lead_api.post(reverse("api-model-train", args=[labeled_catalog.pk]))
    assert (response.status_code, response.json()["id"]) == (202, waiting.pk)
    assert sent == [(ModelVersion.task_name, [waiting.pk])]


@transactional
def test_joining_a_run_sent_a_moment_ago_sends_nothing(labeled_catalog, lead_api, sent):
    waiting = ModelVersion.objects.create(dataset=labeled_catalog, number=1)
    assert lead_api.post(reverse("api-model-train", args=[labeled_catalog.pk])).json()["id"] == waiting.pk
    assert sent == []
