"""Reads scoped by membership: another dataset's id is a 404, a lower role a 403."""

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model, OuterRef, QuerySet, Subquery
from django.http import Http404

from datasets.models import Dataset, Export, ImportJob, Label, Membership, Role

M = TypeVar("M", bound=Model)

ADMIN = "admin"
_RANK = {Role.ANNOTATOR: 1, Role.LEAD: 2, ADMIN: 3}


def dataset_create_allowed(*, user: AbstractBaseUser) -> bool:
    """Admins, staff and the leads of a dataset may create datasets: the one rule of the page and the API."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.is_staff or Membership.objects.filter(user=user, role=Role.LEAD).exists()


def dataset_list(*, user: AbstractBaseUser) -> QuerySet[Dataset]:
    if user.is_superuser:
        return Dataset.objects.all()
    return Dataset.objects.filter(memberships__user=user)


def dataset_get(*, user: AbstractBaseUser, dataset_id: int, role: str = Role.ANNOTATOR) -> Dataset:
    """The dataset if the user may act in it with at least `role`; read with the user's role in one query."""
    datasets = Dataset.objects.filter(pk=dataset_id)
    if not user.is_superuser:
        roles = Membership.objects.filter(dataset=OuterRef("pk"), user=user).values("role")[:1]
        datasets = datasets.annotate(member_role=Subquery(roles))
    dataset = datasets.first()
    user_role = None if dataset is None else (ADMIN if user.is_superuser else dataset.member_role)
    if user_role is None:
        raise Http404("No such dataset.")
    if _RANK[user_role] < _RANK[role]:
        raise PermissionDenied(f"This needs the {role} role in this dataset.")
    dataset.user_role = user_role
    return dataset


def label_search(*, dataset: Dataset, query: str = "", limit: int | None = 20) -> QuerySet[Label]:
    """Labels whose path contains every word of the query, leaves and shallow paths first; all of them
    with limit=None (the API pages them)."""
    labels = Label.objects.filter(dataset=dataset)
    for word in query.split():
        labels = labels.filter(path__icontains=word)
    return labels.annotate(n_children=Count("children")).order_by("n_children", "depth", "path", "pk")[:limit]


def membership_list(*, dataset: Dataset) -> QuerySet[Membership]:
    return Membership.objects.filter(dataset=dataset).select_related("user").order_by("role", "user__username")


def import_job_list(*, dataset: Dataset) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(dataset=dataset)


def lead_object_get(queryset: QuerySet[M], *, user: AbstractBaseUser, pk: int, missing: str) -> M:
    """One record of a dataset (a job, say), for the dataset's leads: 404 if there is none or it is another
    dataset's, 403 for its annotators."""
    record = queryset.filter(pk=pk).first()
    if record is None:
        raise Http404(missing)
    dataset_get(user=user, dataset_id=record.dataset_id, role=Role.LEAD)
    return record


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
