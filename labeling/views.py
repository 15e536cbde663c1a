"""The annotator's page: one function per page or action; htmx requests get the #task partial."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.errors import ApplicationError
from datasets.models import Dataset
from datasets.selectors import dataset_get, label_children, label_search_ranked
from labeling.answers import task_answer_clean
from labeling.kinds import kind_get
from labeling.models import Task
from labeling.progress import annotator_progress
from labeling.queue import task_lease_next
from labeling.selectors import label_usage, task_get
from labeling.services import annotation_skip, annotation_submit, annotation_undo


class AnswerForm(forms.Form):
    label = forms.IntegerField(required=False)
    flagged = forms.BooleanField(required=False)
    active_seconds = forms.FloatField(required=False, min_value=0)
    suggestions_shown = forms.BooleanField(required=False)
    # A span answer: JSON [[token_start, token_end, label id], ...]; "[]" is an answer (no attribute).
    spans = forms.CharField(required=False, max_length=20_000, strip=False)


def _render_task(
    request: HttpRequest, dataset: Dataset, task: Task | None, error: str = "", refused: int | None = None
) -> HttpResponse:
    """The generic frame (counts, actions, help) around the partials of the dataset's task kind; when the task
    shown is the one whose answer was just `refused`, with what the annotator had given."""
    kind = kind_get(dataset.task_type)
    context = {
        "dataset": dataset,
        "kind": kind,
        "task": task,
        "progress": annotator_progress(dataset=dataset, user=request.user),
        "error": error,
    }
    if task is not None:
        context |= kind.page_context(dataset=dataset, task=task, user=request.user)
        if refused == task.pk:
            context |= kind.refused_context(posted=request.POST.dict())
    template = "labeling/annotate.html#task" if request.htmx else "labeling/annotate.html"
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_GET
def annotate(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    return _render_task(request, dataset, task_lease_next(dataset=dataset, user=request.user))


def _after_action(
    request: HttpRequest, dataset: Dataset, error: str = "", refused: int | None = None
) -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("labeling:annotate", dataset_id=dataset.pk)
    task = task_lease_next(dataset=dataset, user=request.user)
    return _render_task(request, dataset, task, error=error, refused=refused)


@login_required
@require_POST
def task_submit(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_get(user=request.user, task_id=task_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _after_action(request, task.dataset, error="The answer was not understood; please try again.")
    data = form.cleaned_data
    dataset = task.dataset
    try:
        answer = task_answer_clean(
            task=task, label_id=data["label"], value=None, spans=data["spans"] or None, flagged=data["flagged"]
        )
        annotation_submit(
            task=task,
            user=request.user,
            label=answer.label,
            value=answer.value,
            flagged=answer.flagged,
            active_seconds=data["active_seconds"],
            suggestions_shown=data["suggestions_shown"],
        )
    except ApplicationError as error:
        return _after_action(request, dataset, error=error.message, refused=task.pk)
    return _after_action(request, dataset)


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
    query = request.GET.get("q", "")
    usage = None if query.strip() else label_usage(dataset=dataset)
    labels = label_search_ranked(dataset=dataset, query=query, usage=usage, limit=30)
    return render(request, "labeling/_label_results.html", {"labels": labels, "query": query})


@login_required
@require_GET
def label_tree_children(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """One level of the taxonomy tree, loaded when its parent is first expanded."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    parent = request.GET.get("parent", "")
    # Another dataset's node has no children here: the scope is the dataset's.
    nodes = label_children(dataset=dataset, parent_id=int(parent) if parent.isdigit() else None)
    return render(request, "labeling/_label_tree.html", {"dataset": dataset, "nodes": nodes})
