from django.conf import settings
from django.db import models
from django.db.models import Q

from config.jobs.models import Job, JobStatus


class TaskType(models.TextChoices):
    CATEGORIZATION = "categorization", "Product categorization"


class UncertaintyStrategy(models.TextChoices):
    MARGIN = "margin", "Margin"
    ENTROPY = "entropy", "Entropy"
    LEAST_CONFIDENCE = "least_confidence", "Least confidence"


class Dataset(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    task_type = models.CharField(max_length=32, choices=TaskType.choices, default=TaskType.CATEGORIZATION)
    overlap = models.PositiveSmallIntegerField(default=1, help_text="Annotations each task needs.")
    gold_fraction = models.FloatField(default=0.0, help_text="Share of served tasks that are gold items.")
    gold_warmup = models.PositiveSmallIntegerField(
        default=3, help_text="A new annotator's first answers go to gold items (when there are any), unannounced."
    )
    random_fraction = models.FloatField(
        default=0.1, help_text="Share of tasks served in random order, for unbiased estimates."
    )
    uncertainty_strategy = models.CharField(
        max_length=32, choices=UncertaintyStrategy.choices, default=UncertaintyStrategy.MARGIN
    )
    show_suggestions = models.BooleanField(default=True)
    suggestion_hide_fraction = models.FloatField(
        default=0.0, help_text="Share of tasks shown without suggestions, to measure how much they sway annotators."
    )
    retrain_every = models.PositiveIntegerField(
        default=50, help_text="Train a new model after this many new labels (0: only on demand)."
    )
    cold_start_examples = models.PositiveSmallIntegerField(
        default=3, help_text="Serve in random order until every label seen has this many examples."
    )
    model_config = models.JSONField(default=dict, blank=True, help_text="Featurization and classifier settings.")
    lease_minutes = models.PositiveSmallIntegerField(default=10)
    seed = models.PositiveIntegerField(default=1, help_text="Seeds the random order of the queue.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="dataset_overlap_positive"),
            models.CheckConstraint(
                condition=Q(gold_fraction__gte=0, gold_fraction__lte=1), name="dataset_gold_fraction_range"
            ),
            models.CheckConstraint(
                condition=Q(random_fraction__gte=0, random_fraction__lte=1), name="dataset_random_fraction_range"
            ),
            models.CheckConstraint(condition=Q(lease_minutes__gte=1), name="dataset_lease_minutes_positive"),
            models.CheckConstraint(
                condition=Q(suggestion_hide_fraction__gte=0, suggestion_hide_fraction__lte=1),
                name="dataset_hide_fraction_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    LEAD = "lead", "Lead"


class Membership(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.dataset}"


class Label(models.Model):
    """A node of the dataset's taxonomy; a flat label list is a taxonomy of roots."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="labels")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    name = models.CharField(max_length=255)
    path = models.CharField(max_length=2800, help_text="Full path, levels joined by ' > '.")
    code = models.CharField(max_length=255, blank=True, help_text="The category's id in the source taxonomy.")
    depth = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "path"], name="label_unique_path"),
            models.UniqueConstraint(fields=["dataset", "code"], condition=~Q(code=""), name="label_unique_code"),
        ]

    def __str__(self) -> str:
        return self.path


class Product(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(max_length=255)
    title = models.CharField(max_length=1000)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    image_url = models.CharField(max_length=2048, blank=True)
    url = models.CharField(max_length=2048, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "external_id"], name="product_unique_external_id"),
            models.CheckConstraint(condition=~Q(title=""), name="product_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class ImportKind(models.TextChoices):
    PRODUCTS = "products", "Products"
    TAXONOMY = "taxonomy", "Taxonomy"
    LABELSTUDIO = "labelstudio", "Label Studio export (tasks with annotations)"
    PRODIGY = "prodigy", "Prodigy JSONL (text, label/accept, answer)"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Waiting for column mapping"
    QUEUED = JobStatus.QUEUED.value, JobStatus.QUEUED.label
    RUNNING = JobStatus.RUNNING.value, JobStatus.RUNNING.label
    SUCCEEDED = JobStatus.SUCCEEDED.value, JobStatus.SUCCEEDED.label
    FAILED = JobStatus.FAILED.value, JobStatus.FAILED.label
    CANCELLED = JobStatus.CANCELLED.value, JobStatus.CANCELLED.label


# ImportJob.outcome of a finished import that rejected rows (derived: the status stays "succeeded").
IMPORT_SUCCEEDED_WITH_REJECTIONS = "succeeded_with_rejections"


class ImportJob(Job):
    task_name = "datasets.tasks.import_job_run_task"
    noun = "import"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    options = models.JSONField(default=dict, blank=True)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    records_done = models.BigIntegerField(default=0, help_text="Records committed; a resumed job skips them.")
    created_count = models.BigIntegerField(default=0)
    updated_count = models.BigIntegerField(default=0)
    error_count = models.BigIntegerField(default=0)
    label_count = models.BigIntegerField(default=0)
    lines_read = models.BigIntegerField(
        default=0, help_text="Physical lines of a product file read so far (items of a JSON array)."
    )
    lines_skipped = models.BigIntegerField(
        default=0,
        help_text="Lines that hold no record: header, blank lines, the later lines of multi-line records. "
        "created + updated + rejected + skipped = read.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import {self.filename} ({self.status})"

    @property
    def outcome(self) -> str:
        """The status as people should read it: an import that rejected rows is no plain success."""
        if self.status == ImportStatus.SUCCEEDED and self.error_count:
            return IMPORT_SUCCEEDED_WITH_REJECTIONS
        return self.status

    @property
    def outcome_display(self) -> str:
        if self.outcome == IMPORT_SUCCEEDED_WITH_REJECTIONS:
            return f"Finished with {self.error_count:,} rejected row{'' if self.error_count == 1 else 's'}"
        return self.get_status_display()

    @property
    def progress(self) -> float:
        if self.status == ImportStatus.SUCCEEDED:
            return 1.0
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 0.0

    @property
    def can_cancel(self) -> bool:
        return self.status == ImportStatus.DRAFT or super().can_cancel


class ImportRowError(models.Model):
    """A rejected row, committed with the batch it belongs to so a resumed job keeps its report."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    line_end = models.PositiveIntegerField(
        null=True, blank=True, help_text="Last line of a broken record that ran over several; null: just `line`."
    )
    external_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["job", "line", "id"]

    def __str__(self) -> str:
        return f"{self.lines}: {self.reason}"

    @property
    def lines(self) -> str:
        """'line 7', or 'lines 3-47' for a record that covered several."""
        if self.line_end and self.line_end != self.line:
            return f"lines {self.line}-{self.line_end}"
        return f"line {self.line}"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"
    JSON = "json", "JSON"
    SPACY = "spacy", "spaCy DocBin (.spacy)"
    PARQUET = "parquet", "Parquet"
    LABELSTUDIO = "labelstudio", "Label Studio JSON"


class LabelPolicy(models.TextChoices):
    FINAL = "final", "Final labels (gold, reviewed or agreed)"
    MAJORITY = "majority", "Majority vote with a minimum agreement"
    RAW = "raw", "Every annotation with its annotator"


# The states of every job; the name stays for the readers of exports.
ExportStatus = JobStatus


class Export(Job):
    """A versioned snapshot: the parameters, and once built, the stored file with its row count and sha256.

    The file is written once and never rewritten, so a snapshot downloads byte-identical later.
    """

    task_name = "datasets.tasks.export_run_task"
    noun = "export"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=16, choices=ExportFormat.choices)
    policy = models.CharField(max_length=16, choices=LabelPolicy.choices, default=LabelPolicy.FINAL)
    params = models.JSONField(default=dict, help_text="Every parameter that shapes the file, split and seed included.")
    file = models.FileField(upload_to="exports/", blank=True, max_length=500)
    filename = models.CharField(max_length=255, blank=True)
    row_count = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(default=0, help_text="Estimated when the build starts, for progress.")
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    split_counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="succeeded") | (~Q(sha256="") & ~Q(file="")), name="export_ready_has_file"
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.dataset_id}: {self.format}, {self.policy} ({self.status})"

    @property
    def progress(self) -> float:
        if self.status == ExportStatus.SUCCEEDED:
            return 1.0
        return min(0.99, self.rows_done / self.rows_total) if self.rows_total else 0.0
