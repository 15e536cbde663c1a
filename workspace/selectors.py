"""Reads of the jobs and invite links, scoped like their dataset: only its leads see its imports, exports and
invites."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from datasets.models import Dataset
from datasets.selectors import lead_object_get
from workspace.models import CandidateRun, Export, ImportJob, Invite


def import_job_list(*, dataset: Dataset) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(dataset=dataset)


def import_job_get(*, user: AbstractBaseUser, job_id: int) -> ImportJob:
    return lead_object_get(ImportJob.objects.select_related("dataset"), user=user, pk=job_id, missing="No such import.")


def export_list(*, dataset: Dataset, status: str | None = None, fmt: str | None = None) -> QuerySet[Export]:
    exports = Export.objects.filter(dataset=dataset).select_related("created_by").order_by("-created_at", "-id")
    if status:
        exports = exports.filter(status=status)
    if fmt:
        exports = exports.filter(format=fmt)
    return exports


def export_get(*, user: AbstractBaseUser, export_id: int) -> Export:
    exports = Export.objects.select_related("dataset", "created_by")
    return lead_object_get(exports, user=user, pk=export_id, missing="No such export.")


def candidate_run_list(*, dataset: Dataset) -> QuerySet[CandidateRun]:
    return CandidateRun.objects.filter(dataset=dataset).select_related("created_by").order_by("-created_at", "-id")


def candidate_run_get(*, user: AbstractBaseUser, run_id: int) -> CandidateRun:
    runs = CandidateRun.objects.select_related("dataset", "created_by")
    return lead_object_get(runs, user=user, pk=run_id, missing="No such candidate run.")


def invite_open_list(*, dataset: Dataset) -> QuerySet[Invite]:
    """The dataset's invite links still usable: not used, not withdrawn, not expired; newest first."""
    return (
        Invite.objects.filter(
            dataset=dataset,
            used_at__isnull=True,
            withdrawn_at__isnull=True,
            created_at__gt=timezone.now() - settings.INVITE_MAX_AGE,
        )
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def invite_open_get(*, dataset: Dataset, invite_id: int) -> Invite:
    """One open invite of the dataset; a used, withdrawn, expired or another dataset's one is a 404."""
    invite = invite_open_list(dataset=dataset).filter(pk=invite_id).first()
    if invite is None:
        raise Http404("No such open invite.")
    return invite
