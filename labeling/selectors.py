from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q
from django.http import Http404

from datasets.models import Dataset
from datasets.selectors import dataset_get
from labeling.models import Annotation, AnnotationStatus, Task


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
        Annotation.objects.filter(dataset=dataset, user=user, label__isnull=False)
        .select_related("label")
        .order_by("-updated_at")[:50]
    )
    for annotation in recent:
        seen.setdefault(annotation.label_id, annotation.label)
        if len(seen) == limit:
            break
    return list(seen.values())


def task_get(*, user: AbstractBaseUser, task_id: int) -> Task:
    """A task of a dataset the user belongs to; anything else is a 404."""
    task = Task.objects.filter(pk=task_id).select_related("product", "dataset").first()
    if task is None:
        raise Http404("No such task.")
    dataset_get(user=user, dataset_id=task.dataset_id)
    return task
