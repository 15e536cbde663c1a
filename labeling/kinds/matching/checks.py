"""When a matching dataset's conflict check runs: after its answers changed, never on an annotator's submit.

The check runs in the worker (`labeling.tasks.pair_conflicts_check_task`). Answers submitted (and skipped) make
it due: every worker's sweep (`config.jobs.signals.swept`, every JOB_SWEEP_SECONDS) finds the due datasets in one
query and queues their checks (`pair_conflicts_due_request`), so a submit writes nothing for it and a
contradiction shows up at most one sweep after the answer that makes it. What changes answers without a newer
one to find (an undo removes one) or is rare and awaited (a review decision, an import) asks at once instead,
once its transaction commits (`pair_conflicts_check_request`).

Either way a request coalesces: while one check of the dataset waits in the queue, further requests join it (its
run reads every answer). A request whose message may have been lost (it waited longer than `STALE`) is sent
again, by the next sweep at the latest.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from datasets.models import Dataset
from labeling.kinds.matching.models import PairConflictCheck
from labeling.models import Annotation

logger = logging.getLogger(__name__)

MATCHING = "matching"
STALE = timedelta(minutes=10)
# How long an answer's transaction may stay open after it took the time it writes as `updated_at` (a web request
# ends within gunicorn's 30 s timeout): a check counts the answers changed since this long before it began as
# not seen, so one that committed just after the check's reading makes the next sweep check again.
ANSWER_IN_FLIGHT = timedelta(seconds=30)


def pair_conflicts_check_request(*, dataset: Dataset) -> None:
    """Queue a conflict check of `dataset` once the current transaction commits (nothing for other kinds)."""
    if dataset.task_type != MATCHING:
        return
    transaction.on_commit(partial(_request, dataset.pk), robust=True)


def pair_conflicts_seen_before(*, started: datetime) -> datetime:
    """What a check that began reading at `started` records as `PairConflictCheck.answers_seen_before`."""
    return started - ANSWER_IN_FLIGHT


def pair_conflicts_due_request(*, now: datetime | None = None) -> list[int]:
    """Queue the check of every matching dataset whose answers changed since its last check (or that was never
    checked), and again those whose request waited too long; returns their ids. Several workers may sweep at
    once: a dataset's check is queued by one of them, and not again while it waits."""
    now = now or timezone.now()
    checks = PairConflictCheck.objects.filter(dataset=OuterRef("pk"))
    answers = Annotation.objects.filter(dataset=OuterRef("pk"))
    due = (
        Dataset.objects.filter(task_type=MATCHING)
        .alias(requested=Subquery(checks.values("requested_at")))
        .annotate(seen_before=Subquery(checks.values("answers_seen_before")))
        .filter(Q(requested=None) | Q(requested__lt=now - STALE))
        .filter(
            Q(requested__isnull=False)
            | Q(seen_before=None) & Exists(answers)
            | Exists(answers.filter(updated_at__gte=OuterRef("seen_before")))
        )
        .values_list("pk", "seen_before")
    )
    requested = []
    for dataset_id, seen_before in due:
        # A check that ended since this reading has seen the answers: not due any more.
        if _request(dataset_id, now=now, unchanged=Q(answers_seen_before=seen_before)):
            requested.append(dataset_id)
    return requested


def _request(dataset_id: int, *, now: datetime | None = None, unchanged: Q | None = None) -> bool:
    """Mark the dataset's check as waiting and send it, unless one waits already (or `unchanged` no longer
    holds of its row); True when this call sent it."""
    now = now or timezone.now()
    idle = Q(requested_at=None) | Q(requested_at__lt=now - STALE)
    if not PairConflictCheck.objects.filter(idle, unchanged or Q(), dataset_id=dataset_id).update(requested_at=now):
        _, created = PairConflictCheck.objects.get_or_create(dataset_id=dataset_id, defaults={"requested_at": now})
        if not created:
            return False  # a check waits already: it will read these answers too
    from labeling.tasks import pair_conflicts_check_task  # the task module imports the check, which imports us

    try:
        pair_conflicts_check_task.delay(dataset_id)
    except Exception:
        # The answers are saved either way; the next sweep asks again.
        PairConflictCheck.objects.filter(dataset_id=dataset_id, requested_at=now).update(requested_at=None)
        logger.exception("Could not queue the conflict check of dataset %s", dataset_id)
        return False
    return True
