"""Candidate runs as jobs: one per dataset at a time, run by the worker's task, cancelled, retried, and a rescore
asked for when a dataset with an active matcher got new pairs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from config.errors import ApplicationError, ConflictError
from config.jobs.lifecycle import job_cancel
from config.jobs.sweeper import jobs_sweep
from labeling.models import Task
from models_app.models import ModelVersion, VersionStatus
from tests.factories import DatasetFactory
from workspace.models import CandidateRun
from workspace.services.candidates import candidate_run_create, candidate_run_retry
from workspace.tasks import candidates_run

pytestmark = pytest.mark.django_db

SETTINGS = {"k": 3, "source_field": "shop", "skip_same_source": True}


def test_a_run_goes_from_the_request_to_its_report_through_the_worker_task(shops, lead):
    run = candidate_run_create(dataset=shops.dataset, user=lead, params=SETTINGS)
    assert (run.status, run.params["k"], run.params["fields"]) == ("queued", 3, ["title", "brand"])

    assert candidates_run(run.pk) == "succeeded"

    run.refresh_from_db()
    tasks = Task.objects.filter(dataset=shops.dataset).count()
    assert run.report["new_pairs"] == run.report["candidates"] == tasks > 20
    assert (run.phase, run.fraction, run.progress, run.attempts) == ("", 1.0, 1.0, 1)
    assert run.message.startswith(f"{tasks} candidates, {tasks} new pairs, reduction ratio 0.9")
    assert "rescore" not in run.report  # no matcher yet
    assert candidates_run(run.pk) == "succeeded"  # a redelivered message finds it finished and does nothing
    assert CandidateRun.objects.get(pk=run.pk).attempts == 1


def test_a_dataset_runs_one_at_a_time(shops, lead):
    first = candidate_run_create(dataset=shops.dataset, user=lead, params=SETTINGS)
    with pytest.raises(ConflictError, match=f"Candidate run {first.pk} of this dataset is waiting") as error:
        candidate_run_create(dataset=shops.dataset, user=lead, params={})
    assert error.value.extra == {"run": first.pk}
    candidates_run(first.pk)
    assert candidate_run_create(dataset=shops.dataset, user=lead, params={}).status == "queued"


def test_bad_settings_and_other_kinds_are_refused_before_anything_is_queued(shops, lead):
    with pytest.raises(ApplicationError, match="k must be") as error:
        candidate_run_create(dataset=shops.dataset, user=lead, params={"k": 500})
    assert error.value.extra == {"fields": {"k": ["k must be a whole number from 1 to 100."]}}
    with pytest.raises(ApplicationError, match="for matching and search relevance datasets; in a categorization"):
        candidate_run_create(dataset=DatasetFactory(), user=lead, params={})
    assert not CandidateRun.objects.exists()


def test_a_run_that_cannot_work_fails_with_the_reason(shops, lead):
    run = candidate_run_create(
        dataset=shops.dataset, user=lead, params={"source_field": "merchant", "skip_same_source": True}
    )
    assert candidates_run(run.pk) == "failed"
    run.refresh_from_db()
    assert "at least two sources" in run.message and run.report == {}
    assert not Task.objects.filter(dataset=shops.dataset).exists()


def test_a_cancelled_run_is_not_run_and_a_retry_is_a_new_run_with_its_settings(shops, lead):
    run = candidate_run_create(dataset=shops.dataset, user=lead, params=SETTINGS)
    job_cancel(run, by="lead")
    assert candidates_run(run.pk) == "cancelled"
    assert not Task.objects.filter(dataset=shops.dataset).exists()

    again = candidate_run_retry(run=CandidateRun.objects.get(pk=run.pk), user=lead)

    assert again.pk != run.pk and again.params == CandidateRun.objects.get(pk=run.pk).params
    with pytest.raises(ConflictError, match="waiting"):
        candidate_run_retry(run=again, user=lead)


def test_new_pairs_in_a_dataset_with_an_active_matcher_ask_for_a_rescore(shops, lead):
    ModelVersion.objects.create(dataset=shops.dataset, number=1, status=VersionStatus.SUCCEEDED, is_active=True)
    run = candidate_run_create(dataset=shops.dataset, user=lead, params=SETTINGS)
    candidates_run(run.pk)
    run.refresh_from_db()
    waiting = ModelVersion.objects.get(dataset=shops.dataset, status=VersionStatus.QUEUED)
    assert (waiting.number, waiting.trigger) == (2, "auto")
    assert run.report["rescore"] == {"requested": True, "version": 2}

    # The same settings again add no pair: nothing new to score.
    waiting.delete()
    second = candidate_run_create(dataset=shops.dataset, user=lead, params=SETTINGS)
    candidates_run(second.pk)
    second.refresh_from_db()
    assert second.report["new_pairs"] == 0 and "rescore" not in second.report
    assert not ModelVersion.objects.filter(status=VersionStatus.QUEUED).exists()


def test_the_sweeper_requeues_a_run_whose_worker_died(shops, lead, monkeypatch, settings):
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kwargs: sent.append((name, args)))
    run = candidate_run_create(dataset=shops.dataset, user=lead, params=SETTINGS)
    silent_since = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 60)
    CandidateRun.objects.filter(pk=run.pk).update(status="running", attempts=1, heartbeat_at=silent_since)

    report = jobs_sweep()

    assert report.recovered == [f"candidate run {run.pk}"]
    assert sent == [("workspace.tasks.candidates_run", [run.pk])]
    assert candidates_run(run.pk) == "succeeded"  # and the worker that gets it runs it to the end
