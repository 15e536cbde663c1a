"""A lead's pages: datasets, settings, imports (members: member_views.py). Annotators see their datasets and their
own counts."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ApplicationError
from datasets.models import Role, TaskType
from datasets.selectors import dataset_create_allowed, dataset_get, dataset_list, membership_list
from labeling.kinds import kind_get
from labeling.kinds.matching.clustering import clusters_summary
from labeling.selectors import dataset_progress, datasets_progress, review_queue_count, user_progress
from workspace.forms import DatasetCreateForm, DatasetForm, InviteForm, MappingForm, MemberForm, UploadForm
from workspace.models import ImportKind, ImportStatus
from workspace.selectors import import_job_get, import_job_list, invite_open_list
from workspace.services.datasets import dataset_create, dataset_update
from workspace.services.import_kinds import import_kinds_for
from workspace.services.imports import import_error_report, import_job_create, import_job_preview, import_job_start


@login_required
@require_GET
def dataset_list_page(request: HttpRequest) -> HttpResponse:
    datasets = list(dataset_list(user=request.user))
    progress = datasets_progress(datasets=datasets)
    for dataset in datasets:
        dataset.progress = progress.get(dataset.pk, {"tasks": 0, "complete": 0})
    context = {"datasets": datasets, "can_create": dataset_create_allowed(user=request.user)}
    return render(request, "workspace/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_create_page(request: HttpRequest) -> HttpResponse:
    if not dataset_create_allowed(user=request.user):
        raise PermissionDenied("Only leads and admins create datasets.")
    form = DatasetCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = dataset_create(user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect("workspace:detail", dataset_id=dataset.pk)
    return render(request, "workspace/create.html", {"form": form})


@login_required
@require_GET
def dataset_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    context = {
        "dataset": dataset,
        "kind": kind_get(dataset.task_type),
        "mine": user_progress(dataset=dataset, user=request.user),
    }
    if dataset.user_role != Role.ANNOTATOR:
        context |= {
            "progress": dataset_progress(dataset=dataset),
            "review_count": review_queue_count(dataset=dataset),
            "members": membership_list(dataset=dataset),
            "imports": import_job_list(dataset=dataset)[:10],
            "settings_form": DatasetForm(instance=dataset),
            "member_form": MemberForm(),
            "invite_form": InviteForm(),
            "invite_days": settings.INVITE_MAX_AGE.days,
            "invites": invite_open_list(dataset=dataset),
            "upload_form": UploadForm(kinds=import_kinds_for(dataset=dataset)),
        }
        if dataset.task_type == TaskType.MATCHING:
            context["clusters"] = clusters_summary(dataset=dataset)
    template = "workspace/detail.html#progress" if request.htmx else "workspace/detail.html"
    return render(request, template, context)


@login_required
@require_POST
def dataset_settings(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    form = DatasetForm(request.POST, instance=dataset)
    if form.is_valid():
        try:
            dataset_update(dataset=dataset, **{field: form.cleaned_data[field] for field in form.changed_data})
            messages.success(request, "Settings saved.")
        except ApplicationError as error:
            messages.error(request, error.message)
    else:
        messages.error(
            request, "Settings not saved: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        )
    return redirect("workspace:detail", dataset_id=dataset_id)


@login_required
@require_POST
def import_upload(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """Store the file; products go on to the column mapping, the other kinds start at once."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    # Every kind passes the form: the service says why the dataset refuses one, which a choice error would not.
    form = UploadForm(request.POST, request.FILES, kinds=ImportKind.values)
    if not form.is_valid():
        messages.error(request, "Choose a file to import.")
        return redirect("workspace:detail", dataset_id=dataset_id)
    kind = form.cleaned_data["kind"]
    try:
        job = import_job_create(
            dataset=dataset,
            user=request.user,
            kind=kind,
            file=form.cleaned_data["file"],
            options={"create_labels": True} if form.cleaned_data["create_labels"] else {},
            start=kind != ImportKind.PRODUCTS,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("workspace:detail", dataset_id=dataset_id)
    if job.status == ImportStatus.DRAFT:
        return redirect("workspace:import-mapping", job_id=job.pk)
    return redirect("workspace:import-detail", job_id=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(user=request.user, job_id=job_id)
    if job.status != ImportStatus.DRAFT:
        return redirect("workspace:import-detail", job_id=job.pk)
    try:
        preview = import_job_preview(job=job)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("workspace:detail", dataset_id=job.dataset_id)
    kind = kind_get(job.dataset.task_type)
    form = MappingForm(
        request.POST or None,
        columns=preview["columns"],
        suggested=preview["suggested_mapping"],
        # A span answer is no column of a product file (spans import as Prodigy JSONL).
        labels=kind.tasks_per_product and not kind.answers_with_values,
    )
    if request.method == "POST" and form.is_valid():
        try:
            import_job_start(job=job, options=form.options())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect("workspace:import-detail", job_id=job.pk)
    return render(request, "workspace/import_mapping.html", {"job": job, "preview": preview, "form": form})


@login_required
@require_GET
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(user=request.user, job_id=job_id)
    template = "workspace/import_detail.html#status" if request.htmx else "workspace/import_detail.html"
    return render(request, template, {"job": job, "dataset": job.dataset})


@login_required
@require_GET
def import_errors(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = import_job_get(user=request.user, job_id=job_id)
    response = StreamingHttpResponse(import_error_report(job=job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
