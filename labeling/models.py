from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from config.jobs.models import Job, JobStatus
from datasets.models import Dataset, Label, Product


class Task(models.Model):
    """A unit of queue work: one product (categorization), a pair of products (matching), or a product for a
    search query (relevance).

    A pair is one row: `product` and `other_product` in id order, so the one unique index on
    (product, other_product) keeps a pair unique whichever way round it comes, and `swapped` says whether the
    pair's first role (a matching pair's left) is `other_product`. A million generated candidates are a million
    rows with five index entries each, where a task and two item rows were three rows and eleven entries.
    """

    # No single-column indexes of their own: task_unique_products leads with the product (a product belongs to
    # one dataset, so it is unique within the dataset too, and it serves a product's deletion), the other
    # product and the gold label are indexed only where set. No database constraint on the dataset and the
    # products either: PostgreSQL checks a foreign key by a query and a lock on the row it points to, for each
    # new row (a candidate run writes ten million; the dataset's check alone was an eighth of their write), and
    # each pair would lock two product rows. Tasks are our own writes' (the import's, a candidate run's, from
    # products checked there), and deletions go through Django's cascade.
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="tasks", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="tasks", db_index=False, db_constraint=False
    )
    other_product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        help_text="A pair's second product, the higher id; null for a single-product task.",
    )
    query = models.ForeignKey(
        "datasets.Query",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,
        help_text="A relevance task's search query: its product is judged for it; null for other kinds.",
    )
    swapped = models.BooleanField(
        # db_default too: the bulk paths INSERT tasks in SQL without naming it.
        default=False,
        db_default=False,
        help_text="A pair's first role (left) is `other_product`: it came with the higher id first.",
    )
    attributes = models.JSONField(
        null=True, blank=True, help_text="What an imported pair brings besides its products (a split)."
    )
    is_gold = models.BooleanField(default=False)
    gold_label = models.ForeignKey(
        Label, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    gold_value = models.ForeignKey(
        "AnswerValue",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
        db_index=False,
        help_text="A gold task's known answer when the kind's answers are values (spans), not labels.",
    )
    gold_since = models.DateTimeField(
        null=True, blank=True, help_text="When it became gold: only answers given since measure accuracy."
    )
    annotation_count = models.PositiveIntegerField(default=0, help_text="Submitted annotations, imports included.")
    is_complete = models.BooleanField(default=False)
    # Live leases counted on the row itself, so a claim's check of the free slots reads the row it locks: a
    # lease in another table, committed after the claim's snapshot, would not be seen. `lease_count` may count
    # leases that expired while a later one still runs (never fewer than are live); every lease has expired once
    # `lease_until` has passed, and the count starts again from the next lease.
    lease_count = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="Leases given since lease_until last passed, less those given back."
    )
    lease_until = models.DateTimeField(null=True, blank=True, help_text="When the task's newest lease expires.")
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
        help_text="Its answers disagree or one is flagged, and no reviewer has decided yet.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # 0 stands for "no other product" (ids start at 1): a single-product task is (product, 0), unique
            # on every backend, where a NULL would be distinct from every other NULL.
            # A relevance task is a (query, product) pair: the product once per query.
            models.UniqueConstraint(
                F("product"),
                Coalesce(F("other_product"), Value(0)),
                Coalesce(F("query"), Value(0)),
                name="task_unique_products",
            ),
            models.CheckConstraint(
                condition=Q(other_product=None, swapped=False)
                | Q(other_product__isnull=False, other_product__gt=F("product")),
                name="task_pair_in_id_order",
            ),
            models.CheckConstraint(
                condition=~Q(is_gold=True, gold_label=None, gold_value=None), name="task_gold_has_label"
            ),
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
            # What a product's or a label's deletion looks up (cascade, protect): `other_product_id IN (...)`
            # implies NOT NULL, so PostgreSQL uses these partial indexes for it.
            models.Index(fields=["other_product"], condition=Q(other_product__isnull=False), name="task_other_product"),
            models.Index(fields=["gold_label"], condition=Q(gold_label__isnull=False), name="task_gold_label"),
            # A query's tasks (its judgments, its deletion): only relevance tasks have one.
            models.Index(fields=["query", "product"], condition=Q(query__isnull=False), name="task_query"),
        ]

    def __str__(self) -> str:
        if self.other_product_id is None:
            return f"task {self.pk} ({self.product_id})"
        return f"task {self.pk} ({self.left_id}, {self.right_id})"

    @property
    def is_pair(self) -> bool:
        return self.other_product_id is not None

    @property
    def single_product(self) -> Product | None:
        """The product of a single-product task; None for a pair."""
        return None if self.is_pair else self.product

    @property
    def left_id(self) -> int:
        """A pair's first product in its roles (the product of a single-product task)."""
        return self.other_product_id if self.swapped else self.product_id

    @property
    def right_id(self) -> int | None:
        return self.product_id if self.swapped else self.other_product_id

    def sides(self) -> tuple[Product, Product]:
        """A pair's products in role order (left, right)."""
        if self.swapped:
            return self.other_product, self.product
        return self.product, self.other_product


class AnswerValue(models.Model):
    """An answer that is no single label (a title's attribute spans), one row per task and distinct value.

    Equal answers of a task share a row, so the shared layers compare its id as they compare label ids: the
    votes of `labeling.resolve`, review flags, gold and exact agreement run unchanged on the `value` columns.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=64, help_text="SHA-256 of the canonical value: equal values, equal keys.")
    value = models.JSONField(help_text="Spans: [[token_start, token_end (inclusive), label_id], ...] sorted.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "key"], name="answervalue_unique_key")]

    def __str__(self) -> str:
        return f"answer value {self.pk} of task {self.task_id}"


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

    # No index of their own: the indexes below lead with the dataset and annotation_unique_user with the task,
    # and every answer written (a million at an import of labels) updated the two redundant ones too. No database
    # constraint on PostgreSQL either, as a task has none on its dataset: a foreign key is checked by a query and a
    # row lock per new row, and an imported label's four checks on its dataset and task (here and in its event)
    # were an eighth of a labeled import's time. Answers are our own writes, to the task locked or just found in
    # the dataset; deletions go through Django's cascade, and the history's PROTECT still refuses them. The label
    # keeps its constraint: a lead may delete an unused label while an import resolves it.
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="annotations", db_index=False, db_constraint=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="annotations"
    )
    status = models.CharField(max_length=16, choices=AnnotationStatus.choices, default=AnnotationStatus.SUBMITTED)
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="annotations")
    value = models.ForeignKey(
        AnswerValue,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
        db_index=False,
        help_text="The answer when the kind's answers are values (spans), not labels.",
    )
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
                condition=~Q(status=AnnotationStatus.SKIPPED) | Q(label=None, value=None),
                name="annotation_skip_has_no_label",
            ),
            models.CheckConstraint(
                condition=~Q(status=AnnotationStatus.SUBMITTED) | ~Q(label=None) | ~Q(value=None) | Q(flagged=True),
                name="annotation_submit_has_label_or_flag",
            ),
            models.CheckConstraint(condition=Q(label=None) | Q(value=None), name="annotation_label_or_value"),
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
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    value = models.ForeignKey(
        AnswerValue, null=True, blank=True, on_delete=models.RESTRICT, related_name="+", db_index=False
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A decision is a label or, for a kind answered with values, a value: exactly one.
            models.CheckConstraint(
                condition=Q(label__isnull=False, value=None) | Q(label=None, value__isnull=False),
                name="review_label_or_value",
            ),
        ]

    def __str__(self) -> str:
        return f"review of task {self.task_id}: label {self.label_id or ''}{self.value_id or ''}"


class EventAction(models.TextChoices):
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    SKIP = "skip", "Skip"
    UNDO = "undo", "Undo"
    IMPORT = "import", "Import"
    REVIEW = "review", "Review"
    TAXONOMY = "taxonomy", "Taxonomy change"


class LabelEvent(models.Model):
    """Append-only history of every label change; the database refuses updates (and deletes on PostgreSQL)."""

    # No database constraint on the dataset and the task on PostgreSQL, as an answer's (Annotation): Django's
    # PROTECT is what refuses deleting a task or dataset with history.
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    # Its index is labelevent_task_time's, which leads with the task.
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, related_name="events", db_index=False, db_constraint=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=16, choices=EventAction.choices)
    old_label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    new_label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    old_value = models.ForeignKey(
        AnswerValue, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    new_value = models.ForeignKey(
        AnswerValue, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    flagged = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=LabelSource.choices, default=LabelSource.HUMAN)
    source_name = models.CharField(max_length=100, blank=True)
    annotation_id = models.BigIntegerField(null=True, blank=True, help_text="Not a key: undo removes annotations.")
    taxonomy_change = models.ForeignKey(
        "datasets.TaxonomyChange",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The taxonomy change (a merge) that moved this answer to its new label.",
    )
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
            models.UniqueConstraint(fields=["dataset"], condition=Q(status="queued"), name="quality_report_one_queued"),
        ]

    def __str__(self) -> str:
        return f"quality report {self.pk} of {self.dataset_id} ({self.status})"


# The matching kind's tables live in its folder; imported here so Django finds them in the app.
from labeling.kinds.matching.models import PairConflict, PairConflictCheck  # noqa: E402, F401
from labeling.kinds.relevance.models import QueryResult  # noqa: E402, F401
