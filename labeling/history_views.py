"""A task's label history for leads: its product (or pair), its current answers and review, and every event, oldest
first."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from datasets.models import Role
from datasets.selectors import dataset_get
from labeling.kinds import kind_get
from labeling.selectors import task_answers, task_get, task_history, task_with_review


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
    task = task_with_review(task=task)
    kind = kind_get(dataset.task_type)
    answers, events, review = (
        list(task_answers(task=task)),
        list(task_history(task=task)),
        getattr(task, "review", None),
    )
    # A kind answered with values (spans) shows them in words where a label shows its path.
    values = [a.value for a in answers] + [v for e in events for v in (e.old_value, e.new_value)]
    texts = kind.value_texts(task=task, values=[*values, review and review.value, task.gold_value])
    for item, value_id in [(a, a.value_id) for a in answers] + [(review, review and review.value_id)]:
        if item is not None:
            item.value_text = texts.get(value_id, "")
    for event in events:
        event.old_text, event.new_text = texts.get(event.old_value_id, ""), texts.get(event.new_value_id, "")
    context = {
        "dataset": dataset,
        "kind": kind,
        "task": task,
        "title": kind.task_title(task=task),
        "product": task.product,
        "answers": answers,
        "review": review,
        "events": events,
        "gold_text": texts.get(task.gold_value_id, ""),
    }
    if kind.multi_item:  # shown with the kind's item partial, as on the annotate and review pages
        context |= kind.item_context(task=task)
    return render(request, "labeling/history.html", context)
