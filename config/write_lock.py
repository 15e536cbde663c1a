"""SQLite's one write lock, shared between a job's long series of writes and the requests (issue 16).

SQLite lets one connection write at a time, from BEGIN (transaction_mode IMMEDIATE) to COMMIT; another writer
polls in SQLite's busy handler, sleeping 1, 2, 5, 10, 15, 20, 25 ms... between tries, and up to 100 ms once it
has waited a third of a second. A job that committed batch after batch would take the lock again before a
waiting request's next try, so a request could wait out the whole job. After each of its batches, the job
sleeps: as long as the batch held the lock, at least a waiter's early poll (25 ms) and at most 100 ms.
PostgreSQL locks rows, not the database: no pause there.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

PAUSE_MIN = 0.025
PAUSE_MAX = 0.1


@contextmanager
def job_batch() -> Iterator[None]:
    """One transaction of a job's series of writes; on SQLite, a pause after it commits (see the module).

    Inside a caller's transaction the lock stays held anyway: no pause, which would only lengthen it."""
    started = time.perf_counter()
    with transaction.atomic():
        yield
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        time.sleep(min(max(time.perf_counter() - started, PAUSE_MIN), PAUSE_MAX))
