"""A job's life: claimed by a worker, kept alive by a heartbeat, finished by the claim that still holds;
cancelled or retried by a lead; resumed (or failed) when its worker died.

Every write of a running job is fenced: `UPDATE ... WHERE attempts = <my claim> AND status IN <running>`.
A worker that was presumed dead and replaced, or whose job was cancelled, finds its writes refused and
stops at its next `check()` instead of overwriting the newer state.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from celery import current_task
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import ConflictError
from config.jobs.dispatch import job_enqueue
from config.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)

J = TypeVar("J", bound=Job)

INTERRUPTED = (
    "The worker running this {noun} stopped (killed or restarted) {count} time{s}; it was not resumed again. "
    "Retry it once the cause (memory, a deploy) is dealt with."
)
NOT_RESUMED = "The worker running this {noun} stopped (killed or restarted); a newer request was already waiting."
RESUMED = "Its worker stopped (killed or restarted); resumed ({count} of {limit})."


class JobStopped(Exception):
    """The job was cancelled or taken over by another worker: stop and write nothing more."""


_STATE_WORDS = {"queued": "waiting", "succeeded": "finished", "draft": "a draft", "scoring": "running"}


def job_state(job: Job) -> str:
    """The job's state as a sentence says it: "This export is finished"."""
    return _STATE_WORDS.get(job.status, job.status)


def job_is_stale(job: Job, now: datetime | None = None) -> bool:
    """No sign of life from the worker for longer than JOB_STALE_SECONDS."""
    last = job.heartbeat_at or job.started_at or job.created_at
    return last < (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_SECONDS)


def _may_resume(job: Job) -> bool:
    return job.RESUMABLE and job.interruptions < settings.JOB_MAX_INTERRUPTIONS


def _interrupted_message(job: Job) -> str:
    count = job.interruptions + 1
    return INTERRUPTED.format(noun=job.noun, count=count, s="" if count == 1 else "s")


def worker_name() -> str:
    """This process as an operator finds it: the worker's node name (`celery -A config inspect ... -d <node>`; the
    prefork pool gives it, a solo pool and code outside a task the host name) and the process id."""
    request = current_task.request if current_task else None
    node = getattr(request, "hostname", None) or socket.gethostname()
    return f"{node} pid {os.getpid()}"


def job_claim(job_class: type[J], job_id: int, *, ready: Callable[[J], bool] | None = None) -> J | None:
    """Claim a queued job for this worker, or resume one whose worker died; None when there is nothing to do.

    Nothing to do: the job is gone, finished, a draft, running under a live worker (a duplicate message),
    or `ready` says it must wait (a training run while another runs for the same dataset).
    """
    with transaction.atomic():
        job = job_class.objects.select_for_update(of=("self",)).filter(pk=job_id).first()
        if job is None:
            return None
        now = timezone.now()
        fields = ["status", "attempts", "heartbeat_at", "started_at", "message", "worker"]
        if job.is_running:
            if not job_is_stale(job, now):
                logger.info("%s %s not claimed: it runs on %s (fresh heartbeat)", job.noun, job.pk, job.worker)
                return None
            if not _may_resume(job):
                _give_up(job_class.objects.filter(pk=job.pk), job, now, _interrupted_message(job))
                return None
            job.interruptions += 1
            job.message = RESUMED.format(count=job.interruptions, limit=settings.JOB_MAX_INTERRUPTIONS)
            fields.append("interruptions")
        elif job.status != JobStatus.QUEUED:
            logger.info("%s %s not claimed: it is %s", job.noun, job.pk, job.status)
            return None
        if ready is not None and not ready(job):
            logger.info("%s %s not claimed: not ready (another of its dataset runs)", job.noun, job.pk)
            return None
        job.status = JobStatus.RUNNING
        job.worker = worker_name()
        job.attempts += 1
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.save(update_fields=fields)
    logger.info("%s %s claimed (attempt %s) by %s", job.noun, job.pk, job.attempts, job.worker)
    return job


class JobRun:
    """The worker's hold on a claimed job: a heartbeat thread while it works, and fenced writes.

        with JobRun(job) as run:
            for batch in batches:
                run.check()              # raises JobStopped once the job is cancelled or taken over
                ...
            run.finish(JobStatus.SUCCEEDED, "done")
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.stopped_because = ""
        self._fence = type(job).objects.filter(pk=job.pk, attempts=job.attempts, status__in=job.RUNNING_STATES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {job.noun} {job.pk}", daemon=True)

    def __enter__(self) -> JobRun:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> None:
        if self.stopped_because:
            raise JobStopped(self.stopped_because)

    def update(self, **fields: Any) -> bool:
        """Write fields of the job if this claim still holds; False (and stopped) if it does not."""
        if self._fence.update(**fields):
            return True
        self.stopped_because = self.stopped_because or self._reason() or "the job is no longer this worker's"
        return False

    def finish(self, status: str, message: str, **fields: Any) -> bool:
        now = timezone.now()
        return self.update(status=status, message=message[:5000], finished_at=now, heartbeat_at=now, **fields)

    def fail(self, message: str, **fields: Any) -> bool:
        return self.finish(JobStatus.FAILED, message, **fields)

    def _beat(self) -> None:
        # This thread has its own database connection, closed when it ends.
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    if self._touch():
                        continue
                    reason = self._reason()
                except DatabaseError as error:  # a lock held by a long batch, a dropped connection: next beat
                    logger.warning("heartbeat of %s %s skipped: %s", self.job.noun, self.job.pk, error)
                    continue
                if reason:
                    self.stopped_because = reason
                    return
        finally:
            connection.close()

    def _touch(self) -> bool:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # never wait long behind the worker's own batch lock
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
            return self._fence.update(heartbeat_at=timezone.now()) > 0

    def _reason(self) -> str:
        """Why the claim no longer holds, or "" when the row cannot be seen (not yet committed by a caller)."""
        row = type(self.job).objects.filter(pk=self.job.pk).values("status", "attempts").first()
        if row is None:
            return ""
        if row["status"] == JobStatus.CANCELLED:
            return "cancelled"
        if row["attempts"] != self.job.attempts:
            return "taken over by another worker"
        if row["status"] not in self.job.RUNNING_STATES:
            return f"already {row['status']}"
        return ""


def job_execute(
    job_class: type[J],
    job_id: int,
    work: Callable[[J, JobRun], None],
    *,
    ready: Callable[[J], bool] | None = None,
    on_error: Callable[[Exception], str] = lambda error: f"{type(error).__name__}: {error}",
) -> J | None:
    """Claim the job and run `work(job, run)` under a heartbeat; `work` finishes the job through `run`.

    An unexpected exception fails the job with `on_error(exception)` and is re-raised for the logs; a
    cancelled or taken-over job stops quietly. Returns the job as it is now (None if it is gone).
    """
    job = job_claim(job_class, job_id, ready=ready)
    if job is not None:
        with JobRun(job) as run:
            try:
                work(job, run)
            except JobStopped as stop:
                logger.info("%s %s stopped: %s", job.noun, job.pk, stop)
            except Exception as error:
                logger.exception("%s %s failed", job.noun, job.pk)
                run.fail(on_error(error))
    return job_class.objects.filter(pk=job_id).first()


def job_cancel(job: J, *, by: str) -> J:
    """Cancel a queued or running job. A running one stops at its worker's next check (within a heartbeat)."""
    with transaction.atomic():
        job = type(job).objects.select_for_update().get(pk=job.pk)
        if not job.can_cancel:
            state = job_state(job)
            raise ConflictError(f"This {job.noun} is {state}; only a waiting or running one can be cancelled.")
        was_running = job.is_running
        job.status = JobStatus.CANCELLED
        job.finished_at = timezone.now()
        job.message = f"Cancelled by {by} " + (
            "while it ran; what it finished before it stopped is kept." if was_running else "before it started."
        )
        job.save(update_fields=["status", "finished_at", "message"])
    return job


def job_requeue(job: J) -> J:
    """Queue a failed or cancelled job again, the same row (an import resumes after its last batch)."""
    with transaction.atomic():
        job = type(job).objects.select_for_update().get(pk=job.pk)
        if not job.can_retry:
            state = job_state(job)
            raise ConflictError(f"This {job.noun} is {state}; only a failed or cancelled one can be retried.")
        before = {"status": job.status, "message": job.message, "finished_at": job.finished_at}
        job.status = JobStatus.QUEUED
        job.message = ""
        job.started_at = job.finished_at = job.heartbeat_at = None
        job.interruptions = 0
        job.dispatched_at = timezone.now()
        job.save(
            update_fields=["status", "message", "started_at", "finished_at", "heartbeat_at", "interruptions",
                           "dispatched_at"]
        )
        job_enqueue(job, on_refused=lambda: type(job).objects.filter(pk=job.pk).update(**before))
    return job


def job_recover(job: Job, now: datetime) -> bool:
    """The sweeper's part for a running job whose heartbeat went stale: queue it again, or fail it.

    True if it went back to the queue (the caller sends it). A job that cannot be queued again because a
    newer one of its kind waits (one queued run per dataset) is failed instead.
    """
    job_class = type(job)
    stale = job_class.objects.filter(
        pk=job.pk, attempts=job.attempts, status__in=job.RUNNING_STATES, heartbeat_at=job.heartbeat_at
    )
    if _may_resume(job):
        try:
            with transaction.atomic():
                count = job.interruptions + 1
                message = RESUMED.format(count=count, limit=settings.JOB_MAX_INTERRUPTIONS)
                return bool(stale.update(status=JobStatus.QUEUED, interruptions=count, message=message))
        except IntegrityError:
            message = NOT_RESUMED.format(noun=job.noun)
    else:
        message = _interrupted_message(job)
    _give_up(stale, job, now, message)
    return False


def _give_up(rows: QuerySet[Job], job: Job, now: datetime, message: str) -> None:
    """Fail a job whose worker died, counting that interruption too."""
    rows.update(status=JobStatus.FAILED, interruptions=job.interruptions + 1, message=message[:5000], finished_at=now)
