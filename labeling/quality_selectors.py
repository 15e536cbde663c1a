"""Reads around quality reports: the one waiting or running, and how far the latest ready one is behind."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from datasets.models import Dataset
from datasets.selectors import lead_object_get
from labeling.models import Annotation, QualityReport, QualityStatus


def quality_report_pending(*, dataset: Dataset) -> QualityReport | None:
    """The newest report still to be computed (queued or running), if any."""
    return QualityReport.objects.filter(
        dataset=dataset, status__in=[QualityStatus.QUEUED, QualityStatus.RUNNING]
    ).first()


def quality_report_exists(*, dataset: Dataset) -> bool:
    return QualityReport.objects.filter(dataset=dataset).exists()


def quality_report_newer_answers(*, report: QualityReport) -> int:
    """Answers the report does not include: given after its newest one, or changed since it started.

    A changed answer keeps its id, so comparing ids alone would miss it; both conditions are index lookups
    (the primary key, and `annotation_dataset_recent`).
    """
    changed_since = report.started_at or report.created_at
    return (
        Annotation.objects.filter(dataset_id=report.dataset_id)
        .filter(Q(pk__gt=report.last_annotation_id) | Q(updated_at__gt=changed_since))
        .count()
    )


def quality_report_failed(*, dataset: Dataset) -> QualityReport | None:
    """The newest report, if its computation failed or was cancelled: the page says so until a later one is ready."""
    newest = QualityReport.objects.filter(dataset=dataset).first()
    return newest if newest is not None and newest.status in (QualityStatus.FAILED, QualityStatus.CANCELLED) else None


def quality_report_get(*, user: AbstractBaseUser, report_id: int) -> QualityReport:
    """One report, for the leads of its dataset (404 for others, 403 for its annotators)."""
    reports = QualityReport.objects.select_related("dataset")
    return lead_object_get(reports, user=user, pk=report_id, missing="No such quality report.")
