"""Sending jobs to the workers.

A request creates the job row and sends its message once the row is committed. If the broker
refuses, the request answers 503 and the row is withdrawn (deleted, with what it stored), so nothing
waits for a worker that will never come. A send from the worker side (the sweeper, the next training
run) that fails is only logged: the row stays queued and the sweeper sends it again later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import FileField
from django.utils import timezone

from config.errors import ServiceUnavailableError
from config.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)

UNAVAILABLE = (
    "The job queue is not reachable right now, so the {noun} was not started and nothing was saved. "
    "Try again in a minute; if it keeps failing, the broker (Redis) or its settings need attention."
)
STILL_WAITING = (
    "The job queue is not reachable right now; the {noun} already waiting stays queued and starts once it is back."
)


def _send(job_class: type[Job], job_id: int) -> None:
    current_app.send_task(job_class.task_name, args=[job_id])


def job_enqueue(job: Job, *, on_refused: Callable[[], object] | None = None) -> None:
    """Send the job to the workers when the current transaction commits.

    If the broker refuses, `on_refused()` undoes the request (by default the job is withdrawn: its row
    and the files it stored are deleted) and ServiceUnavailableError is raised, which the API answers
    with a 503 and the pages show as a message.
    """
    undo = on_refused or partial(_withdraw, type(job), job.pk)
    transaction.on_commit(partial(_send_or_undo, type(job), job.pk, undo))


def _withdraw(job_class: type[Job], job_id: int) -> None:
    job = job_class.objects.filter(pk=job_id).first()
    if job is None:
        return
    files = [getattr(job, field.name) for field in job._meta.fields if isinstance(field, FileField)]
    job.delete()
    for file in files:
        if file:
            file.storage.delete(file.name)


def _send_or_undo(job_class: type[Job], job_id: int, undo: Callable[[], object]) -> None:
    try:
        _send(job_class, job_id)
    except Exception as error:
        logger.warning("could not send %s %s to the broker: %s", job_class.noun, job_id, error)
        undo()
        raise ServiceUnavailableError(UNAVAILABLE.format(noun=job_class.noun)) from error


def job_nudge(job: Job) -> None:
    """A request joins a job that is already queued: re-send it if it has waited long, so a lost message
    cannot keep every later request waiting. A refusal answers 503; the job stays for the sweeper."""
    waited = timezone.now() - (job.dispatched_at or job.created_at)
    if job.status != JobStatus.QUEUED or waited.total_seconds() < settings.JOB_REDISPATCH_SECONDS:
        return
    type(job).objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(dispatched_at=timezone.now())
    transaction.on_commit(partial(_send_or_refuse, type(job), job.pk))


def _send_or_refuse(job_class: type[Job], job_id: int) -> None:
    try:
        _send(job_class, job_id)
    except Exception as error:
        logger.warning("could not re-send %s %s to the broker: %s", job_class.noun, job_id, error)
        raise ServiceUnavailableError(STILL_WAITING.format(noun=job_class.noun)) from error


def job_send(job: Job) -> bool:
    """Send a queued job now, from the worker side; False (logged) if the broker refused."""
    type(job).objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(dispatched_at=timezone.now())
    try:
        _send(type(job), job.pk)
    except Exception as error:
        logger.warning("could not send %s %s: %s; the sweeper will try again", job.noun, job.pk, error)
        return False
    return True
