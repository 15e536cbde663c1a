"""A task's label history for leads: the product, its current answers and review, and every event, oldest first."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from datasets.models import Role
from datasets.selectors import dataset_get
from labeling.models import Annotation, Task
from labeling.selectors import task_get, task_history


@login_required
@require_GET
def task_history_page(request: HttpRequest, dataset_id: int, task_id: int) -> HttpResponse:
    try:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    except PermissionDenied as error:
        raise PermissionDenied("Annotators cannot see others' answers.") from error
    task = task_get(user=request.user, task_id=task_id)
    if task.dataset_id != dataset.pk:
        raise Http404("No such task in this dataset.")
    # A reverse one-to-one that select_related found empty raises AttributeError: getattr gives None.
    task = Task.objects.select_related("product", "gold_label", "review__label", "review__reviewer").get(pk=task.pk)
    context = {
        "dataset": dataset,
        "task": task,
        "product": task.product,
        "answers": Annotation.objects.filter(task=task).select_related("user", "label").order_by("created_at", "id"),
        "review": getattr(task, "review", None),
        "events": task_history(task=task),
    }
    return render(request, "labeling/history.html", context)
