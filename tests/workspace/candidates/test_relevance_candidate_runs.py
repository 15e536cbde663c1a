"""A relevance dataset's candidate runs: BM25 with a depth and a pool, through the same job as matching's (the
worker's task, the page, the API, the command), with its progress and its cancel."""

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from config.jobs.lifecycle import job_cancel
from labeling.kinds.relevance.candidates import relevance_candidates
from labeling.kinds.relevance.models import QueryResult
from labeling.models import Task
from tests.factories import member
from tests.workspace.candidates.conftest import build_catalog
from tests.workspace.candidates.relevance import search_dataset
from workspace.models import CandidateRun
from workspace.services.candidates import candidate_run_create, candidate_run_execute, candidate_run_retry
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


TREC = b"q1 Q0 buds 1 9.0 shop\nq1 Q0 case 2 8.0 shop\nq3 Q0 fridge 1 1.0 shop\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(content: bytes = TREC, name: str = "shop.run") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_a_run_file_joins_the_pool_and_is_kept_for_a_retry(search, lead, media):
    run = candidate_run_create(dataset=search, user=lead, params={"pool": 1}, run_file=upload())
    assert run.params["run_file"]["name"] == "shop.run" and (media / run.params["run_file"]["path"]).exists()

    assert candidates_run(run.pk) == "succeeded"

    run.refresh_from_db()
    assert run.report["results"] == {"bm25": run.report["results"]["bm25"], "shop": 3}
    shop = QueryResult.objects.filter(dataset=search, ranker="shop").order_by("query__external_id", "rank")
    assert [(row.query.external_id, row.rank, row.product.external_id) for row in shop] == [
        ("q1", 1, "buds"), ("q1", 2, "case"), ("q3", 1, "fridge")
    ]
    assert {("q1", "buds"), ("q3", "fridge")} <= set(pairs(search))  # the shop's top 1 of each query

    cancelled = candidate_run_create(dataset=search, user=lead, params={"pool": 2}, run_file=upload(name="b.run"))
    job_cancel(cancelled, by="lead")
    retried = candidate_run_retry(run=CandidateRun.objects.get(pk=cancelled.pk), user=lead)
    assert retried.params == cancelled.params and retried.params["run_file"]["name"] == "b.run"


def test_a_run_file_naming_ids_the_dataset_does_not_hold_is_refused_before_anything_is_queued(search, lead, media):
    bad = b"q1 Q0 buds 1 9.0 shop\nq9 Q0 toaster 1 1.0 shop\nq1 Q0 mixer 2 1.0 shop\n"
    with pytest.raises(ApplicationError, match=r"names 1 query id \(q9\) and 2 product ids \(mixer, toaster\)"):
        candidate_run_create(dataset=search, user=lead, params={}, run_file=upload(bad))
    with pytest.raises(ApplicationError, match="other than 'bm25'"):
        candidate_run_create(dataset=search, user=lead, params={}, run_file=upload(), ranker="bm25")
    with pytest.raises(ApplicationError, match="Run files are for search relevance datasets"):
        candidate_run_create(dataset=build_catalog().dataset, user=lead, params={}, run_file=upload())
    assert not CandidateRun.objects.exists() and not list(media.rglob("*.run"))


def test_a_stored_run_that_no_longer_fits_the_dataset_fails_the_run_with_the_reason(search, lead, media):
    run = candidate_run_create(dataset=search, user=lead, params={}, run_file=upload())
    search.products.filter(external_id="fridge").delete()
    assert candidates_run(run.pk) == "failed"
    assert "1 product id (fridge)" in CandidateRun.objects.get(pk=run.pk).message
    assert not QueryResult.objects.filter(dataset=search).exists()


def test_the_page_and_the_api_take_a_run_file(client, search, lead, media):
    client.force_login(lead)
    url = reverse("workspace:candidates", args=[search.pk])
    assert 'enctype="multipart/form-data"' in client.get(url).text
    no_rank = upload(b"query_id,product_id\nq1,buds\n", "shop.csv")
    bad = client.post(url, {"depth": "10", "pool": "1", "run_file": no_rank})
    assert bad.status_code == 400 and "No rank column: found columns query_id, product_id" in bad.text
    csv = b"query_id,product_id,rank\nq2,galaxy,1\n"
    response = client.post(url, {"depth": "10", "pool": "1", "run_file": upload(csv, "shop.csv"), "ranker": "shop"})
    assert response.status_code == 302
    run = CandidateRun.objects.get()
    assert run.params["run_file"]["ranker"] == "shop"
    candidates_run(run.pk)
    assert "with shop.csv" in client.get(url, headers=HTMX).text

    api = APIClient()
    api.force_authenticate(lead)
    posted = api.post(reverse("api-candidate-list", args=[search.pk]), {"pool": 1, "run_file": upload()},
                      format="multipart")
    assert posted.status_code == 202, posted.json()
    assert posted.json()["params"]["run_file"]["name"] == "shop.run"


def test_the_command_takes_a_run_file(search, media, tmp_path):
    path = tmp_path / "shop.tsv"
    path.write_bytes(b"q2\tQ0\tfridge\t1\t2.0\tbaseline\n")
    out = StringIO()
    call_command("generate_candidates", "--dataset", "Search", "--pool", "1", "--run", str(path), stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["results"]["baseline"] == 1
    with pytest.raises(CommandError, match="Cannot read the run file"):
        call_command("generate_candidates", "--dataset", "Search", "--run", str(tmp_path / "none"), stdout=out)
