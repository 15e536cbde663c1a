"""A running job: its heartbeat, and a worker that lost it (cancelled, or taken over) writes nothing more."""

import time

import pytest

from config.jobs.lifecycle import JobRun, JobStopped, job_cancel, job_claim
from config.jobs.models import JobStatus
from labeling.models import QualityReport
from tests.factories import DatasetFactory


def claimed() -> QualityReport:
    report = QualityReport.objects.create(dataset=DatasetFactory())
    return job_claim(QualityReport, report.pk)


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_moves_while_the_work_runs(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.1
    job = claimed()
    with JobRun(job):
        assert wait_for(lambda: QualityReport.objects.get(pk=job.pk).heartbeat_at > job.heartbeat_at)


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_job_stops_at_the_next_check(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.1
    job = claimed()
    with JobRun(job) as run:
        job_cancel(job, by="lead")
        assert wait_for(lambda: run.stopped_because == "cancelled")
        with pytest.raises(JobStopped):
            run.check()
        assert not run.finish(JobStatus.SUCCEEDED, "done")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and "Cancelled by lead while it ran" in job.message


@pytest.mark.django_db
def test_a_worker_whose_job_was_taken_over_cannot_write_its_result():
    job = claimed()
    QualityReport.objects.filter(pk=job.pk).update(attempts=2)  # another worker claimed it since
    with JobRun(job) as run:
        assert not run.finish(JobStatus.SUCCEEDED, "done", figures={"answers": 1})
        assert run.stopped_because == "taken over by another worker"
    job.refresh_from_db()
    assert (job.status, job.figures) == (JobStatus.RUNNING, {})


@pytest.mark.django_db
def test_finishing_records_the_result_and_the_time():
    job = claimed()
    with JobRun(job) as run:
        assert run.finish(JobStatus.SUCCEEDED, "", figures={"answers": 1})
    job.refresh_from_db()
    assert (job.status, job.figures) == (JobStatus.SUCCEEDED, {"answers": 1}) and job.finished_at
