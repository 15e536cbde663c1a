"""Quality reports: request one (coalescing with a waiting one), compute it in the worker, read the latest.

The answers are read once into numpy arrays (about 40 bytes per answer: 40 MB at a million) and every
figure is computed from them by `agreement` and `annotators`; the daily activity comes from SQL.
"""

from __future__ import annotations

import logging
from array import array
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max

from config.errors import ConflictError
from config.jobs.dispatch import job_enqueue, job_nudge
from config.jobs.lifecycle import JobRun, job_execute, job_state
from datasets.models import Dataset, Label
from labeling.kinds import kind_get
from labeling.models import Annotation, AnnotationStatus, LabelSource, QualityReport, QualityStatus, Task
from labeling.quality import agreement
from labeling.quality.annotators import annotator_confusion, annotator_stats

logger = logging.getLogger(__name__)

FETCH_ROWS = 20_000


def quality_report_request(
    *, dataset: Dataset, user: AbstractBaseUser | None, enqueue: bool = True
) -> QualityReport:
    """Queue a computation in the worker, or return the one already waiting (re-sent if it waited long).

    enqueue=False leaves the computation to the caller (commands and benchmarks compute in their own process).
    """
    waiting = QualityReport.objects.filter(dataset=dataset, status=QualityStatus.QUEUED).first()
    if waiting is not None:
        if enqueue:
            job_nudge(waiting)
        return waiting
    try:
        with transaction.atomic():
            report = QualityReport.objects.create(dataset=dataset, requested_by=user)
            if enqueue:
                job_enqueue(report)
    except IntegrityError:  # another request queued one between the check and the insert
        return QualityReport.objects.get(dataset=dataset, status=QualityStatus.QUEUED)
    return report


def quality_report_retry(*, report: QualityReport, user: AbstractBaseUser | None) -> QualityReport:
    """Compute again after a failed or cancelled report: a new report (or the one already waiting)."""
    if not report.can_retry:
        state = job_state(report)
        raise ConflictError(f"This quality report is {state}; only a failed or cancelled one can be retried.")
    return quality_report_request(dataset=report.dataset, user=user)


def quality_report_latest(*, dataset: Dataset) -> QualityReport | None:
    return QualityReport.objects.filter(dataset=dataset, status=QualityStatus.SUCCEEDED).first()


def quality_report_run(*, report_id: int) -> QualityReport | None:
    """Compute a queued report. Safe to run twice: a finished report is left as it is."""
    return job_execute(
        QualityReport, report_id, _compute, on_error=lambda error: "The computation stopped on an unexpected error."
    )


def _compute(report: QualityReport, run: JobRun) -> None:
    last_id, figures = quality_figures(dataset=report.dataset)
    run.finish(QualityStatus.SUCCEEDED, "", figures=figures, last_annotation_id=last_id)


def _ratings(
    dataset: Dataset, last_id: int, answer: str = "label"
) -> tuple[np.ndarray, np.ndarray, dict[int, str], dict[str, int]]:
    """Every labeled answer as (task, rater, label) with its active seconds; imports are raters too. `answer`
    "value": the answers of a kind answered with values, as (task, rater, value id).

    Users keep their ids; each import source gets a negative id, so it can never meet a user's.
    """
    triples, seconds = array("q"), array("d")
    sources: dict[str, int] = {}
    rows = (
        Annotation.objects.filter(
            dataset=dataset, status=AnnotationStatus.SUBMITTED, pk__lte=last_id,
            source__in=[LabelSource.HUMAN, LabelSource.IMPORT], **{f"{answer}__isnull": False},
        )
        .order_by()
        .values_list("task_id", "user_id", "source_name", f"{answer}_id", "active_seconds")
    )
    for task_id, user_id, source_name, label_id, active in rows.iterator(chunk_size=FETCH_ROWS):
        rater = user_id if user_id is not None else sources.setdefault(source_name, -(len(sources) + 1))
        triples.extend((task_id, rater, label_id))
        seconds.append(np.nan if active is None else active)
    user_ids = sorted({rater for rater in triples[1::3] if rater > 0})
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    names |= {rater: f"import: {source or 'unnamed'}" for source, rater in sources.items()}
    triples_array = np.frombuffer(triples, dtype=np.int64).reshape(-1, 3)
    return triples_array, np.frombuffer(seconds, dtype=np.float64), names, sources


def _ancestors(labels: dict[int, Label]) -> dict[int, list[int]]:
    """Each label's path of ids from the root, for agreement per taxonomy level."""
    paths: dict[int, list[int]] = {}

    def path_of(label_id: int) -> list[int]:
        if label_id not in paths:
            parent = labels[label_id].parent_id
            paths[label_id] = ([*path_of(parent)] if parent in labels else []) + [label_id]
        return paths[label_id]

    for label_id in labels:
        path_of(label_id)
    return paths


def _activity(dataset: Dataset, last_id: int, answer: str = "label") -> list[dict[str, Any]]:
    """Per day (UTC): people's labels, products they labeled for the first time, and the running total of those.

    Imported labels are left out: they would pile onto the day of the import and say nothing of throughput.
    """
    day = "DATE({})" if connection.vendor == "sqlite" else "CAST(({} AT TIME ZONE 'UTC') AS date)"
    submitted = (
        f"dataset_id = %s AND status = '{AnnotationStatus.SUBMITTED}' AND source = '{LabelSource.HUMAN}' "
        f"AND {answer}_id IS NOT NULL AND id <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {day.format('created_at')}, COUNT(*) FROM labeling_annotation WHERE {submitted} GROUP BY 1",  # noqa: S608
            [dataset.pk, last_id],
        )
        answers = {str(when): count for when, count in cursor.fetchall()}
        cursor.execute(
            f"SELECT {day.format('first')}, COUNT(*) FROM ("  # noqa: S608
            f"  SELECT task_id, MIN(created_at) AS first FROM labeling_annotation WHERE {submitted} GROUP BY task_id"
            ") firsts GROUP BY 1",
            [dataset.pk, last_id],
        )
        firsts = {str(when): count for when, count in cursor.fetchall()}
    total = 0
    days = []
    for when in sorted(set(answers) | set(firsts)):
        total += firsts.get(when, 0)
        days.append(
            {"day": when, "answers": answers.get(when, 0), "labeled": firsts.get(when, 0), "labeled_total": total}
        )
    return days


def quality_figures(*, dataset: Dataset) -> tuple[int, dict[str, Any]]:
    """(the newest answer included, every figure of the dashboard) for the dataset as it is now."""
    last_id = Annotation.objects.filter(dataset=dataset).aggregate(last=Max("pk"))["last"] or 0
    kind = kind_get(dataset.task_type)
    # A kind answered with values (spans) is compared by value id: equal ids are equal whole answers.
    answer = kind.answer_column
    ratings, seconds, names, sources = _ratings(dataset, last_id, answer)
    labels = {label.pk: label for label in Label.objects.filter(dataset=dataset)}
    gold = dict(Task.objects.filter(dataset=dataset, is_gold=True).values_list("pk", f"gold_{answer}_id"))
    # Answers given before a task became gold were not blind tests (an import that defined the gold label
    # least of all): they do not measure accuracy.
    before_gold = {
        (task_id, user_id if user_id is not None else sources.get(source_name))
        for task_id, user_id, source_name in Annotation.objects.filter(
            dataset=dataset, task__is_gold=True, task__gold_since__gt=F("created_at")
        ).values_list("task_id", "user_id", "source_name")
    }
    skips = dict(
        Annotation.objects.filter(dataset=dataset, status=AnnotationStatus.SKIPPED, user__isnull=False, pk__lte=last_id)
        .values("user_id").annotate(n=Count("pk")).values_list("user_id", "n")
    )
    fleiss = agreement.fleiss_kappa(ratings)
    per_label = agreement.per_label_agreement(ratings)
    label_counts = dict(zip(*np.unique(ratings[:, 2], return_counts=True), strict=True)) if len(ratings) else {}
    annotators = annotator_stats(ratings, seconds, gold, skips, not_gold=before_gold)
    for row in annotators:
        row["name"] = names.get(row["rater"], f"user {row['rater']}")
    per_item = np.unique(ratings[:, 0], return_counts=True)[1]
    if kind.answers_with_values:
        # Kappa, alpha and a confusion matrix over value ids would treat each task's answers as categories of
        # their own: the kind gives its own agreement figures instead (spans: span F1 and token kappa).
        return last_id, {
            "answers": len(ratings),
            "items": len(per_item),
            "items_with_overlap": int((per_item >= 2).sum()),
            "percent_agreement": agreement.percent_agreement(ratings),
            "annotators": annotators,
            "gold_items": len(gold),
            "activity": _activity(dataset, last_id, answer),
            **kind.quality_figures(dataset=dataset, last_id=last_id, names=names, sources=sources),
        }
    grades = kind.label_grades(dataset=dataset)
    pairs = agreement.cohen_kappa_pairs(ratings, grades=grades)
    for pair in pairs:
        pair["name_a"], pair["name_b"] = names.get(pair["rater_a"]), names.get(pair["rater_b"])
    confusion = annotator_confusion(ratings)
    return last_id, {
        "answers": len(ratings),
        "items": len(per_item),
        "items_with_overlap": int((per_item >= 2).sum()),
        "percent_agreement": agreement.percent_agreement(ratings),
        "fleiss": fleiss,
        "alpha": agreement.krippendorff_alpha(ratings),
        # Ordered answers (relevance grades): an Exact against a Substitute is a nearer miss than against Irrelevant.
        **(
            {
                "alpha_ordinal": agreement.krippendorff_alpha(ratings, level="ordinal", grades=grades),
                "alpha_interval": agreement.krippendorff_alpha(ratings, level="interval", grades=grades),
            }
            if grades is not None
            else {}
        ),
        "pairs": pairs,
        "levels": agreement.level_agreement(ratings, _ancestors(labels)) if len(ratings) else [],
        "per_label": [
            {"label_id": int(label_id), "path": labels[label_id].path, "answers": int(label_counts.get(label_id, 0)),
             **figures}
            for label_id, figures in sorted(per_label.items())
            if label_id in labels
        ],
        "annotators": annotators,
        "gold_items": len(gold),
        "confusion": {
            "labels": [labels[label_id].path for label_id in confusion["labels"]],
            "matrix": confusion["matrix"],
        },
        "activity": _activity(dataset, last_id),
    }
