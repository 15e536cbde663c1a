"""Asking for a conflict check of a matching dataset after its answers changed, without slowing the answer down.

The check runs in the worker (`labeling.tasks.pair_conflicts_check_task`); the request is sent once the
answer's transaction commits, and coalesces: while one check of the dataset waits in the queue, further
answers join it (its run reads them all). A request whose message may have been lost (it waited longer than
`STALE`) is sent again.
"""

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from datasets.models import Dataset
from labeling.kinds.matching.models import PairConflictCheck

logger = logging.getLogger(__name__)

MATCHING = "matching"
STALE = timedelta(minutes=10)


def pair_conflicts_check_request(*, dataset: Dataset) -> None:
    """Queue a conflict check of `dataset` once the current transaction commits (nothing for other kinds)."""
    if dataset.task_type != MATCHING:
        return
    transaction.on_commit(partial(_send, dataset.pk), robust=True)


def _send(dataset_id: int) -> None:
    now = timezone.now()
    idle = Q(requested_at=None) | Q(requested_at__lt=now - STALE)
    if not PairConflictCheck.objects.filter(idle, dataset_id=dataset_id).update(requested_at=now):
        _, created = PairConflictCheck.objects.get_or_create(dataset_id=dataset_id, defaults={"requested_at": now})
        if not created:
            return  # a check waits already: it will read this answer too
    from labeling.tasks import pair_conflicts_check_task  # the task module imports the check, which imports us

    try:
        pair_conflicts_check_task.delay(dataset_id)
    except Exception:
        # The answer is saved either way; the next answer asks again, as a later sweep of requests would.
        PairConflictCheck.objects.filter(dataset_id=dataset_id, requested_at=now).update(requested_at=None)
        logger.exception("Could not queue the conflict check of dataset %s", dataset_id)
