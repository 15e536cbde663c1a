"""What every import run shares: reading records in batches with the parser's line count, and committing a
batch's counters and rejected rows with the batch itself, fenced by the job's claim."""

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import F

from config.jobs.lifecycle import JobRun
from config.write_lock import job_batch
from datasets.importers import LineCount, RowError
from workspace.models import ImportRowError
from workspace.services.readahead import read_ahead

T = TypeVar("T")
P = TypeVar("P")


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    labels: int = 0


def record_batch(
    run: JobRun,
    *,
    records: int,
    result: BatchResult,
    errors: list[RowError],
    position: int,
    lines: LineCount | None = None,
) -> None:
    job = run.job
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job=job, line=e.line, line_end=e.line_end, external_id=e.external_id[:255], reason=e.reason[:500]
            )
            for e in errors
        ]
    )
    # The parser's own count, as of the end of this batch (it restarts from the top on a resume).
    line_counts = {"lines_read": lines.read, "lines_skipped": lines.skipped} if lines else {}
    # Fenced by the claim: a worker that lost this job (cancelled, or presumed dead and replaced) rolls its
    # batch back instead of counting it twice.
    counted = run.update(
        records_done=F("records_done") + records,
        created_count=F("created_count") + result.created,
        updated_count=F("updated_count") + result.updated,
        label_count=F("label_count") + result.labels,
        error_count=F("error_count") + len(errors),
        bytes_done=position,
        **line_counts,
    )
    if not counted:
        run.check()


def batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def counted_batches(items: Iterator[T], size: int, counts: LineCount) -> Iterator[tuple[list[T], LineCount]]:
    """Batches with the parser's line count as of their last record, taken in the parser's thread;
    then the lines after the last record (trailing blank lines) in an empty batch."""
    lines = LineCount()
    for batch in batches(items, size):
        lines = LineCount(counts.read, counts.skipped)
        yield batch, lines
    if (counts.read, counts.skipped) != (lines.read, lines.skipped):
        yield [], LineCount(counts.read, counts.skipped)


def relax_commit() -> None:
    """Each batch commits with its own resume point, so losing the last commits in a crash only means
    resuming a little earlier: the batch need not wait for its WAL flush."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def records_write(
    run: JobRun,
    *,
    stream: BinaryIO,
    records: Iterator[T | RowError],
    counts: LineCount,
    write: Callable[[P], tuple[BatchResult, list[RowError]]],
    prepare: Callable[[list[T]], tuple[P, list[RowError]]] | None = None,
) -> None:
    """Write a parser's records batch by batch: each batch commits its rows (`write` returns what it made and the
    rows it rejected), its row errors and the job's counters together. The parser re-reads from the start on a
    resume (its duplicate checks need every record), so the records a resumed job already committed are skipped.

    `prepare` turns a batch's rows into what `write` takes, with the rows it rejects (an unknown label), in the
    parser's thread: whatever needs no database is done there, while the database writes the batch before."""
    records = itertools.islice(records, run.job.records_done, None)
    split = (
        (len(batch), *_prepared(batch, prepare), lines)
        for batch, lines in counted_batches(records, settings.IMPORT_BATCH_SIZE, counts)
    )
    for size, prepared, errors, lines in read_ahead(split):
        run.check()
        with job_batch():
            relax_commit()
            result, rejected = write(prepared)
            record_batch(
                run, records=size, result=result, errors=errors + rejected, position=stream.tell(), lines=lines
            )


def _prepared(batch: list, prepare: Callable | None) -> tuple[Any, list[RowError]]:
    """(what `write` takes, the batch's row errors): the parser's and those of `prepare`."""
    errors = [item for item in batch if item.__class__ is RowError]
    rows = [item for item in batch if item.__class__ is not RowError] if errors else batch
    if prepare is None:
        return rows, errors
    prepared, rejected = prepare(rows)
    return prepared, errors + rejected
