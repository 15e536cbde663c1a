"""The model's scores of open tasks (suggestions, uncertainty, queue priority), written in bulk by labeling alone."""

import csv
import io
import json
import queue
import threading
from collections.abc import Sequence

import numpy as np
from django.db import connection, transaction

from config.copy import copy_in
from config.write_lock import job_batch
from datasets.models import Dataset
from labeling.models import Task

# (task id, suggestions [[label id, probability], ...], uncertainty, priority)
TaskScore = tuple[int, list[list[float]], float, float]

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS task_score_stage (
    task_id bigint PRIMARY KEY, suggestions jsonb, uncertainty double precision, priority double precision
)
"""
_APPLY = """
UPDATE labeling_task AS task
SET suggestions = stage.suggestions, uncertainty = stage.uncertainty, priority = stage.priority
FROM task_score_stage AS stage
WHERE task.id = stage.task_id AND task.dataset_id = %s
"""


def _write_postgres(dataset: Dataset, rows: Sequence[TaskScore]) -> None:
    # COPY into a staging table and one UPDATE: a page of 20,000 scores in one round trip, not 20,000.
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        (task_id, json.dumps(suggestions), uncertainty, priority)
        for task_id, suggestions, uncertainty, priority in rows
    )
    with connection.cursor() as cursor:
        cursor.execute(_STAGE)
        cursor.execute("TRUNCATE task_score_stage")
        copy_in(cursor, "COPY task_score_stage FROM STDIN WITH (FORMAT csv)", buffer.getvalue())
        cursor.execute(_APPLY, [dataset.pk])


# SQLite has one write lock for the whole file: a page of 50,000 scores in one transaction kept every submit waiting
# for it (issue 16). So SQLite commits a page by slices of SQLITE_SLICE rows (~15 ms each), one prepared UPDATE a
# row, with a pause after each (config.write_lock). A reader may see a page half rescored: a queue's priorities.
SQLITE_SLICE = 1000


# PostgreSQL locks each row an UPDATE changes until its commit, and a submit locks its task's row: a page of 50,000
# scores in one transaction held a submit of any of its tasks for seconds (bench P2t). Slices of POSTGRES_SLICE rows,
# a COPY and an UPDATE each, commit within tens of milliseconds.
POSTGRES_SLICE = 5000


def _write_generic(dataset: Dataset, rows: Sequence[TaskScore]) -> None:
    update = (
        f"UPDATE {Task._meta.db_table} SET suggestions = %s, uncertainty = %s, priority = %s "  # noqa: S608
        "WHERE id = %s AND dataset_id = %s"
    )
    for start in range(0, len(rows), SQLITE_SLICE):
        with job_batch(), connection.cursor() as cursor:
            cursor.executemany(update, [
                (json.dumps(suggestions), uncertainty, priority, task_id, dataset.pk)
                for task_id, suggestions, uncertainty, priority in rows[start : start + SQLITE_SLICE]
            ])


def task_scores_write(*, dataset: Dataset, rows: Sequence[TaskScore]) -> None:
    """Set the scores of the dataset's tasks in `rows`, all or none on PostgreSQL, by slices of SQLITE_SLICE rows on
    SQLite (``_write_generic``); ids of other datasets' tasks are ignored."""
    if connection.vendor != "postgresql":
        _write_generic(dataset, rows)
        return
    with transaction.atomic():
        _write_postgres(dataset, rows)


def task_scores_write_arrays(
    *,
    dataset: Dataset,
    task_ids: np.ndarray,
    labels: np.ndarray | Sequence[int],
    probabilities: np.ndarray,
    uncertainty: np.ndarray,
    priority: np.ndarray,
) -> None:
    """``task_scores_write`` of scores given as columns: task i's suggestions are [[labels[i][j],
    probabilities[i][j]] for each j], `labels` being one row for every task or a row each (n x k).

    The same scores in the database as ``task_scores_write`` of the same values (floats as Python writes them
    in JSON), by slices of POSTGRES_SLICE or SQLITE_SLICE rows, a transaction each; written for a fraction of the
    cost on PostgreSQL: each slice's columns go as one binary COPY of fixed-width rows (no CSV, no JSON per row), the
    JSON is built by the UPDATE, a task whose scores are already these is left alone (an update rewrites the row and
    each of its index entries), and the commit does not wait for the disk (a rescoring lost to a crash is redone by
    the next).
    """
    task_ids = np.asarray(task_ids, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(len(task_ids), -1)
    labels = np.broadcast_to(np.asarray(labels, dtype=np.int64), probabilities.shape)
    uncertainty = np.asarray(uncertainty, dtype=np.float64)
    priority = np.asarray(priority, dtype=np.float64)
    if not len(task_ids):
        return
    if connection.vendor == "postgresql":
        for start in range(0, len(task_ids), POSTGRES_SLICE):
            part = slice(start, start + POSTGRES_SLICE)
            with transaction.atomic():
                _write_arrays_postgres(
                    dataset, task_ids[part], labels[part], probabilities[part], uncertainty[part], priority[part]
                )
        return
    suggestions = [
        [[label, probability] for label, probability in zip(row_labels, row, strict=True)]
        for row_labels, row in zip(labels.tolist(), probabilities.tolist(), strict=True)
    ]
    rows = zip(task_ids.tolist(), suggestions, uncertainty.tolist(), priority.tolist(), strict=True)
    _write_generic(dataset, list(rows))


# PostgreSQL's binary COPY: a signature, flags and header extension (both 0), the rows, and -1 as the trailer.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"


def binary_copy_rows(columns: list[tuple[str, np.ndarray]]) -> bytes:
    """Rows of a binary COPY of fixed-width columns (bigint, double precision), built as one numpy record array."""
    fields = [("count", ">i2")]
    for name, values in columns:
        fields += [(f"{name}_size", ">i4"), (name, ">i8" if values.dtype.kind == "i" else ">f8")]
    rows = np.empty(len(columns[0][1]), dtype=np.dtype(fields))
    rows["count"] = len(columns)
    for name, values in columns:
        rows[f"{name}_size"] = 8
        rows[name] = values
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def _json_number(column: str) -> str:
    # jsonb from a double gives 0 and 1 for 0.0 and 1.0, where Python's JSON (task_scores_write) keeps the ".0".
    return f"CASE {column} WHEN 0 THEN '0.0'::jsonb WHEN 1 THEN '1.0'::jsonb ELSE to_jsonb({column}) END"


def _write_arrays_postgres(
    dataset: Dataset,
    task_ids: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    uncertainty: np.ndarray,
    priority: np.ndarray,
) -> None:
    width = probabilities.shape[1]
    stage = f"task_score_columns_{width}"
    pairs = [(f"label_{j}", labels[:, j]) for j in range(width)] + [
        (f"probability_{j}", probabilities[:, j]) for j in range(width)
    ]
    columns = [("task_id", task_ids), *pairs, ("uncertainty", uncertainty), ("priority", priority)]
    definitions = ", ".join(f"{name} {'bigint' if values.dtype.kind == 'i' else 'double precision'}"
                            for name, values in columns)
    suggestions = ", ".join(
        f"jsonb_build_array(stage.label_{j}, {_json_number(f'stage.probability_{j}')})" for j in range(width)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({definitions})")
        cursor.execute(f"TRUNCATE {stage}")
        copy_in(cursor, f"COPY {stage} FROM STDIN WITH (FORMAT binary)", binary_copy_rows(columns))
        cursor.execute(
            f"""
            UPDATE labeling_task AS task
            SET suggestions = new.suggestions, uncertainty = new.uncertainty, priority = new.priority
            FROM (
                SELECT stage.task_id, jsonb_build_array({suggestions}) AS suggestions, stage.uncertainty,
                       stage.priority
                FROM {stage} AS stage
            ) AS new
            WHERE task.id = new.task_id AND task.dataset_id = %s AND task.id BETWEEN %s AND %s
              AND (task.suggestions, task.uncertainty, task.priority)
                  IS DISTINCT FROM (new.suggestions, new.uncertainty, new.priority)
            """,  # noqa: S608 - only the stage's name and its column names are interpolated
            # The ids' range lets the planner read just those tasks: it hash-joined the whole table at every page.
            [dataset.pk, int(task_ids.min()), int(task_ids.max())],
        )


# Connections writing pages at once: PostgreSQL spends a core on each page's UPDATE (every row changed gets a new
# version and an entry in each of the table's indexes), and the pages are disjoint ranges of tasks.
WRITERS = 2


class TaskScoresWriter:
    """Writes pages of scores (``task_scores_write_arrays``: each page by short transactions, which a reader may see
    half done) on threads of its own, each
    with its connection (WRITERS of them), while the caller computes the next page.

    Use it as a context manager; leaving it waits for the pages handed over and re-raises a write's error
    (raised at the next ``write`` too; pages after an error are dropped, those already being written finish).
    Pages are written in any order: ``flush`` waits for those handed over before one that must come after them.
    Inside a transaction (a caller's atomic block, a test's) or on another database than PostgreSQL the pages
    are written in the caller's thread instead: another connection would not see what that transaction holds.
    """

    def __init__(self, *, dataset: Dataset, writers: int = WRITERS) -> None:
        self.dataset = dataset
        self.background = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.writers = max(1, writers)
        self._pages: queue.Queue[dict | None] = queue.Queue(maxsize=self.writers)
        self._error: BaseException | None = None
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "TaskScoresWriter":
        if self.background:
            for number in range(self.writers):
                thread = threading.Thread(target=self._run, name=f"task-scores-writer-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def write(self, **columns: np.ndarray | Sequence[int]) -> None:
        """Write one page: the keyword arguments of ``task_scores_write_arrays`` but the dataset."""
        self._raise()
        if self.background:
            self._pages.put(columns)
        else:
            task_scores_write_arrays(dataset=self.dataset, **columns)

    def flush(self) -> None:
        """Wait until every page handed over is written (or dropped after an error); re-raise a write's error."""
        if self.background:
            self._pages.join()
        self._raise()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        for _ in self._threads:
            self._pages.put(None)
        for thread in self._threads:
            thread.join()
        if kind is None:
            self._raise()

    def _run(self) -> None:
        # Its own connection, closed when it ends; after an error the pages are taken and dropped, so that the
        # caller never waits on a full queue.
        try:
            while (page := self._pages.get()) is not None:
                try:
                    if self._error is None:
                        task_scores_write_arrays(dataset=self.dataset, **page)
                except BaseException as error:
                    self._error = error
                finally:
                    self._pages.task_done()
            self._pages.task_done()
        finally:
            connection.close()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
