"""The annotator's page: one function per page or action; htmx requests get the #task partial."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.errors import ApplicationError
from datasets.models import Dataset, Label
from datasets.selectors import dataset_get, label_search
from labeling.models import Task
from labeling.queue import task_lease_next
from labeling.selectors import recent_labels, task_get, task_suggestions, user_progress
from labeling.services import annotation_skip, annotation_submit, annotation_undo

SHORTCUT_KEYS = 9


class AnswerForm(forms.Form):
    label = forms.IntegerField(required=False)
    flagged = forms.BooleanField(required=False)
    active_seconds = forms.FloatField(required=False, min_value=0)
    suggestions_shown = forms.BooleanField(required=False)


def _shortcuts(*, suggestions: list[dict], recent: list[Label]) -> list[dict]:
    """Keys 1-9: the model's suggestions first, then recent labels not already offered."""
    shortcuts = [{"label": s["label"], "probability": s["probability"], "kind": "suggestion"} for s in suggestions]
    offered = {s["label"].pk for s in shortcuts}
    shortcuts += [
        {"label": label, "probability": None, "kind": "recent"} for label in recent if label.pk not in offered
    ]
    return [{"key": i + 1, **s} for i, s in enumerate(shortcuts[:SHORTCUT_KEYS])]


def _render_task(request: HttpRequest, dataset: Dataset, task: Task | None, error: str = "") -> HttpResponse:
    suggestions = task_suggestions(dataset=dataset, task=task) if task else []
    context = {
        "dataset": dataset,
        "task": task,
        "product": task.product if task else None,
        "shortcuts": _shortcuts(suggestions=suggestions, recent=recent_labels(dataset=dataset, user=request.user)),
        "suggestions_shown": bool(suggestions),
        "progress": user_progress(dataset=dataset, user=request.user),
        "error": error,
    }
    template = "labeling/annotate.html#task" if request.htmx else "labeling/annotate.html"
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_GET
def annotate(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    return _render_task(request, dataset, task_lease_next(dataset=dataset, user=request.user))


def _after_action(request: HttpRequest, dataset: Dataset, error: str = "") -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("labeling:annotate", dataset_id=dataset.pk)
    return _render_task(request, dataset, task_lease_next(dataset=dataset, user=request.user), error=error)


@login_required
@require_POST
def task_submit(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_get(user=request.user, task_id=task_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _after_action(request, task.dataset, error="The answer was not understood; please try again.")
    data = form.cleaned_data
    label = None
    if data["label"] is not None:
        label = Label.objects.filter(pk=data["label"], dataset_id=task.dataset_id).first()
    try:
        if data["label"] is not None and label is None:
            raise ApplicationError("That label is not part of this dataset.")
        annotation_submit(
            task=task,
            user=request.user,
            label=label,
            flagged=data["flagged"],
            active_seconds=data["active_seconds"],
            suggestions_shown=data["suggestions_shown"],
        )
    except ApplicationError as error:
        return _after_action(request, task.dataset, error=error.message)
    return _after_action(request, task.dataset)


@login_required
@require_POST
def task_skip(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_get(user=request.user, task_id=task_id)
    form = AnswerForm(request.POST)
    seconds = form.cleaned_data["active_seconds"] if form.is_valid() else None
    try:
        annotation_skip(task=task, user=request.user, active_seconds=seconds)
    except ApplicationError as error:
        return _after_action(request, task.dataset, error=error.message)
    return _after_action(request, task.dataset)


@login_required
@require_POST
def undo(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    try:
        annotation_undo(dataset=dataset, user=request.user)
    except ApplicationError as error:
        return _after_action(request, dataset, error=error.message)
    return _after_action(request, dataset)


@login_required
@require_GET
def label_search_results(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    labels = label_search(dataset=dataset, query=request.GET.get("q", ""), limit=30)
    return render(request, "labeling/_label_results.html", {"labels": labels, "query": request.GET.get("q", "")})
