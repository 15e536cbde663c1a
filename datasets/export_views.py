"""The lead's exports page: queue a snapshot, watch it build, download the very bytes it stored."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from config.errors import ApplicationError
from datasets.forms import ExportForm
from datasets.models import Dataset, Export, ExportStatus, LabelPolicy, Role
from datasets.selectors import dataset_get, export_get, export_list
from datasets.services.exports import export_create

SHOWN = 50


def export_file_response(export: Export) -> FileResponse:
    """The stored file as an attachment; its sha256 is the ETag, since a snapshot's bytes never change."""
    response = FileResponse(export.file.open("rb"), as_attachment=True, filename=export.filename)
    response["ETag"] = f'"{export.sha256}"'
    return response


def params_summary(params: dict) -> str:
    """The parameters that shaped a snapshot, in a few words."""
    parts = []
    if params.get("policy") == LabelPolicy.MAJORITY:
        parts.append(f"agreement ≥ {params['min_agreement']:g}, ≥ {params['min_votes']} votes")
    if params.get("include_flagged"):
        parts.append("flagged included")
    if params.get("include_suggestions"):
        parts.append("suggestions")
    split = params.get("split")
    parts.append(f"split {'/'.join(f'{part:g}' for part in split)}, seed {params['seed']}" if split else "no split")
    return " · ".join(parts)


def _snapshots(dataset: Dataset) -> dict:
    exports = list(export_list(dataset=dataset)[:SHOWN])
    for export in exports:
        export.summary = params_summary(export.params)
    return {"dataset": dataset, "exports": exports, "polling": any(not export.is_finished for export in exports)}


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    if request.htmx and request.method == "GET":
        return render(request, "datasets/exports.html#snapshots", _snapshots(dataset))
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = export_create(
                dataset=dataset, user=request.user, fmt=data["format"], policy=data["policy"], options=form.options()
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Export {export.pk} is queued; the worker builds it.")
            return redirect("datasets:exports", dataset_id=dataset.pk)
    status = 400 if form.errors else 200
    return render(request, "datasets/exports.html", _snapshots(dataset) | {"form": form}, status=status)


@login_required
@require_GET
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    export = export_get(user=request.user, export_id=export_id)
    if export.status != ExportStatus.SUCCEEDED:
        messages.error(request, f"The export is not ready: {export.get_status_display().lower()}.")
        return redirect("datasets:exports", dataset_id=export.dataset_id)
    return export_file_response(export)
