"""The jobs that carry files in and out of a dataset: imports (with their rejected rows) and export snapshots."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.jobs.models import Job, JobStatus
from datasets.models import Dataset, Role
from labeling.resolve import LabelPolicy


class ImportKind(models.TextChoices):
    PRODUCTS = "products", "Products"
    TAXONOMY = "taxonomy", "Taxonomy"
    LABELSTUDIO = "labelstudio", "Label Studio export (tasks with annotations)"
    PRODIGY = "prodigy", "Prodigy JSONL (text, label/accept, answer)"
    PAIRS = "pairs", "Product pairs (left_* and right_* columns, optional label)"
    QUERIES = "queries", "Search queries (query_id, query, optional locale, weight)"
    JUDGMENTS = "judgments", "Relevance judgments (query_id, product_id, grade)"
    PRODIGY_SPANS = "prodigy_spans", "Prodigy span JSONL (text, spans, answer)"


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
    task_name = "workspace.tasks.import_job_run_task"
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
    DITTO = "ditto", "Ditto text (pairs)"
    QRELS = "qrels", "TREC qrels (judgments)"
    CLUSTERS_CSV = "clusters_csv", "Product clusters (CSV)"
    CLUSTERS_JSONL = "clusters_jsonl", "Product clusters (JSON Lines)"
    SPACY_NER = "spacy_ner", "spaCy NER DocBin (.spacy: ents and spans)"
    PRODIGY = "prodigy", "Prodigy spans (JSON Lines)"
    CONLL = "conll", "CoNLL IOB (spans)"
    LABELSTUDIO_SPANS = "labelstudio_spans", "Label Studio JSON (spans)"


# The states of every job; the name stays for the readers of exports.
ExportStatus = JobStatus


class Export(Job):
    """A versioned snapshot: the parameters, and once built, the stored file with its row count and sha256.

    The file is written once and never rewritten, so a snapshot downloads byte-identical later.
    """

    task_name = "workspace.tasks.export_run_task"
    noun = "export"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=24, choices=ExportFormat.choices)
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


class CandidateRun(Job):
    """One run of candidate generation for a dataset, its settings, its progress, its report: blocking for a
    matching dataset (`params` BlockingConfig.to_dict, phases read, block, write), BM25 and pooling for a
    relevance dataset (`params` depth and pool, phases read, rank, write).

    A run's pairs are tasks of the dataset once written; running the same settings again adds none.
    """

    task_name = "workspace.tasks.candidates_run"
    noun = "candidate run"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="candidate_runs")
    params = models.JSONField(default=dict, help_text="The blocking settings (BlockingConfig.to_dict).")
    report = models.JSONField(default=dict, blank=True)
    phase = models.CharField(max_length=16, blank=True, help_text="read, block or write while it runs.")
    fraction = models.FloatField(default=0.0, help_text="How far the current phase got, 0 to 1.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run per dataset at a time: two would block the same products and race on the same pairs.
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(status__in=["queued", "running"]), name="candidaterun_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"candidate run {self.pk} of {self.dataset_id} ({self.status})"

    @property
    def progress(self) -> float:
        """Overall progress: reading, blocking and writing weighed by their usual share of the time."""
        if self.status == JobStatus.SUCCEEDED:
            return 1.0
        done, weight = CANDIDATE_PHASES.get(self.phase, (0.0, 0.0))
        return min(0.99, done + weight * self.fraction)


# Where each phase starts in a run's overall progress, and its share of it (matching blocks, relevance ranks).
CANDIDATE_PHASES = {"read": (0.0, 0.15), "block": (0.15, 0.55), "rank": (0.15, 0.55), "write": (0.7, 0.3)}


class Invite(models.Model):
    """A link a lead hands out that creates one account and makes it a member of the dataset with the role.

    The link carries this row's id signed with a timestamp (`workspace/services/invites.py`): the signature keeps
    ids from being guessed, its age ends the link, `used_at` keeps it to one person (a new account or an existing
    one joining), and `withdrawn_at` is a lead taking it back before anyone used it.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True, help_text="Set once: the link is spent from then on.")
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="Set once, by a lead: the link is refused from then on."
    )

    def __str__(self) -> str:
        return f"invite {self.pk} to {self.dataset_id} as {self.role}"

    @property
    def expires_at(self):
        return self.created_at + settings.INVITE_MAX_AGE
