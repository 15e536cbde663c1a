from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from config.sql_rows import columns as sql_columns
from config.sql_rows import instances as sql_instances
from config.sql_rows import is_key, one_row
from datasets.models import Dataset, Label, Membership, Product
from labeling.models import Annotation, AnnotationStatus, LabelEvent, Task
from labeling.queue import random_key


def dataset_progress(*, dataset: Dataset) -> dict[str, int]:
    tasks = Task.objects.filter(dataset=dataset).aggregate(
        total=Count("pk"), complete=Count("pk", filter=Q(is_complete=True))
    )
    answers = Annotation.objects.filter(dataset=dataset).aggregate(
        submitted=Count("pk", filter=Q(status=AnnotationStatus.SUBMITTED)),
        skipped=Count("pk", filter=Q(status=AnnotationStatus.SKIPPED)),
        flagged=Count("pk", filter=Q(flagged=True)),
    )
    return {
        "products": dataset.products.count(),
        "labels": dataset.labels.count(),
        "tasks": tasks["total"],
        "complete": tasks["complete"],
        **answers,
    }


def datasets_progress(*, datasets: Iterable[Dataset]) -> dict[int, dict[str, int]]:
    """{dataset id: {"complete", "tasks"}} for a list page, every dataset in one query."""
    rows = (
        Task.objects.filter(dataset__in=[dataset.pk for dataset in datasets])
        .values("dataset_id")
        .annotate(tasks=Count("pk"), complete=Count("pk", filter=Q(is_complete=True)))
    )
    return {row["dataset_id"]: {"tasks": row["tasks"], "complete": row["complete"]} for row in rows}


def user_progress(*, dataset: Dataset, user: AbstractBaseUser) -> dict[str, int]:
    """The annotator's own counts, shown on the labeling page."""
    return Annotation.objects.filter(dataset=dataset, user=user).aggregate(
        submitted=Count("pk", filter=Q(status=AnnotationStatus.SUBMITTED)),
        skipped=Count("pk", filter=Q(status=AnnotationStatus.SKIPPED)),
    )


def recent_labels(*, dataset: Dataset, user: AbstractBaseUser, limit: int = 5) -> list:
    """The distinct labels this user chose most recently, for one-click reuse."""
    seen: dict[int, object] = {}
    recent = (
        Annotation.objects.filter(dataset=dataset, user=user, label__isnull=False, label__deprecated=False)
        .select_related("label")
        .order_by("-updated_at")[:50]
    )
    for annotation in recent:
        seen.setdefault(annotation.label_id, annotation.label)
        if len(seen) == limit:
            break
    return list(seen.values())


def label_usage(*, dataset: Dataset) -> dict[int, int]:
    """How many submitted answers each label of the dataset has: the empty search lists the most used first."""
    rows = (
        Annotation.objects.filter(dataset=dataset, label__isnull=False, status=AnnotationStatus.SUBMITTED)
        .values("label")
        .annotate(n=Count("pk"))
        .values_list("label", "n")
    )
    return dict(rows)


# A task with its product, its dataset and the user's role there, in one statement written by hand (every submit
# reads it; compiling the ORM's version took longer than running it).
_TASK_WITH_ROLE = f"""
SELECT {sql_columns(Task, "t")}, {sql_columns(Product, "p")}, {sql_columns(Dataset, "d")},
       (SELECT m.role FROM {Membership._meta.db_table} m WHERE m.dataset_id = t.dataset_id AND m.user_id = %s LIMIT 1)
FROM {Task._meta.db_table} t
JOIN {Product._meta.db_table} p ON p.id = t.product_id
JOIN {Dataset._meta.db_table} d ON d.id = t.dataset_id
WHERE t.id = %s
"""  # noqa: S608 - only the models' own table and column names are interpolated


def task_get(*, user: AbstractBaseUser, task_id: int) -> Task:
    """A task of a dataset the user belongs to (read with the user's role in one query); anything else is a 404."""
    if not is_key(task_id):
        raise Http404("No such task.")
    row = one_row(_TASK_WITH_ROLE, [user.pk, task_id])
    if row is None:
        raise Http404("No such task.")
    (task, product, dataset), (member_role,) = sql_instances(row, Task, Product, Dataset)
    if not (user.is_superuser or member_role):
        raise Http404("No such task.")
    task.product, task.dataset = product, dataset
    task.member_role = member_role
    return task


def dataset_task_get(*, dataset: Dataset, task_id: int | None) -> Task:
    """A task of this dataset with its product (a lead's page names it); another dataset's, or none, is a 404."""
    task = None
    if task_id is not None:
        task = Task.objects.filter(pk=task_id, dataset=dataset).select_related("product").first()
    if task is None:
        raise Http404("No such task in this dataset.")
    return task


def dataset_tasks_get(*, dataset: Dataset, task_ids: Iterable[int]) -> list[Task]:
    """Tasks of this dataset with their product and query, in `task_ids`' order; a 404 if one is not the
    dataset's."""
    wanted = list(dict.fromkeys(task_ids))
    found = Task.objects.filter(pk__in=wanted, dataset=dataset).select_related("product", "query").in_bulk()
    if len(found) != len(wanted):
        raise Http404("No such task in this dataset.")
    return [found[task_id] for task_id in wanted]


def task_items(*, task: Task) -> list[Product]:
    """A pair's products in role order (left, right), in one query (none when they were prefetched); [] for a
    single-product task, whose product is `task.product`."""
    if not task.is_pair:
        return []
    task_items_prefetch(tasks=[task])
    return list(task.sides())


def task_items_prefetch(*, tasks: Iterable[Task]) -> None:
    """Load the products of the pairs among `tasks` (a page of a list) in one query, so `task_items` then reads
    them without another; single-product tasks cost nothing."""
    pairs = [task for task in tasks if task.is_pair and not _sides_loaded(task)]
    if not pairs:
        return
    products = Product.objects.in_bulk({pk for task in pairs for pk in (task.product_id, task.other_product_id)})
    for task in pairs:
        task.product, task.other_product = products[task.product_id], products[task.other_product_id]


def _sides_loaded(task: Task) -> bool:
    return Task.product.is_cached(task) and Task.other_product.is_cached(task)


def suggestions_visible(*, dataset: Dataset, task: Task) -> bool:
    """Whether this task shows the model's suggestions; a stable share is hidden to measure anchoring."""
    if not dataset.show_suggestions or not task.suggestions:
        return False
    if dataset.suggestion_hide_fraction <= 0:
        return True
    return random_key(seed=dataset.seed, external_id=f"hide-suggestions:{task.pk}") / 2**56 >= (
        dataset.suggestion_hide_fraction
    )


def task_suggestions(*, dataset: Dataset, task: Task) -> list[dict]:
    """The model's top labels for the task with their probabilities, best first; [] when hidden."""
    if not suggestions_visible(dataset=dataset, task=task):
        return []
    return _suggested_labels(task)


def _suggested_labels(task: Task) -> list[dict]:
    """The task's stored suggestions with their Label objects (one query), whatever the dataset hides."""
    # Only [label id, probability] pairs: a span task's suggestions are spans (the span page reads them).
    scores = [entry for entry in task.suggestions or [] if len(entry) == 2]
    labels = (
        Label.objects.filter(dataset_id=task.dataset_id)
        .select_related("merged_into")
        .in_bulk([label_id for label_id, _ in scores])
    )
    # A model trained before a merge still names the merged label: offer the label it was merged into.
    offered = {label_id: label.merged_into or label for label_id, label in labels.items()}
    return [
        {"label": offered[label_id], "probability": probability}
        for label_id, probability in scores
        if label_id in offered and not offered[label_id].deprecated
    ]


def annotation_list(
    *,
    dataset: Dataset,
    user_id: int | None = None,
    username: str | None = None,
    label_id: int | None = None,
    status: str | None = None,
    source: str | None = None,
    flagged: bool | None = None,
    external_id: str | None = None,
    since: datetime | None = None,
) -> QuerySet[Annotation]:
    """The dataset's annotations, newest change first; each filter left as None does not filter."""
    annotations = Annotation.objects.filter(dataset=dataset)
    if user_id is not None:
        annotations = annotations.filter(user_id=user_id)
    if username is not None:
        annotations = annotations.filter(user__username=username)
    if label_id is not None:
        annotations = annotations.filter(label_id=label_id)
    if status is not None:
        annotations = annotations.filter(status=status)
    if source is not None:
        annotations = annotations.filter(source=source)
    if flagged is not None:
        annotations = annotations.filter(flagged=flagged)
    if external_id is not None:
        # The product's own task, or any pair it is one of.
        products = Product.objects.filter(dataset=dataset, external_id=external_id)
        annotations = annotations.filter(Q(task__product__in=products) | Q(task__other_product__in=products))
    if since is not None:
        annotations = annotations.filter(updated_at__gte=since)
    return annotations.select_related("label", "user", "task__product").order_by("-updated_at", "-id")


def review_queue(*, dataset: Dataset) -> QuerySet[Task]:
    """Tasks waiting for a reviewer, oldest first: `needs_review` and the order match the partial index
    `task_review_queue`, so a few waiting tasks among a million are found without a scan."""
    return Task.objects.filter(dataset=dataset, needs_review=True).select_related("product").order_by("id")


def review_queue_count(*, dataset: Dataset) -> int:
    return Task.objects.filter(dataset=dataset, needs_review=True).count()


def review_queue_next(*, dataset: Dataset, after: int | None = None) -> Task | None:
    """The first waiting task after `after` (one just decided or put off), else the first of the queue."""
    queue = review_queue(dataset=dataset)
    if after is not None:
        task = queue.filter(pk__gt=after).first()
        if task is not None:
            return task
    return queue.first()


def review_queue_counted(*, dataset: Dataset) -> QuerySet[Task]:
    """The review queue with each task's submitted answers and the flagged ones among them counted."""
    submitted = Q(annotations__status=AnnotationStatus.SUBMITTED)
    return review_queue(dataset=dataset).annotate(
        answer_count=Count("annotations", filter=submitted),
        flagged_count=Count("annotations", filter=submitted & Q(annotations__flagged=True)),
    )


def review_votes(*, task_ids: list[int]) -> dict[int, list[dict]]:
    """The votes per label of these tasks, in one query, most voted first."""
    rows = (
        Annotation.objects.filter(task_id__in=task_ids, status=AnnotationStatus.SUBMITTED, label__isnull=False)
        .values("task_id", "label_id", "label__path")
        .annotate(votes=Count("pk"))
        .order_by("task_id", "-votes", "label__path")
    )
    votes: dict[int, list[dict]] = {}
    for row in rows:
        votes.setdefault(row["task_id"], []).append(
            {"label": row["label_id"], "path": row["label__path"], "votes": row["votes"]}
        )
    return votes


def task_with_review(*, task: Task) -> Task:
    """The task read again with its product, gold label and review (label or value, reviewer) in one query.

    A reverse one-to-one that select_related found empty raises an AttributeError: read it with
    `getattr(task, "review", None)`.
    """
    return Task.objects.select_related(
        "product", "dataset", "gold_label", "gold_value", "review__label", "review__value", "review__reviewer"
    ).get(pk=task.pk)


def task_answers(*, task: Task) -> QuerySet[Annotation]:
    """Every answer of the task, oldest first, with its user and label (or value)."""
    return Annotation.objects.filter(task=task).select_related("user", "label", "value").order_by("created_at", "id")


def review_context(*, task: Task) -> dict:
    """What a reviewer weighs: the product, every answer, the votes per label (most first), the model's
    suggestions, the current decision and the gold status."""
    task = task_with_review(task=task)
    answers = list(task_answers(task=task))
    votes: dict[int, dict] = {}
    for answer in answers:
        answer.who = answer.user.get_username() if answer.user else answer.source_name
        if answer.status == AnnotationStatus.SUBMITTED and answer.label is not None:
            votes.setdefault(answer.label_id, {"label": answer.label, "votes": 0})["votes"] += 1
    return {
        "task": task,
        "product": task.product,
        "answers": answers,
        "votes": sorted(votes.values(), key=lambda vote: (-vote["votes"], vote["label"].path)),
        "flagged": sum(1 for answer in answers if answer.flagged),
        # Unlike the annotator's page, nothing is hidden: the reviewer is not the one whose anchoring is measured.
        "suggestions": _suggested_labels(task),
        "review": getattr(task, "review", None),
        "is_gold": task.is_gold,
        "gold_label": task.gold_label,
    }


def task_history(*, task: Task) -> QuerySet[LabelEvent]:
    """Every label event of the task, oldest first, with the labels and the user in the same query."""
    return (
        LabelEvent.objects.filter(task=task)
        .select_related("user", "old_label", "new_label", "old_value", "new_value")
        .order_by("created_at", "id")
    )
