"""An annotator's figures on the labeling page: what is left in the dataset, their answers today and in this
session, and their pace. Three indexed queries a page: the user's totals and recent answer times
(`annotation_user_recent`: dataset, user, -updated_at) and the open tasks (`task_queue_random`, partial on open
tasks), counted exactly up to `EXACT_OPEN` and beyond that once per `OPEN_COUNT_SECONDS` per process: a count of
a million index entries takes tens of milliseconds, and a figure that large is no worse for being seconds old.

A session is the run of the user's answers with no pause longer than `SESSION_GAP` between two of them, ending
less than `SESSION_GAP` ago: worked out from the answers' times, it survives a reload or a second tab, and a
return from lunch starts a new one at 0. Pace is answers per hour between the session's first and last answer
((n - 1) gaps over that span), shown from the second answer on. "Today" is the server's day (`TIME_ZONE`). An
answer counts where it is now: changed or undone answers count at their last change, or not at all.
"""

import time
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from datasets.models import Dataset
from labeling.models import Annotation, AnnotationStatus, Task
from labeling.selectors import user_progress

SESSION_GAP = timedelta(minutes=30)
EXACT_OPEN = 10_000
OPEN_COUNT_SECONDS = 30.0
# Today's answers are read one timestamp each; a day of fast answering stays well under this.
RECENT_LIMIT = 5_000


def session_figures(times: list[datetime], *, now: datetime) -> dict[str, object]:
    """The session within `times` (newest first): its answer count, start and pace (answers per hour)."""
    if not times or now - times[0] > SESSION_GAP:
        return {"session": 0, "session_start": None, "pace": None}
    count = 1
    while count < len(times) and times[count - 1] - times[count] <= SESSION_GAP:
        count += 1
    span = (times[0] - times[count - 1]).total_seconds()
    pace = round((count - 1) * 3600 / span) if count > 1 and span > 0 else None
    return {"session": count, "session_start": times[count - 1], "pace": pace}


# dataset id -> (monotonic time counted, open tasks), for the datasets with more than EXACT_OPEN of them.
_open_counts: dict[int, tuple[float, int]] = {}


def open_tasks_count(*, dataset: Dataset) -> int:
    """The dataset's open tasks: exact up to EXACT_OPEN (a bounded count), else counted at most every
    OPEN_COUNT_SECONDS in this process."""
    open_tasks = Task.objects.filter(dataset=dataset, is_complete=False)
    bounded = open_tasks[: EXACT_OPEN + 1].count()
    if bounded <= EXACT_OPEN:
        return bounded
    counted = _open_counts.get(dataset.pk)
    if counted is not None and time.monotonic() - counted[0] < OPEN_COUNT_SECONDS:
        return counted[1]
    total = open_tasks.count()
    _open_counts[dataset.pk] = (time.monotonic(), total)
    return total


def annotator_progress(*, dataset: Dataset, user: AbstractBaseUser, now: datetime | None = None) -> dict[str, object]:
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    # A session that began before midnight is still read whole, up to a working day back.
    since = min(today, now - timedelta(hours=12))
    times = list(
        Annotation.objects.filter(dataset=dataset, user=user, status=AnnotationStatus.SUBMITTED, updated_at__gte=since)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)[:RECENT_LIMIT]
    )
    return {
        **user_progress(dataset=dataset, user=user),
        "remaining": open_tasks_count(dataset=dataset),
        "today": sum(1 for moment in times if moment >= today),
        **session_figures(times, now=now),
    }
