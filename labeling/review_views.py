"""The lead's review page: waiting tasks one at a time; a decision (or "later") brings the next in one round trip."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.errors import ApplicationError
from datasets.models import Dataset, Label, Role
from datasets.selectors import dataset_get, label_find, label_list
from labeling.kinds import TaskKind, kind_get
from labeling.models import Review, Task
from labeling.review import review_decide
from labeling.selectors import (
    dataset_task_get,
    review_context,
    review_queue_count,
    review_queue_next,
)

SHORTCUT_KEYS = 9


class DecisionForm(forms.Form):
    label = forms.IntegerField(error_messages={"required": "Choose the final label first."})
    note = forms.CharField(required=False, max_length=500)
    gold = forms.BooleanField(required=False)


class SpanDecisionForm(forms.Form):
    """A decision on a kind answered with values: the editor's `spans`, or without its script the `answer` chosen."""

    spans = forms.CharField(required=False, max_length=20_000, strip=False)
    answer = forms.CharField(required=False, max_length=20_000, strip=False)
    note = forms.CharField(required=False, max_length=500)
    gold = forms.BooleanField(required=False)


def _id(value: str | None) -> int | None:
    # ASCII digits only: int() would take "+1" or " 1".
    return int(value) if value and value.isascii() and value.isdigit() else None


def _choice_options(kind: TaskKind, dataset: Dataset, context: dict) -> list[dict]:
    """A kind with fixed answers (match, no match) offers exactly those, on their own keys, with their votes."""
    labels = {label.code: label for label in label_list(dataset=dataset)}
    votes = {vote["label"].pk: vote["votes"] for vote in context["votes"]}
    options = []
    for choice in kind.choices_for(dataset=dataset):
        if choice.code in labels:
            label = labels[choice.code]
            options.append({"label": label, "votes": votes.get(label.pk, 0), "kind": "answer", "key": choice.key})
    return options


def _options(context: dict) -> list[dict]:
    """The labels offered on keys 1-9: those answered (most voted first), the model's, then the current decision."""
    options = [{"label": vote["label"], "votes": vote["votes"], "kind": "answer"} for vote in context["votes"]]
    offered = {option["label"].pk for option in options}
    for suggestion in context["suggestions"]:
        if suggestion["label"].pk not in offered:
            options.append({"label": suggestion["label"], "probability": suggestion["probability"], "kind": "model"})
            offered.add(suggestion["label"].pk)
    review = context["review"]
    if review is not None and review.label_id not in offered:
        options.append({"label": review.label, "kind": "review"})
    return [{"key": i + 1 if i < SHORTCUT_KEYS else None, **option} for i, option in enumerate(options)]


def _decision_text(kind: TaskKind, review: Review) -> str:
    """A decision in words: its label's path, or a span kind's "Sony (BRAND), Black (COLOR)" / "no attribute"."""
    return kind.answer_text(task=review.task, label=review.label, value=review.value.value if review.value_id else None)


def _decision_read(
    kind: TaskKind, dataset: Dataset, task: Task, request: HttpRequest
) -> tuple[dict, Label | None, list | None]:
    """The posted decision: the form's data, and its label, or for a kind answered with values its value."""
    form = (SpanDecisionForm if kind.answers_with_values else DecisionForm)(request.POST)
    if not form.is_valid():
        raise ApplicationError(" ".join(message for errors in form.errors.values() for message in errors))
    data = form.cleaned_data
    if kind.answers_with_values:
        raw = data["spans"] or data["answer"]
        if not raw:
            raise ApplicationError("Choose one of the answers, or mark the spans, first.")
        return data, None, kind.value_clean(dataset=dataset, task=task, raw=raw, flagged=False).value
    label = label_find(pk=data["label"])
    if label is None:
        raise ApplicationError("That label does not exist.")
    return data, label, None


def _render(
    request: HttpRequest,
    dataset: Dataset,
    task: Task | None,
    *,
    decided: Review | None = None,
    error: str = "",
    posted: dict | None = None,
) -> HttpResponse:
    kind = kind_get(dataset.task_type)
    context = {
        "dataset": dataset,
        "kind": kind,
        "choice_count": len(kind.choices_for(dataset=dataset)),
        "remaining": review_queue_count(dataset=dataset),
        "decided": decided,
        "decided_title": kind.task_title(task=decided.task) if decided else "",
        "decided_text": _decision_text(kind, decided) if decided else "",
        "error": error,
    }
    if task is not None:
        context |= review_context(task=task)
        context |= kind.item_context(task=task)
        context |= kind.review_context(task=task, answers=context["answers"])
        review = context["review"]
        context["review_text"] = _decision_text(kind, review) if review else ""
        if kind.answers_with_values:
            # A refused decision comes back with the spans it had, chosen from an answer or mended.
            context |= kind.refused_context(posted=posted) if posted else {}
            context["chosen_spans"] = json.dumps(
                [[s["start"], s["end"], s["label_id"]] for s in context["given_spans"]]
            )
        else:
            context["options"] = _choice_options(kind, dataset, context) if kind.fixed_labels else _options(context)
            context["chosen"] = (posted or {}).get("label") or (review.label_id if review else None)
        context["note"] = (posted or {}).get("note", review.note if review else "")
    template = "labeling/review.html#panel" if request.htmx else "labeling/review.html"
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_GET
def review_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """The first waiting task (or the next after `?after=`), or `?task=` any task of the dataset, reviewed or not."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    if "task" in request.GET:
        task = dataset_task_get(dataset=dataset, task_id=_id(request.GET["task"]))
    else:
        task = review_queue_next(dataset=dataset, after=_id(request.GET.get("after")))
    return _render(request, dataset, task)


@login_required
@require_POST
def review_decide_page(request: HttpRequest, dataset_id: int, task_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    task = dataset_task_get(dataset=dataset, task_id=task_id)
    kind = kind_get(dataset.task_type)
    try:
        data, label, value = _decision_read(kind, dataset, task, request)
        review = review_decide(
            task=task, reviewer=request.user, label=label, value=value, note=data["note"], gold=data["gold"]
        )
    except ApplicationError as error:
        # Spans mended by hand are not lost to a redirect: the page comes back with them, as after htmx.
        if not request.htmx and not kind.answers_with_values:
            messages.error(request, error.message)
            return redirect(f"{reverse('labeling:review', args=[dataset.pk])}?task={task.pk}")
        posted = {
            "label": _id(request.POST.get("label")),
            "note": request.POST.get("note", ""),
            "spans": request.POST.get("spans") or request.POST.get("answer"),
        }
        return _render(request, dataset, task, error=error.message, posted=posted)
    if not request.htmx:
        verb = "has" if review.value_id else "is"
        messages.success(request, f"Decided: {kind.task_title(task=task)} {verb} {_decision_text(kind, review)}.")
        return redirect(f"{reverse('labeling:review', args=[dataset.pk])}?after={task.pk}")
    return _render(request, dataset, review_queue_next(dataset=dataset, after=task.pk), decided=review)
