from django.conf import settings
from django.db import models
from django.db.models import Q

from config.jobs.models import Job, JobStatus
from datasets.models import Dataset, Label, Product


class Task(models.Model):
    """A unit of queue work: one product (categorization), or several products in roles (a pair to match).

    A single-product task names its product; a multi-item task has no `product`, its products are `TaskItem`
    rows and `item_key` (the products' ids in order, whatever their roles) keeps it unique in the dataset.
    """

    # No single-column indexes of their own: task_unique_product leads with the dataset, and the product and
    # gold label are indexed only where set (a pair task has no product, most tasks no gold label). Each index
    # a task does not need is a write per task that a million generated pairs pay for nothing.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    item_key = models.CharField(
        max_length=64, null=True, blank=True, help_text="A multi-item task's product ids, sorted: '12:45'."
    )
    attributes = models.JSONField(
        null=True, blank=True, help_text="What an imported multi-item task brings besides its products (a split)."
    )
    is_gold = models.BooleanField(default=False)
    gold_label = models.ForeignKey(
        Label, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    gold_since = models.DateTimeField(
        null=True, blank=True, help_text="When it became gold: only answers given since measure accuracy."
    )
    annotation_count = models.PositiveIntegerField(default=0, help_text="Submitted annotations, imports included.")
    is_complete = models.BooleanField(default=False)
    priority = models.FloatField(default=0.0, help_text="Higher is served first (active learning).")
    random_key = models.BigIntegerField(help_text="Seeded random order for ties and cold start.")
    suggestions = models.JSONField(
        null=True, blank=True, help_text="The active model's top labels: [[label_id, probability], ...]."
    )
    uncertainty = models.FloatField(null=True, blank=True, help_text="Higher is less certain; 0-1.")
    needs_review = models.BooleanField(
        # db_default too: the bulk paths INSERT tasks in SQL (COPY staging, benchmarks) without naming it.
        default=False,
        db_default=False,
        help_text="Its answers disagree or one is flagged, and no reviewer has decided yet."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "product"], name="task_unique_product"),
            models.UniqueConstraint(
                fields=["dataset", "item_key"], condition=Q(item_key__isnull=False), name="task_unique_items"
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=False, item_key=None) | Q(product=None, item_key__isnull=False),
                name="task_product_or_items",
            ),
            models.CheckConstraint(condition=~Q(is_gold=True, gold_label=None), name="task_gold_has_label"),
        ]
        indexes = [
            # The queue's two orders read only open tasks: partial indexes stay small as work completes.
            models.Index(
                fields=["dataset", "-priority", "random_key"],
                condition=Q(is_complete=False),
                name="task_queue_priority",
            ),
            models.Index(fields=["dataset", "random_key"], condition=Q(is_complete=False), name="task_queue_random"),
            models.Index(fields=["dataset", "random_key"], condition=Q(is_gold=True), name="task_queue_gold"),
            # The review queue: a handful of tasks among a million, found without a scan.
            models.Index(fields=["dataset", "id"], condition=Q(needs_review=True), name="task_review_queue"),
            # What a product's or a label's deletion looks up (cascade, protect): `product_id IN (...)` implies
            # NOT NULL, so PostgreSQL uses these partial indexes for it.
            models.Index(fields=["product"], condition=Q(product__isnull=False), name="task_product"),
            models.Index(fields=["gold_label"], condition=Q(gold_label__isnull=False), name="task_gold_label"),
        ]

    def __str__(self) -> str:
        return f"task {self.pk} ({self.product_id or self.item_key})"


class TaskItem(models.Model):
    """A product of a multi-item task in its role ("left", "right"); the roles are the task kind's."""

    # No index of their own: (task, role)'s unique index leads with the task and task_item_product serves the
    # product; each extra index is one more write per item, and blocking writes millions of them.
    # No database constraint either: PostgreSQL checks a foreign key by locking the row it points to, so each
    # generated pair locked its task and both products once more (FOR KEY SHARE, a WAL record each, and shared
    # locks of two writers on one product row turn into multixacts): a third of the cost of writing 1M pairs
    # (bench P6). Items are written only with their task, in the same statement or transaction, from products
    # checked to be the dataset's; products and tasks are deleted only through the ORM (a dataset's deletion),
    # whose collector cascades to items whatever the database enforces.
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="items", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="task_items", db_index=False, db_constraint=False
    )
    role = models.CharField(max_length=16)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "role"], name="task_item_unique_role")]
        # Every pair a product is in: for the product's page, and for deletes that cascade.
        indexes = [models.Index(fields=["product"], name="task_item_product")]

    def __str__(self) -> str:
        return f"{self.role} of task {self.task_id}: product {self.product_id}"


class Lease(models.Model):
    """A task handed to one annotator until expires_at; expired leases free the slot."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="leases")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leases")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="lease_unique_user")]
        indexes = [models.Index(fields=["dataset", "user"], name="lease_dataset_user")]

    def __str__(self) -> str:
        return f"lease of task {self.task_id} to user {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class AnnotationStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"


class LabelSource(models.TextChoices):
    HUMAN = "human", "Human"
    IMPORT = "import", "Import"
    REVIEW = "review", "Review"
    MODEL = "model", "Model"


class Annotation(models.Model):
    """The current answer of one annotator (or one import source) for one task."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="annotations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="annotations"
    )
    status = models.CharField(max_length=16, choices=AnnotationStatus.choices, default=AnnotationStatus.SUBMITTED)
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="annotations")
    flagged = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=LabelSource.choices, default=LabelSource.HUMAN)
    source_name = models.CharField(max_length=100, blank=True)
    active_seconds = models.FloatField(null=True, blank=True)
    suggestions_shown = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="annotation_unique_user"),
            models.UniqueConstraint(
                fields=["task", "source_name"], condition=Q(user=None), name="annotation_unique_import_source"
            ),
            models.CheckConstraint(
                condition=~Q(status=AnnotationStatus.SKIPPED) | Q(label=None), name="annotation_skip_has_no_label"
            ),
            models.CheckConstraint(
                condition=~Q(status=AnnotationStatus.SUBMITTED) | ~Q(label=None) | Q(flagged=True),
                name="annotation_submit_has_label_or_flag",
            ),
            models.CheckConstraint(
                condition=Q(active_seconds=None) | Q(active_seconds__gte=0), name="annotation_seconds_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["dataset", "user", "-updated_at"], name="annotation_user_recent"),
            models.Index(fields=["dataset", "created_at"], name="annotation_dataset_time"),
            models.Index(fields=["dataset", "-updated_at"], name="annotation_dataset_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.status} task {self.task_id} by {self.user_id or self.source_name}: label {self.label_id}"


class Review(models.Model):
    """A reviewer's decision on a task: its final label, above the annotators' votes, in exports and training.

    One per task, changed in place when a task is reviewed again; every decision is also a LabelEvent.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="review")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"review of task {self.task_id}: label {self.label_id}"


class EventAction(models.TextChoices):
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    SKIP = "skip", "Skip"
    UNDO = "undo", "Undo"
    IMPORT = "import", "Import"
    REVIEW = "review", "Review"


class LabelEvent(models.Model):
    """Append-only history of every label change; the database refuses updates (and deletes on PostgreSQL)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=16, choices=EventAction.choices)
    old_label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    new_label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    flagged = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=LabelSource.choices, default=LabelSource.HUMAN)
    source_name = models.CharField(max_length=100, blank=True)
    annotation_id = models.BigIntegerField(null=True, blank=True, help_text="Not a key: undo removes annotations.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at"], name="labelevent_task_time")]

    def __str__(self) -> str:
        return f"{self.action} task {self.task_id}: {self.old_label_id} -> {self.new_label_id}"


# The states of every job; the name stays for the readers of quality reports.
QualityStatus = JobStatus


class QualityReport(Job):
    """Agreement, annotators, gold and activity figures of a dataset, computed in the worker at one moment.

    The dashboard shows the latest ready report, so a page never aggregates a million answers itself.
    """

    task_name = "labeling.tasks.quality_report_task"
    noun = "quality report"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="quality_reports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    figures = models.JSONField(default=dict, blank=True)
    last_annotation_id = models.BigIntegerField(default=0, help_text="The newest answer the figures include.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Requests made while one waits join it instead of queueing another computation.
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(status="queued"), name="quality_report_one_queued"
            ),
        ]

    def __str__(self) -> str:
        return f"quality report {self.pk} of {self.dataset_id} ({self.status})"


# The matching kind's tables live in its folder; imported here so Django finds them in the app.
from labeling.kinds.matching.models import PairConflict, PairConflictCheck  # noqa: E402, F401
