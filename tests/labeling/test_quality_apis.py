"""The quality report and the task history through the API: leads only, JSON errors, a paginated history."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from labeling.models import QualityReport, QualityStatus
from labeling.quality.report import quality_report_request, quality_report_run
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member
from tests.labeling.quality_team import quality_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return quality_team()


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def quality_url(dataset) -> str:
    return reverse("api-quality", args=[dataset.pk])


def history_url(task) -> str:
    return reverse("api-task-history", args=[task.pk])


def test_without_a_ready_report_the_api_answers_404_with_the_pending_one(team):
    api = api_as(team.lead)
    assert api.get(quality_url(team.dataset)).json() == {
        "detail": "No quality report is ready yet; POST to this URL to compute one.",
        "pending": None,
    }
    queued = quality_report_request(dataset=team.dataset, user=team.lead)
    response = api.get(quality_url(team.dataset))
    assert response.status_code == 404
    assert response.json()["pending"]["id"] == queued.pk and response.json()["pending"]["status"] == "queued"


def test_the_latest_ready_report_comes_with_its_figures_and_any_newer_one(team):
    ready = quality_report_run(report_id=quality_report_request(dataset=team.dataset, user=None).pk)
    waiting = quality_report_request(dataset=team.dataset, user=None)
    body = api_as(team.lead).get(quality_url(team.dataset)).json()
    assert (body["id"], body["status"], body["last_annotation_id"]) == (ready.pk, "succeeded", ready.last_annotation_id)
    assert body["finished_at"] is not None and body["figures"] == ready.figures
    assert body["figures"]["answers"] == 96 and body["figures"]["fleiss"]["raters_per_item"] == 4
    assert body["pending"] == {
        "id": waiting.pk, "status": "queued", "created_at": body["pending"]["created_at"], "started_at": None,
    }


def test_posting_queues_a_report_and_a_second_post_joins_it(team, django_capture_on_commit_callbacks):
    api = api_as(team.lead)
    with django_capture_on_commit_callbacks() as callbacks:
        first = api.post(quality_url(team.dataset))
        second = api.post(quality_url(team.dataset))
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and first.json()["status"] == "queued"
    assert first.json()["figures"] is None and len(callbacks) == 1
    assert QualityReport.objects.get(dataset=team.dataset).requested_by == team.lead


def test_annotators_may_neither_read_nor_request_reports(team):
    api = api_as(team.annotator)
    assert api.get(quality_url(team.dataset)).status_code == 403
    response = api.post(quality_url(team.dataset))
    assert response.status_code == 403 and response.json()["detail"] == "Annotators cannot see others' statistics."
    assert not QualityReport.objects.exists()


def test_outsiders_get_404_from_the_quality_api(team):
    api = api_as(member(DatasetFactory(), "stranger", Role.LEAD))
    assert api.get(quality_url(team.dataset)).status_code == 404
    assert api.post(quality_url(team.dataset)).status_code == 404


def test_the_task_history_is_paginated_oldest_first(team):
    task = team.tasks[7]  # ann3 answered Rugs where the others said Lamps
    annotation_submit(task=task, user=team.annotator, label=team.leaves[2])
    body = api_as(team.lead).get(history_url(task), {"page_size": 3}).json()
    assert body["count"] == 5 and len(body["results"]) == 3 and body["next"]
    last = api_as(team.lead).get(body["next"]).json()["results"][-1]
    assert last["action"] == "change" and last["user"] == "ann1" and last["source"] == "human"
    assert last["old_label"]["path"] == "Home > Lamps" and last["new_label"]["path"] == "Home > Rugs"
    first = body["results"][0]
    assert (first["action"], first["user"], first["old_label"]) == ("create", "ann1", None)


def test_the_history_api_reads_the_events_in_a_fixed_number_of_queries(team, django_assert_max_num_queries):
    task = team.tasks[0]
    for label in team.leaves[1:]:
        annotation_submit(task=task, user=team.annotator, label=label)
    with django_assert_max_num_queries(6):  # user, task with the role, dataset with the role, count, page
        assert api_as(team.lead).get(history_url(task)).json()["count"] == 9


def test_annotators_cannot_read_a_task_history(team):
    assert api_as(team.annotator).get(history_url(team.tasks[0])).status_code == 403


def test_outsiders_get_404_from_the_history_api(team):
    stranger = member(DatasetFactory(), "stranger", Role.LEAD)
    assert api_as(stranger).get(history_url(team.tasks[0])).status_code == 404


def test_an_empty_dataset_gets_a_report_of_zeros(db):
    dataset = DatasetFactory()
    LabelFactory(dataset=dataset)
    TaskFactory(dataset=dataset)
    lead = member(dataset, "lead", Role.LEAD)
    report = quality_report_run(report_id=quality_report_request(dataset=dataset, user=lead).pk)
    body = api_as(lead).get(quality_url(dataset)).json()
    assert report.status == QualityStatus.SUCCEEDED and body["figures"]["answers"] == 0
    assert body["figures"]["percent_agreement"] is None and body["pending"] is None
