"""Leads cancel and retry every kind of job from the API and from its page; others cannot."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.jobs.models import JobStatus
from datasets.models import Role
from labeling.models import QualityReport
from models_app.models import Experiment, ModelVersion, VersionStatus
from tests.factories import DatasetFactory, member
from workspace.models import Export, ImportJob, ImportStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return DatasetFactory()


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def make(kind: str, dataset, status: str, **fields):
    if kind == "import":
        return ImportJob.objects.create(dataset=dataset, kind="products", file="x.csv", status=status, **fields)
    if kind == "export":
        if status == JobStatus.SUCCEEDED:  # a ready snapshot has its file
            fields = {"file": "exports/x.jsonl", "sha256": "0" * 64, **fields}
        return Export.objects.create(dataset=dataset, format="jsonl", status=status, **fields)
    if kind == "model":
        return ModelVersion.objects.create(dataset=dataset, number=1, status=status, **fields)
    if kind == "experiment":
        return Experiment.objects.create(dataset=dataset, configs={"default": {}}, status=status, **fields)
    return QualityReport.objects.create(dataset=dataset, status=status, **fields)


@pytest.fixture(autouse=True)
def _recorded(sent) -> None:
    """No message of these tests reaches a broker."""


URL = {
    "import": "api-import-{}",
    "export": "api-export-{}",
    "model": "api-model-{}",
    "experiment": "api-experiment-{}",
    "quality": "api-quality-report-{}",
}
KINDS = list(URL)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_a_lead_cancels_a_waiting_or_running_job(kind, status, dataset):
    job = make(kind, dataset, status)
    response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse(URL[kind].format("cancel"), args=[job.pk]))
    assert (response.status_code, response.json()["status"]) == (202, "cancelled")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None
    assert "Cancelled by lead" in job.message


@pytest.mark.parametrize("kind", KINDS)
def test_cancelling_a_finished_job_is_a_conflict(kind, dataset):
    job = make(kind, dataset, JobStatus.SUCCEEDED)
    response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse(URL[kind].format("cancel"), args=[job.pk]))
    assert response.status_code == 409
    assert f"This {job.noun} is finished; only a waiting or running one can be cancelled." == response.json()["detail"]


@pytest.mark.parametrize("kind", ["import", "export"])
def test_retrying_an_import_or_export_queues_the_same_job_again(
    kind, dataset, sent, django_capture_on_commit_callbacks
):
    job = make(kind, dataset, JobStatus.FAILED, message="boom", attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse(URL[kind].format("retry"), args=[job.pk]))
    assert (response.status_code, response.json()["id"], response.json()["status"]) == (202, job.pk, "queued")
    job.refresh_from_db()
    assert (job.message, job.finished_at, job.attempts) == ("", None, 1)
    assert sent == [(type(job).task_name, [job.pk])]


def test_retrying_a_training_run_requests_a_new_version(dataset, sent, django_capture_on_commit_callbacks):
    failed = make("model", dataset, VersionStatus.FAILED, message="boom")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse("api-model-retry", args=[failed.pk]))
    assert response.status_code == 202
    new = ModelVersion.objects.get(pk=response.json()["id"])
    assert (new.number, new.status) == (2, VersionStatus.QUEUED)
    failed.refresh_from_db()
    assert (failed.status, failed.message) == (VersionStatus.FAILED, "boom")
    assert sent == [(ModelVersion.task_name, [new.pk])]


def test_retrying_an_experiment_queues_a_copy_with_the_same_configs_and_seed(dataset):
    failed = make("experiment", dataset, JobStatus.CANCELLED, folds=3, seed=7)
    response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse("api-experiment-retry", args=[failed.pk]))
    copy = Experiment.objects.get(pk=response.json()["id"])
    assert copy.pk != failed.pk
    assert (copy.configs, copy.folds, copy.seed, copy.status) == (failed.configs, 3, 7, JobStatus.QUEUED)


def test_retrying_a_quality_report_joins_the_one_waiting(dataset):
    failed = make("quality", dataset, JobStatus.FAILED)
    waiting = make("quality", dataset, JobStatus.QUEUED)
    response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse("api-quality-report-retry", args=[failed.pk]))
    assert (response.status_code, response.json()["id"]) == (202, waiting.pk)


@pytest.mark.parametrize("kind", KINDS)
def test_retrying_a_running_job_is_a_conflict(kind, dataset):
    job = make(kind, dataset, JobStatus.RUNNING)
    response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse(URL[kind].format("retry"), args=[job.pk]))
    assert response.status_code == 409


@pytest.mark.parametrize("kind", KINDS)
def test_annotators_cannot_cancel_and_outsiders_do_not_see_the_job(kind, dataset):
    job = make(kind, dataset, JobStatus.QUEUED)
    url = reverse(URL[kind].format("cancel"), args=[job.pk])
    assert api_for(member(dataset, "ann")).post(url).status_code == 403
    assert api_for(member(DatasetFactory(), "stranger", Role.LEAD)).post(url).status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_a_draft_import_can_be_cancelled(dataset):
    job = make("import", dataset, ImportStatus.DRAFT)
    response = api_for(member(dataset, "lead", Role.LEAD)).post(reverse("api-import-cancel", args=[job.pk]))
    assert (response.status_code, response.json()["status"]) == (202, "cancelled")


PAGE = {
    "import": "workspace:import-action",
    "export": "workspace:export-action",
    "model": "models_app:version-action",
    "experiment": "models_app:experiment-action",
    "quality": "labeling:quality-report-action",
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_buttons_cancel_and_retry(kind, dataset, client):
    client.force_login(member(dataset, "lead", Role.LEAD))
    job = make(kind, dataset, JobStatus.RUNNING)
    action = PAGE[kind]
    response = client.post(reverse(action, args=[job.pk, "cancel"]), follow=True)
    assert response.status_code == 200
    assert "is cancelled" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    response = client.post(reverse(action, args=[job.pk, "retry"]), follow=True)
    # The exports page follows the export in its live banner; the others say it once.
    assert ("is queued" if kind == "export" else "queued again") in response.content.decode()


def test_a_page_action_on_a_job_in_the_wrong_state_says_why(dataset, client):
    client.force_login(member(dataset, "lead", Role.LEAD))
    job = make("export", dataset, JobStatus.SUCCEEDED)
    response = client.post(reverse("workspace:export-action", args=[job.pk, "cancel"]), follow=True)
    assert "only a waiting or running one can be cancelled" in response.content.decode()


SHOWN_ON = {
    "import": lambda job: reverse("workspace:import-detail", args=[job.pk]),
    "export": lambda job: reverse("workspace:exports", args=[job.dataset_id]),
    "model": lambda job: reverse("models_app:page", args=[job.dataset_id]),
    "experiment": lambda job: reverse("models_app:experiments", args=[job.dataset_id]) + f"?experiment={job.pk}",
    "quality": lambda job: reverse("labeling:quality", args=[job.dataset_id]),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("status", "action"), [(JobStatus.RUNNING, "cancel"), (JobStatus.FAILED, "retry")])
def test_the_job_s_page_offers_the_button_its_state_allows(kind, status, action, dataset, client):
    client.force_login(member(dataset, "lead", Role.LEAD))
    job = make(kind, dataset, status)
    html = client.get(SHOWN_ON[kind](job)).content.decode()
    other = "retry" if action == "cancel" else "cancel"
    assert f'action="{reverse(PAGE[kind], args=[job.pk, action])}"' in html
    assert f'action="{reverse(PAGE[kind], args=[job.pk, other])}"' not in html
