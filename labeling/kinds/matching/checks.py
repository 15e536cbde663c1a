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
from datetime import UTC, datetime, timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from config.sql_rows import columns, instances
from datasets.models import Dataset
from labeling.kinds.matching.models import PairConflictCheck

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


# The matching datasets whose check is due, with what their last check read (`answers_seen_before`, NULL before
# the first): an answer changed since, and no check waiting (or one waiting longer than STALE, whose message may be
# lost). One statement for every dataset; each one's answers are probed on the (dataset, updated_at) index.
_DUE_SQL = f"""
SELECT {columns(PairConflictCheck, "c")}, d.id
FROM datasets_dataset d
LEFT JOIN labeling_pairconflictcheck c ON c.dataset_id = d.id
WHERE d.task_type = %(matching)s
  AND (c.requested_at IS NULL OR c.requested_at < %(stale)s)
  AND (c.requested_at IS NOT NULL OR EXISTS (
      SELECT 1 FROM labeling_annotation a
      WHERE a.dataset_id = d.id AND a.updated_at >= COALESCE(c.answers_seen_before, %(ever)s)
  ))
ORDER BY d.id
"""  # noqa: S608 - only the model's own column names are interpolated
EVER = datetime(2000, 1, 1, tzinfo=UTC)  # before any answer: a dataset never checked is due once it has one


def pair_conflicts_due_request(*, now: datetime | None = None) -> list[int]:
    """Queue the check of every matching dataset whose answers changed since its last check (or that was never
    checked), and again those whose request waited too long; returns their ids. Several workers may sweep at
    once: a dataset's check is queued by one of them, and not again while it waits."""
    now = now or timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_DUE_SQL, {"matching": MATCHING, "stale": adapt(now - STALE), "ever": adapt(EVER)})
        due = cursor.fetchall()
    requested = []
    for row in due:
        (check,), (dataset_id,) = instances(row, PairConflictCheck)  # a dataset never checked: a row of NULLs
        # A check that ended since this reading has seen the answers: not due any more.
        if _request(dataset_id, now=now, unchanged=Q(answers_seen_before=check.answers_seen_before)):
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
            return False  # a check waits already and will read these answers (or one read them since the sweep)
    from labeling.tasks import pair_conflicts_check_task  # the task module imports the check, which imports us

    try:
        pair_conflicts_check_task.delay(dataset_id)
    except Exception:
        # The answers are saved either way; the next sweep asks again.
        PairConflictCheck.objects.filter(dataset_id=dataset_id, requested_at=now).update(requested_at=None)
        logger.exception("Could not queue the conflict check of dataset %s", dataset_id)
        return False
    return True
