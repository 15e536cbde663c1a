"""A relevance dataset's candidate runs: BM25 with a depth and a pool, through the same job as matching's (the
worker's task, the page, the API, the command), with its progress and its cancel."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from config.jobs.lifecycle import job_cancel
from labeling.kinds.relevance.candidates import relevance_candidates
from labeling.kinds.relevance.models import QueryResult
from labeling.models import Task
from tests.factories import member
from tests.workspace.candidates.relevance import search_dataset
from workspace.models import CandidateRun
from workspace.services.candidates import candidate_run_create, candidate_run_execute
from workspace.tasks import candidates_run

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def search():
    return search_dataset()


@pytest.fixture
def lead(search):
    return member(search, "lead", role="lead")


def pairs(dataset) -> list[tuple[str, str]]:
    rows = Task.objects.filter(dataset=dataset).values_list("query__external_id", "product__external_id")
    return sorted(rows)


def test_a_run_ranks_every_query_pools_its_top_and_reports_through_the_worker_task(search, lead):
    run = candidate_run_create(dataset=search, user=lead, params={"pool": 1})
    assert (run.status, run.params) == ("queued", {"depth": 100, "pool": 1})

    assert candidates_run(run.pk) == "succeeded"

    run.refresh_from_db()
    assert pairs(search) == [("q1", "iphone"), ("q2", "galaxy"), ("q3", "kettle")]
    kept = QueryResult.objects.filter(dataset=search, ranker="bm25").count()
    assert run.report["results"] == {"bm25": kept} and kept > 3
    assert (run.report["queries"], run.report["products"], run.report["pooled"], run.report["created"]) == (3, 6, 3, 3)
    assert set(run.report["timings"]) == {"read_s", "rank_s", "write_s"}
    assert run.message == "3 queries over 6 products: 3 pooled pairs, 3 new tasks."
    assert (run.phase, run.progress) == ("", 1.0)

    again = candidate_run_create(dataset=search, user=lead, params={"pool": 1})
    candidates_run(again.pk)
    again.refresh_from_db()
    assert again.report["created"] == 0 and len(pairs(search)) == 3  # the pairs held keep their tasks


def test_relevance_settings_are_checked_and_the_blocking_ones_refused(search, lead):
    for params, field, message in [
        ({"depth": 0}, "depth", "depth must be a whole number from 1 to 1000."),
        ({"pool": "ten"}, "pool", "pool must be a whole number from 1 to 1000."),
        ({"depth": 5, "pool": 6}, "pool", "pool (6) cannot exceed depth (5): only kept results are pooled."),
        ({"k": 3}, "non_field_errors", "Unknown relevance candidate setting(s): k; use depth and pool."),
    ]:
        with pytest.raises(ApplicationError) as error:
            candidate_run_create(dataset=search, user=lead, params=params)
        assert error.value.extra == {"fields": {field: [message]}}
    assert not CandidateRun.objects.exists()


def test_the_progress_goes_read_rank_write_and_a_cancel_writes_nothing(search, lead):
    seen: list[tuple[str, float]] = []
    run = candidate_run_create(dataset=search, user=lead, params={}, enqueue=False)
    candidate_run_execute(run_id=run.pk, on_progress=lambda phase, fraction: seen.append((phase, fraction)))
    assert [phase for phase, _ in seen] == ["read", "read", "rank", "rank", "write"]
    assert seen[1] == ("read", 1.0) and seen[3] == ("rank", 1.0)

    Task.objects.filter(dataset=search).delete()
    QueryResult.objects.filter(dataset=search).delete()
    second = candidate_run_create(dataset=search, user=lead, params={}, enqueue=False)

    def cancel_while_ranking(phase: str, fraction: float) -> None:
        if phase == "rank":
            job_cancel(CandidateRun.objects.get(pk=second.pk), by="lead")

    finished = candidate_run_execute(run_id=second.pk, on_progress=cancel_while_ranking)
    assert finished.status == "cancelled"
    assert not Task.objects.filter(dataset=search).exists() and not QueryResult.objects.filter(dataset=search).exists()


def test_the_kind_stops_between_steps_when_its_check_says_so(search):
    calls = []

    def stop() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        relevance_candidates(dataset=search, check=stop)
    assert not QueryResult.objects.filter(dataset=search).exists()


def test_the_page_shows_depth_and_pool_and_follows_the_run(client, search, lead):
    client.force_login(lead)
    detail = client.get(reverse("workspace:detail", args=[search.pk])).text
    url = reverse("workspace:candidates", args=[search.pk])
    assert f'href="{url}"' in detail and f'href="{reverse("labeling:queries", args=[search.pk])}"' in detail
    page = client.get(url).text
    assert 'name="depth" value="100"' in page and 'name="pool" value="10"' in page and 'name="k"' not in page

    assert client.post(url, {"depth": "5", "pool": "9"}).status_code == 400
    assert client.post(url, {"depth": "20", "pool": "2"}).status_code == 302
    run = CandidateRun.objects.get()
    assert run.params == {"depth": 20, "pool": 2}
    candidates_run(run.pk)

    done = client.get(url, headers=HTMX).text
    assert 'data-status="succeeded"' in done and "depth 20 · pool 2" in done and "bm25 " in done
    assert 'name="depth" value="20"' in client.get(url).text


def test_the_api_takes_depth_and_pool_for_a_relevance_dataset(search, lead):
    api = APIClient()
    api.force_authenticate(lead)
    url = reverse("api-candidate-list", args=[search.pk])
    bad = api.post(url, {"depth": 3, "pool": 4}, format="json")
    assert bad.status_code == 400 and bad.json()["extra"]["fields"] == {
        "pool": ["pool (4) cannot exceed depth (3): only kept results are pooled."]
    }
    response = api.post(url, {"depth": 3, "pool": 1}, format="json")
    assert response.status_code == 202 and response.json()["params"] == {"depth": 3, "pool": 1}
    candidates_run(response.json()["id"])
    detail = api.get(reverse("api-candidate-detail", args=[response.json()["id"]])).json()
    assert detail["status"] == "succeeded" and detail["report"]["created"] == 3


def test_the_command_runs_a_relevance_dataset_here(search):
    out = StringIO()
    call_command("generate_candidates", "--dataset", "Search", "--depth", "10", "--pool", "2", stdout=out)
    lines = out.getvalue().strip().splitlines()
    report = json.loads(lines[-1])
    assert report["status"] == "succeeded" and report["created"] == len(pairs(search)) >= 3
    assert {"  read: 100%", "  rank: 100%"} <= set(lines)
    with pytest.raises(CommandError, match="Unknown relevance candidate setting"):
        call_command("generate_candidates", "--dataset", "Search", "--k", "3", stdout=StringIO())
