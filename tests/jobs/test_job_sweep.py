"""The sweeper: jobs whose worker died go back to the queue (or fail), lost messages are sent again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.jobs.models import JobStatus
from config.jobs.sweeper import jobs_sweep
from labeling.models import QualityReport
from models_app.models import ModelVersion, VersionStatus
from tests.factories import DatasetFactory
from workspace.models import Export

pytestmark = pytest.mark.django_db


def ago(seconds: float) -> object:
    return timezone.now() - timedelta(seconds=seconds)


def export(**fields) -> Export:
    return Export.objects.create(dataset=fields.pop("dataset", None) or DatasetFactory(), format="jsonl", **fields)


def test_a_running_job_with_a_stale_heartbeat_goes_back_to_the_queue_and_is_sent(settings, sent):
    stuck = export(status=JobStatus.RUNNING, attempts=1, heartbeat_at=ago(settings.JOB_STALE_SECONDS + 5))
    report = jobs_sweep()
    stuck.refresh_from_db()
    assert (stuck.status, stuck.interruptions) == (JobStatus.QUEUED, 1)
    assert report.recovered == [f"export {stuck.pk}"]
    assert sent == [(Export.task_name, [stuck.pk])]


def test_a_running_job_with_a_live_heartbeat_is_left_alone(settings, sent):
    alive = export(status=JobStatus.RUNNING, attempts=1, heartbeat_at=ago(settings.JOB_STALE_SECONDS - 5))
    jobs_sweep()
    alive.refresh_from_db()
    assert alive.status == JobStatus.RUNNING and sent == []


def test_a_job_interrupted_too_often_is_failed(settings, sent):
    stuck = export(
        status=JobStatus.RUNNING,
        attempts=3,
        interruptions=settings.JOB_MAX_INTERRUPTIONS,
        heartbeat_at=ago(settings.JOB_STALE_SECONDS + 5),
    )
    report = jobs_sweep()
    stuck.refresh_from_db()
    assert stuck.status == JobStatus.FAILED and "3 times" in stuck.message
    assert report.failed == [f"export {stuck.pk}"] and sent == []


def test_a_stuck_training_run_fails_when_a_newer_one_waits_and_the_waiting_one_is_sent(settings, sent):
    dataset = DatasetFactory()
    stale = ago(settings.JOB_STALE_SECONDS + 5)
    stuck = ModelVersion.objects.create(
        dataset=dataset, number=1, status=VersionStatus.SCORING, attempts=1, heartbeat_at=stale
    )
    waiting = ModelVersion.objects.create(dataset=dataset, number=2, dispatched_at=ago(600))
    jobs_sweep()
    stuck.refresh_from_db()
    assert stuck.status == VersionStatus.FAILED and "newer request was already waiting" in stuck.message
    assert sent == [(ModelVersion.task_name, [waiting.pk])]


def test_a_job_running_since_before_heartbeats_existed_is_recovered(settings, sent):
    legacy = export(status=JobStatus.RUNNING, started_at=ago(settings.JOB_STALE_SECONDS + 5), heartbeat_at=None)
    jobs_sweep()
    legacy.refresh_from_db()
    assert legacy.status == JobStatus.QUEUED


def test_a_queued_job_whose_message_may_be_lost_is_sent_again(settings, sent):
    sent_at = ago(settings.JOB_REDISPATCH_SECONDS + 1)
    lost = QualityReport.objects.create(dataset=DatasetFactory(), dispatched_at=sent_at)
    report = jobs_sweep()
    lost.refresh_from_db()
    assert report.resent == [f"quality report {lost.pk}"]
    assert timezone.now() - lost.dispatched_at < timedelta(seconds=5)


def test_a_recently_sent_job_is_not_sent_again(settings, sent):
    QualityReport.objects.create(dataset=DatasetFactory(), dispatched_at=ago(settings.JOB_REDISPATCH_SECONDS - 5))
    jobs_sweep()
    assert sent == []


def test_re_sends_back_off_as_a_job_keeps_waiting(settings, sent):
    # Created 10 minutes ago and last sent 2 minutes ago, after waiting 8: the next send comes 8 minutes after it.
    waiting = QualityReport.objects.create(dataset=DatasetFactory())
    QualityReport.objects.filter(pk=waiting.pk).update(created_at=ago(600), dispatched_at=ago(120))
    jobs_sweep()
    assert sent == []
    jobs_sweep(now=timezone.now() + timedelta(minutes=6))
    assert sent == [(QualityReport.task_name, [waiting.pk])]
