"""The lead's quality dashboard: the latest report's figures, and a recompute that runs in the worker."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from config.errors import ApplicationError
from config.jobs.views import job_action_response
from datasets.models import Dataset, Role
from datasets.selectors import dataset_get
from labeling.gold import gold_item_count, gold_promote_imported, gold_sources
from labeling.kinds import kind_get
from labeling.quality.report import quality_report_latest, quality_report_request, quality_report_retry
from labeling.quality_display import count, dashboard
from labeling.quality_selectors import (
    quality_report_exists,
    quality_report_failed,
    quality_report_get,
    quality_report_newer_answers,
    quality_report_pending,
)


def _lead_dataset(request: HttpRequest, dataset_id: int) -> Dataset:
    try:
        return dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    except PermissionDenied as error:
        raise PermissionDenied("Annotators cannot see others' statistics.") from error


def _status_context(dataset: Dataset) -> dict:
    latest = quality_report_latest(dataset=dataset)
    return {
        "dataset": dataset,
        "kind": kind_get(dataset.task_type),
        "latest": latest,
        "included": count(latest.figures.get("answers", 0)) if latest else "",
        "pending": quality_report_pending(dataset=dataset),
        "failed": quality_report_failed(dataset=dataset),
        "newer_answers": quality_report_newer_answers(report=latest) if latest else 0,
    }


@login_required
@require_GET
def quality_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _lead_dataset(request, dataset_id)
    if not request.htmx and not quality_report_exists(dataset=dataset):
        try:
            quality_report_request(dataset=dataset, user=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
    context = _status_context(dataset)
    if request.htmx:
        # The poll stops once the computation is over; the whole page then reloads with the new figures.
        if request.GET.get("poll") and context["pending"] is None:
            return HttpResponseClientRefresh()
        return render(request, "labeling/quality.html#status", context)
    latest = context["latest"]
    context["figures"] = dashboard(latest.figures, items=context["kind"].task_noun_plural) if latest else None
    context["gold"] = {"items": gold_item_count(dataset=dataset), "sources": gold_sources(dataset=dataset)}
    return render(request, "labeling/quality.html", context)


@login_required
@require_POST
def quality_gold(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """Promote a trusted import source's labels to gold items (at most `limit`, in the seeded random order)."""
    dataset = _lead_dataset(request, dataset_id)
    source = request.POST.get("source", "")
    limit = request.POST.get("limit", "").strip()
    try:
        promoted = gold_promote_imported(
            dataset=dataset, source=source, limit=int(limit) if limit.isascii() and limit.isdigit() else None
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        noun = kind_get(dataset.task_type).task_noun_plural
        messages.success(request, f"{promoted} {noun} from {source!r} are now gold items, served unannounced.")
    return redirect("labeling:quality", dataset_id=dataset.pk)


@login_required
@require_POST
def quality_compute(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _lead_dataset(request, dataset_id)
    asked_at = timezone.now()
    try:
        report = quality_report_request(dataset=dataset, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return HttpResponseClientRefresh() if request.htmx else redirect("labeling:quality", dataset_id=dataset.pk)
    if report.created_at >= asked_at:
        notice = "A new report is queued; the worker computes it from the answers there are when it starts."
    else:
        notice = "A report is already waiting to be computed; it will include the newest answers too."
    if request.htmx:
        return render(request, "labeling/quality.html#status", _status_context(dataset) | {"notice": notice})
    messages.success(request, notice)
    return redirect("labeling:quality", dataset_id=dataset.pk)


@login_required
@require_POST
def quality_report_action(request: HttpRequest, report_id: int, action: str) -> HttpResponse:
    """Cancel a waiting or running computation, or retry a failed or cancelled one (as a new report)."""
    try:
        report = quality_report_get(user=request.user, report_id=report_id)
    except PermissionDenied as error:
        raise PermissionDenied("Annotators cannot see others' statistics.") from error
    return job_action_response(
        request,
        job=report,
        action=action,
        back_to=reverse("labeling:quality", args=[report.dataset_id]),
        retry=lambda job: quality_report_retry(report=job, user=request.user),
    )
