"""The sweeper: runs in every worker, every JOB_SWEEP_SECONDS, so no job waits for good.

- A running job whose heartbeat is older than JOB_STALE_SECONDS lost its worker (killed, OOM, a
  restart): it goes back to the queue (imports resume after their last batch) or, after
  JOB_MAX_INTERRUPTIONS, fails with the reason.
- A queued job whose message may be lost (a broker restart, a send that failed on the worker side)
  is sent again once it has waited JOB_REDISPATCH_SECONDS; the wait doubles with each re-send (up to
  15 minutes) so a long backlog does not flood the broker. A duplicate message is harmless: the
  claim lets one worker in and the others see a live heartbeat.

Several workers sweep at once safely: rows are taken with SKIP LOCKED and every write re-checks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from config.jobs.dispatch import job_send
from config.jobs.lifecycle import job_recover
from config.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)

MAX_REDISPATCH_WAIT = timedelta(minutes=15)


@dataclass
class SweepReport:
    recovered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)


def job_models() -> list[type[Job]]:
    return [model for model in apps.get_models() if issubclass(model, Job)]


def _locked(queryset: QuerySet[Job]) -> QuerySet[Job]:
    return queryset.select_for_update(skip_locked=True, of=("self",))


def jobs_sweep(*, now: datetime | None = None) -> SweepReport:
    """One pass over every kind of job; returns what it did ("<noun> <id>" each)."""
    now = now or timezone.now()
    report = SweepReport()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    for model in job_models():
        with transaction.atomic():
            silent = Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at=None, started_at__lt=stale_before)
            stale = list(_locked(model.objects.filter(silent, status__in=model.RUNNING_STATES)))
            requeued = [job for job in stale if job_recover(job, now)]
        for job in stale:
            (report.recovered if job in requeued else report.failed).append(f"{job.noun} {job.pk}")
        with transaction.atomic():
            sent_before = now - timedelta(seconds=settings.JOB_REDISPATCH_SECONDS)
            unsent = Q(dispatched_at__lt=sent_before) | Q(dispatched_at=None, created_at__lt=sent_before)
            waiting = list(_locked(model.objects.filter(unsent, status=JobStatus.QUEUED)))
        for job in requeued + [job for job in waiting if _due(job, now)]:
            if job_send(job):
                report.resent.append(f"{job.noun} {job.pk}")
    if report.recovered or report.failed or report.resent:
        logger.info("job sweep: %s", report)
    return report


def _due(job: Job, now: datetime) -> bool:
    """Re-send after waiting at least as long as the job had already waited when last sent (1 min, 2, 4...)."""
    sent = job.dispatched_at or job.created_at
    waited_before = max(sent - job.created_at, timedelta(seconds=settings.JOB_REDISPATCH_SECONDS))
    return now - sent >= min(waited_before, MAX_REDISPATCH_WAIT)
