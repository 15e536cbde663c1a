"""The lead's exports page: queue a snapshot, watch it build, download the very bytes it stored."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ApplicationError
from config.jobs.views import job_action_response
from datasets.exporters import CONTENT_TYPES
from datasets.exporters.splits import SPLIT_NAMES
from datasets.models import Dataset, Role
from datasets.selectors import dataset_get
from labeling.kinds import kind_get
from labeling.resolve import LabelPolicy
from workspace.forms import ExportForm
from workspace.models import Export, ExportStatus
from workspace.selectors import export_get, export_list
from workspace.services.exports import export_create

SHOWN = 50


def export_file_response(export: Export) -> FileResponse:
    """The stored file as an attachment; its sha256 is the ETag, since a snapshot's bytes never change."""
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename,
        content_type=CONTENT_TYPES[export.format],
    )
    response["ETag"] = f'"{export.sha256}"'
    return response


def params_summary(params: dict) -> str:
    """The parameters that shaped a snapshot, in a few words."""
    parts = []
    if params.get("policy") == LabelPolicy.MAJORITY:
        parts.append(f"agreement ≥ {params['min_agreement']:g}, ≥ {params['min_votes']} votes")
    if params.get("policy") == LabelPolicy.PREDICTED:
        parts.append(f"model v{params['model_version']['number']}")
        if params["min_confidence"]:
            parts.append(f"probability ≥ {params['min_confidence']:g}")
    if params.get("include_flagged"):
        parts.append("flagged included")
    if params.get("include_suggestions"):
        parts.append("suggestions")
    if params.get("cluster_matches"):
        threshold = params.get("cluster_threshold")
        if threshold is None:
            parts.append("labeled matches")
        else:
            parts.append(f"labeled + predicted matches (average p ≥ {threshold:g})")
        return " · ".join(parts)
    if params.get("policy") == LabelPolicy.PREDICTED:
        return " · ".join(parts)  # never split: it is the catalog's output, not a training set
    split = params.get("split")
    parts.append(f"split {'/'.join(f'{part:g}' for part in split)}, seed {params['seed']}" if split else "no split")
    return " · ".join(parts)


def banner(export: Export) -> tuple[str, str]:
    """The tone and sentence of the banner that follows an export from the request to its file."""
    if export.status == ExportStatus.QUEUED:
        return "info", f"Export {export.pk} is queued; the worker builds it."
    if export.status == ExportStatus.RUNNING:
        return "info", f"Export {export.pk} is being built: {export.progress:.0%} of about {export.rows_total:,} rows."
    if export.status == ExportStatus.SUCCEEDED:
        tone = "warning" if (export.split_counts or {}).get("warnings") else "success"
        return tone, f"Export {export.pk} is ready: {export.row_count:,} rows."
    if export.status == ExportStatus.FAILED:
        return "error", f"Export {export.pk} failed: {export.message}"
    return "warning", f"Export {export.pk} is cancelled: {export.message}"


def _snapshots(dataset: Dataset, watched_id: str | None = None) -> dict:
    """The snapshots table, and the banner of the export the lead just asked for (`?export=<id>`), kept live by the
    same poll: a flash message would still say "queued" once the file is ready."""
    exports = list(export_list(dataset=dataset)[:SHOWN])
    for export in exports:
        export.summary = params_summary(export.params)
        counts = export.split_counts or {}
        export.split_parts = [(name, counts[name]) for name in SPLIT_NAMES if name in counts]
        export.split_warnings = counts.get("warnings") or []
    watched = next((export for export in exports if str(export.pk) == watched_id), None)
    return {
        "dataset": dataset,
        "exports": exports,
        "polling": any(not export.is_finished for export in exports),
        "watched": watched,
        "banner": banner(watched) if watched else None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    watched_id = request.GET.get("export")
    if request.htmx and request.method == "GET":
        return render(request, "workspace/exports.html#snapshots", _snapshots(dataset, watched_id))
    kind = kind_get(dataset.task_type)
    form = ExportForm(
        request.POST or None,
        formats=kind.export_formats,
        suggestions=kind.exports_suggestions,
        predictions=kind.exports_predictions,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = export_create(
                dataset=dataset, user=request.user, fmt=data["format"], policy=data["policy"], options=form.options()
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect(f"{reverse('workspace:exports', args=[dataset.pk])}?export={export.pk}")
    status = 400 if form.errors else 200
    return render(request, "workspace/exports.html", _snapshots(dataset, watched_id) | {"form": form}, status=status)


@login_required
@require_GET
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    export = export_get(user=request.user, export_id=export_id)
    if export.status != ExportStatus.SUCCEEDED:
        messages.error(request, f"The export is not ready: {export.get_status_display().lower()}.")
        return redirect("workspace:exports", dataset_id=export.dataset_id)
    return export_file_response(export)


@login_required
@require_POST
def export_action(request: HttpRequest, export_id: int, action: str) -> HttpResponse:
    """Cancel a waiting or running export, or build a failed or cancelled one again."""
    export = export_get(user=request.user, export_id=export_id)
    # The page's live banner follows the watched export, so no flashed message that would go stale.
    back_to = reverse("workspace:exports", args=[export.dataset_id]) + f"?export={export.pk}"
    return job_action_response(request, job=export, action=action, back_to=back_to, announce=False)
