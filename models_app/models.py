from django.conf import settings
from django.db import models
from django.db.models import Q

from config.jobs.models import Job, JobStatus
from datasets.models import Dataset


class VersionStatus(models.TextChoices):
    QUEUED = JobStatus.QUEUED.value, JobStatus.QUEUED.label
    RUNNING = JobStatus.RUNNING.value, "Training"
    SCORING = "scoring", "Rescoring products"
    SUCCEEDED = JobStatus.SUCCEEDED.value, JobStatus.SUCCEEDED.label
    FAILED = JobStatus.FAILED.value, JobStatus.FAILED.label
    CANCELLED = JobStatus.CANCELLED.value, JobStatus.CANCELLED.label


class TrainingTrigger(models.TextChoices):
    AUTO = "auto", "After new labels"
    MANUAL = "manual", "On demand"


class ModelVersion(Job):
    """One training run of a dataset's categorizer. Once finished, nothing about it changes but `is_active`."""

    task_name = "models_app.tasks.train_model_task"
    noun = "training run"
    RUNNING_STATES = (VersionStatus.RUNNING, VersionStatus.SCORING)

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="model_versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.QUEUED)
    trigger = models.CharField(max_length=16, choices=TrainingTrigger.choices, default=TrainingTrigger.MANUAL)
    is_active = models.BooleanField(default=False, help_text="The version whose suggestions the queue uses.")
    config = models.JSONField(default=dict)
    label_count = models.PositiveIntegerField(default=0)
    last_annotation_id = models.BigIntegerField(default=0, help_text="Newest annotation the training saw.")
    split = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    artifact = models.FileField(upload_to="models/%Y/%m/", blank=True)
    scored_count = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="modelversion_unique_number"),
            models.UniqueConstraint(fields=["dataset"], condition=Q(is_active=True), name="modelversion_one_active"),
            # Coalescing: at most one run waits and one runs per dataset.
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(status="queued"), name="modelversion_one_queued"
            ),
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(status__in=["running", "scoring"]), name="modelversion_one_running"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number} ({self.status})"


# The states of every job; the name stays for the readers of experiments.
ExperimentStatus = JobStatus


class Experiment(Job):
    """A comparison of featurization configs by cross-validation on the dataset's labels, run in the worker."""

    task_name = "models_app.tasks.run_experiment_task"
    noun = "experiment"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="experiments")
    configs = models.JSONField(default=dict, help_text="{name: model config}, resolved when requested.")
    folds = models.PositiveSmallIntegerField(default=5)
    seed = models.PositiveIntegerField(default=0, help_text="Seeds the fold assignment, the same for every config.")
    label_count = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True, help_text="One entry per config, best mean accuracy first.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(folds__gte=2, folds__lte=10), name="experiment_folds_2_to_10"),
            # Cross-validating several configs is the heaviest job there is: one at a time per dataset.
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(status__in=["queued", "running"]), name="experiment_one_unfinished"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} experiment {self.pk} ({self.status})"
