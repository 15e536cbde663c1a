"""Batch upserts of one dataset's products or queries take turns (PostgreSQL).

Two imports of one dataset on two workers upsert batches that may share records in different orders; each
batch locks its rows as it writes them, so two such batches could each hold a row the other waits for: a
deadlock, and one import failed (tests/jobs/test_scale_out.py). A batch first takes its dataset's transaction
advisory lock, held until the batch commits: batches of one dataset write one after the other (their parsing
still runs in parallel), other datasets' never wait, and the rows keep the file's order (their ids, exports).
"""

from django.db import connection

from datasets.models import Dataset

# The advisory lock space of these locks (pg_advisory_xact_lock(space, key)): "SM" and 1.
SPACE = 0x534D_0001
KEYS = 2**31  # the key is an int4: a dataset id past it shares a lock with another (they then take turns)


def dataset_write_lock(dataset: Dataset) -> None:
    """Wait for, then hold until this transaction ends, the dataset's batch-write lock (nothing on SQLite, whose
    writers take turns anyway)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SPACE, dataset.pk % KEYS])
