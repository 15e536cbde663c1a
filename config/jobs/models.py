"""What every background job shares (imports, exports, training runs, experiments, quality reports).

A job is a row first and a broker message second: the row says what to do and how far it got, the
message only wakes a worker. A worker claims the row (its claim number fences out any older claim),
beats a heartbeat while it works, and writes its result only if its claim still holds. The sweeper
in every worker re-sends queued jobs whose message may be lost and resumes (or fails) running jobs
whose heartbeat stopped.
"""

from typing import ClassVar

from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Job(models.Model):
    # The Celery task that runs a job of this kind, given its id.
    task_name: ClassVar[str]
    # A noun for messages: "import", "export", "training run"...
    noun: ClassVar[str] = "job"
    RUNNING_STATES: ClassVar[tuple[str, ...]] = (JobStatus.RUNNING,)
    FINISHED_STATES: ClassVar[tuple[str, ...]] = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
    # A job whose worker died goes back to the queue (True) or fails with the reason (False).
    RESUMABLE: ClassVar[bool] = True

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker running it; a stale one means it died."
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="Claims by a worker so far; only the newest claim may write the result."
    )
    interruptions = models.PositiveSmallIntegerField(default=0, help_text="Times its worker stopped mid-run.")
    worker = models.CharField(
        max_length=255,
        blank=True,
        help_text="The worker holding the newest claim (Celery node name and process id); with several workers, "
        "where to look for its logs.",
    )
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        help_text="When it was last sent to the workers; a queued job waiting long is re-sent.",
    )

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATES

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING_STATES

    @property
    def can_cancel(self) -> bool:
        return self.status == JobStatus.QUEUED or self.is_running

    @property
    def can_retry(self) -> bool:
        return self.status in (JobStatus.FAILED, JobStatus.CANCELLED)
