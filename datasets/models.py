from django.conf import settings
from django.db import models
from django.db.models import Q


class TaskType(models.TextChoices):
    CATEGORIZATION = "categorization", "Product categorization"
    MATCHING = "matching", "Product matching"
    RELEVANCE = "relevance", "Search relevance"
    SPANS = "spans", "Attribute spans"


class UncertaintyStrategy(models.TextChoices):
    MARGIN = "margin", "Margin"
    ENTROPY = "entropy", "Entropy"
    LEAST_CONFIDENCE = "least_confidence", "Least confidence"


# The default cadence of automatic training. Every 25 rather than 50 labels, measured through the real queue
# (bench/results/matching_active.md): margin needed 300 PriceRunner pair labels instead of 550 to reach random
# order's F1 at 1,000, because each batch it serves is chosen by a model that saw the batch before.
RETRAIN_EVERY = 25


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
        default=RETRAIN_EVERY, help_text="Train a new model after this many new labels (0: only on demand)."
    )
    cold_start_examples = models.PositiveSmallIntegerField(
        default=3, help_text="Serve in random order until every label seen has this many examples."
    )
    grade_scale = models.CharField(
        max_length=16,
        blank=True,
        help_text="Search relevance: the scale judges grade on (esci, graded 0-3, binary); blank for other kinds.",
    )
    span_description = models.BooleanField(
        default=False,
        help_text="Attribute spans: mark the title and the description below it, not the title alone.",
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
    synonyms = models.JSONField(default=list, blank=True, help_text="Other words annotators search it by.")
    # With count and max id, the version of the taxonomy that the per-process search index is keyed by.
    updated_at = models.DateTimeField(auto_now=True)
    deprecated = models.BooleanField(
        default=False,
        help_text="Kept for history and exports of old answers, no longer offered to new ones (issue 15).",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The label this one was merged into; its answers moved there and it stays, deprecated.",
    )

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "path"], name="label_unique_path"),
            models.UniqueConstraint(fields=["dataset", "code"], condition=~Q(code=""), name="label_unique_code"),
        ]

    def __str__(self) -> str:
        return self.path

    def deprecated_reason(self) -> str:
        """Why an answer naming this deprecated label is refused, and what to choose instead."""
        if self.merged_into_id:
            return f"{self.path!r} was merged into {self.merged_into.path!r}: choose that label."
        return f"{self.path!r} is deprecated and takes no new answers: choose another label."


class Product(models.Model):
    # No index of its own: product_unique_external_id starts with the dataset and serves every lookup by it, and
    # one index less to keep is a fifth off each imported product's insert.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="products", db_index=False)
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


class Query(models.Model):
    """A shopper's search query of a relevance dataset: its products are judged for it (issue 13)."""

    # No index of its own, as a product's: query_unique_external_id starts with the dataset, and an index of the
    # dataset alone let stale statistics look a query up by it, reading all of the dataset's queries per id.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="queries", db_index=False)
    external_id = models.CharField(max_length=255, help_text="The query's id in the source (query_id).")
    text = models.CharField(max_length=1000)
    locale = models.CharField(max_length=16, blank=True, help_text="e.g. us, es, jp (ESCI's query locales).")
    weight = models.FloatField(default=1.0, help_text="How much the query counts in overall figures (its frequency).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "external_id"], name="query_unique_external_id"),
            models.CheckConstraint(condition=~Q(text=""), name="query_text_not_empty"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="query_weight_positive"),
        ]
        verbose_name_plural = "queries"

    def __str__(self) -> str:
        return self.text


class TaxonomyAction(models.TextChoices):
    RENAME = "rename", "Rename"
    MOVE = "move", "Move"
    MERGE = "merge", "Merge"
    DEPRECATE = "deprecate", "Deprecate"
    ADD_CHILD = "add_child", "Add child"


class TaxonomyChange(models.Model):
    """One change of a dataset's taxonomy made by a lead, in the history once however many answers it moved.

    The answers whose label actually changed (a merge) each get a LabelEvent that points here (labeling's).
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="taxonomy_changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=16, choices=TaxonomyAction.choices)
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="changes")
    target = models.ForeignKey(
        Label,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A merge's label that took the answers; an added child.",
    )
    old_path = models.CharField(max_length=2800, blank=True)
    new_path = models.CharField(max_length=2800, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="What it changed: answers, reviews, gold...")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["dataset", "-created_at"], name="taxonomychange_recent")]

    def __str__(self) -> str:
        return f"{self.action} {self.old_path} -> {self.new_path}"
