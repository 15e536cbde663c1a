"""Claiming a job: one worker gets it, a duplicate message is ignored, a job whose worker died is resumed or failed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.jobs.lifecycle import job_claim
from config.jobs.models import JobStatus
from labeling.models import QualityReport
from tests.factories import DatasetFactory
from workspace.models import ImportJob, ImportStatus

pytestmark = pytest.mark.django_db


def silent(settings) -> object:
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)


def test_a_queued_job_is_claimed_with_a_fresh_heartbeat_and_a_new_claim_number():
    report = QualityReport.objects.create(dataset=DatasetFactory())
    claimed = job_claim(QualityReport, report.pk)
    assert (claimed.status, claimed.attempts) == (JobStatus.RUNNING, 1)
    assert timezone.now() - claimed.heartbeat_at < timedelta(seconds=5)


def test_a_second_message_for_a_job_with_a_live_worker_is_ignored():
    report = QualityReport.objects.create(dataset=DatasetFactory())
    job_claim(QualityReport, report.pk)
    assert job_claim(QualityReport, report.pk) is None
    report.refresh_from_db()
    assert report.attempts == 1


def test_a_job_whose_worker_went_silent_is_resumed_by_the_next_message(settings):
    report = QualityReport.objects.create(
        dataset=DatasetFactory(), status=JobStatus.RUNNING, attempts=1, heartbeat_at=silent(settings)
    )
    resumed = job_claim(QualityReport, report.pk)
    assert (resumed.status, resumed.attempts, resumed.interruptions) == (JobStatus.RUNNING, 2, 1)
    assert "resumed (1 of" in resumed.message


def test_a_job_interrupted_too_often_is_failed_with_the_reason(settings):
    report = QualityReport.objects.create(
        dataset=DatasetFactory(),
        status=JobStatus.RUNNING,
        attempts=3,
        interruptions=settings.JOB_MAX_INTERRUPTIONS,
        heartbeat_at=silent(settings),
    )
    assert job_claim(QualityReport, report.pk) is None
    report.refresh_from_db()
    assert report.status == JobStatus.FAILED and report.finished_at is not None
    assert "stopped (killed or restarted) 3 times" in report.message


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_a_finished_job_is_not_claimed(status):
    report = QualityReport.objects.create(dataset=DatasetFactory(), status=status)
    assert job_claim(QualityReport, report.pk) is None


def test_a_draft_import_is_not_claimed():
    job = ImportJob.objects.create(dataset=DatasetFactory(), kind="products", status=ImportStatus.DRAFT, file="x.csv")
    assert job_claim(ImportJob, job.pk) is None


def test_a_job_deleted_before_its_message_arrived_is_nothing_to_do():
    assert job_claim(QualityReport, 987654321) is None


def test_a_job_that_must_wait_stays_queued():
    report = QualityReport.objects.create(dataset=DatasetFactory())
    assert job_claim(QualityReport, report.pk, ready=lambda job: False) is None
    report.refresh_from_db()
    assert (report.status, report.attempts) == (JobStatus.QUEUED, 0)
