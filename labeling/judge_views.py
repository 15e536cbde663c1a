"""The list mode of the judge's page: one query with its products, graded together and confirmed at once.

The single mode is the annotate page (views.py); a kind with `list_mode` (relevance) links the two. htmx requests
get the #query partial, the others a redirect, so the page also works as plain forms.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.errors import ApplicationError
from datasets.models import Dataset
from datasets.selectors import dataset_get
from labeling.answers import task_answers_clean
from labeling.kinds import TaskKind, kind_get
from labeling.models import Task
from labeling.progress import annotator_progress
from labeling.queue import query_lease_next
from labeling.selectors import dataset_tasks_get
from labeling.services import annotations_skip, annotations_submit, query_undo


class ListForm(forms.Form):
    active_seconds = forms.FloatField(required=False, min_value=0)


def _list_dataset(request: HttpRequest, dataset_id: int) -> tuple[Dataset, TaskKind]:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    kind = kind_get(dataset.task_type)
    if not kind.list_mode:
        raise Http404("This dataset has no list mode.")
    return dataset, kind


def _render_list(
    request: HttpRequest,
    dataset: Dataset,
    kind: TaskKind,
    tasks: list[Task],
    *,
    error: str = "",
    chosen: dict[int, int] | None = None,
    flagged: set[int] | None = None,
) -> HttpResponse:
    context = {
        "dataset": dataset,
        "kind": kind,
        "progress": annotator_progress(dataset=dataset, user=request.user),
        "error": error,
        **kind.list_context(dataset=dataset, tasks=tasks, chosen=chosen, flagged=flagged),
    }
    template = kind.list_template
    return render(request, f"{template}#query" if request.htmx else template, context, status=400 if error else 200)


def _next(request: HttpRequest, dataset: Dataset, kind: TaskKind, error: str = "") -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("labeling:judge-list", dataset_id=dataset.pk)
    return _render_list(request, dataset, kind, query_lease_next(dataset=dataset, user=request.user), error=error)


@login_required
@require_GET
def judge_list(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset, kind = _list_dataset(request, dataset_id)
    return _render_list(request, dataset, kind, query_lease_next(dataset=dataset, user=request.user))


def _posted_list(request: HttpRequest, dataset_id: int) -> tuple[Dataset, TaskKind, list[Task] | None, float | None]:
    """The dataset, its kind, the query's tasks the page showed (`task`, repeated, in their order; None when the
    ids are no numbers) and the active seconds (None when absent or not understood)."""
    dataset, kind = _list_dataset(request, dataset_id)
    values = request.POST.getlist("task")
    tasks = None
    if values and all(value.isdigit() for value in values):
        tasks = dataset_tasks_get(dataset=dataset, task_ids=[int(value) for value in values])
    form = ListForm(request.POST)
    return dataset, kind, tasks, form.cleaned_data["active_seconds"] if form.is_valid() else None


def _posted_grades(request: HttpRequest, tasks: list[Task]) -> list[tuple[Task, int | None, None, bool]]:
    """Each shown task's grade (`grade-<task id>`, a label id) and flag (`flag-<task id>`)."""
    rows = []
    for task in tasks:
        raw = request.POST.get(f"grade-{task.pk}", "")
        if raw and not raw.isdigit():
            raise ApplicationError("No such grade in this dataset.", extra={"label": raw})
        rows.append((task, int(raw) if raw else None, None, request.POST.get(f"flag-{task.pk}", "") == "true"))
    return rows


@login_required
@require_POST
def judge_list_confirm(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset, kind, tasks, seconds = _posted_list(request, dataset_id)
    if tasks is None:
        return _next(request, dataset, kind, error="The answers were not understood; please try again.")
    rows: list[tuple[Task, int | None, None, bool]] = []
    try:
        rows = _posted_grades(request, tasks)
        answers = task_answers_clean(dataset=dataset, rows=rows)
        annotations_submit(dataset=dataset, user=request.user, answers=answers, active_seconds=seconds)
    except ApplicationError as error:
        if not request.htmx:
            return _next(request, dataset, kind, error=error.message)
        # The same list again, with what the judge chose, so nothing is lost to the refusal.
        chosen = {task.pk: label_id for task, label_id, _, _ in rows if label_id is not None}
        flagged = {task.pk for task, _, _, flag in rows if flag}
        return _render_list(request, dataset, kind, tasks, error=error.message, chosen=chosen, flagged=flagged)
    return _next(request, dataset, kind)


@login_required
@require_POST
def judge_list_skip(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset, kind, tasks, seconds = _posted_list(request, dataset_id)
    if tasks is None:
        return _next(request, dataset, kind, error="Nothing to skip was understood; please try again.")
    try:
        annotations_skip(dataset=dataset, user=request.user, tasks=tasks, active_seconds=seconds)
    except ApplicationError as error:
        return _next(request, dataset, kind, error=error.message)
    return _next(request, dataset, kind)


@login_required
@require_POST
def judge_list_undo(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset, kind = _list_dataset(request, dataset_id)
    try:
        query_undo(dataset=dataset, user=request.user)
    except ApplicationError as error:
        return _next(request, dataset, kind, error=error.message)
    return _next(request, dataset, kind)
