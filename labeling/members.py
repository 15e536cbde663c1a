"""One member's figures for the lead: volume, today, speed, and agreement and gold accuracy from the latest
quality report (computed in the worker; figures change only when a new report is made)."""

from datetime import timedelta
from statistics import median

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Q
from django.utils import timezone

from datasets.models import Dataset
from labeling.models import Annotation, AnnotationStatus
from labeling.quality.report import quality_report_latest

# Speed over the member's recent answers: how fast they work now, not in their first hour.
RECENT_ANSWERS = 200


def member_figures(*, dataset: Dataset, user: AbstractBaseUser) -> dict:
    mine = Annotation.objects.filter(dataset=dataset, user=user)
    day_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    submitted = Q(status=AnnotationStatus.SUBMITTED)
    counts = mine.aggregate(
        answers=Count("pk", filter=submitted),
        today=Count("pk", filter=submitted & Q(updated_at__gte=day_start)),
        week=Count("pk", filter=submitted & Q(updated_at__gte=day_start - timedelta(days=6))),
        skipped=Count("pk", filter=Q(status=AnnotationStatus.SKIPPED)),
        flagged=Count("pk", filter=Q(flagged=True)),
        last=Max("updated_at"),
    )
    seconds = list(
        mine.filter(submitted, active_seconds__isnull=False)
        .order_by("-updated_at")
        .values_list("active_seconds", flat=True)[:RECENT_ANSWERS]
    )
    speed = None
    if seconds and sum(seconds) > 0:
        speed = {
            "answers": len(seconds),
            "median_seconds": round(median(seconds), 1),
            "per_hour": round(3600 * len(seconds) / sum(seconds), 1),
        }
    return {**counts, "speed": speed, "quality": _report_row(dataset=dataset, user=user)}


def _report_row(*, dataset: Dataset, user: AbstractBaseUser) -> dict | None:
    """The member's row of the latest quality report's annotators, with when the report was made."""
    report = quality_report_latest(dataset=dataset)
    if report is None:
        return None
    row = next((row for row in report.figures.get("annotators", []) if row.get("rater") == user.pk), None)
    return {"report": report, "row": row}
