"""Import jobs: accept a file (refusing a wrong one whole), then run it in the worker batch by batch.

Each batch commits its products, tasks, labels, row errors and the job's counters together, so a
crash never leaves half a batch, and a redelivered job resumes after the last committed batch.
Label Studio and Prodigy exports are the exception: they bring labels along, so they land whole in one
transaction or not at all (a half-imported set of annotations would skew every agreement figure).
"""

import csv
import io
import itertools
from collections.abc import Iterator
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from config.errors import ApplicationError
from config.jobs.dispatch import job_enqueue
from config.jobs.lifecycle import JobRun, job_execute
from datasets.importers import (
    AnnotatedRow,
    ImportFormatError,
    LineCount,
    ProductRow,
    RowError,
    detect_format,
    parse_labelstudio,
    parse_prodigy,
    parse_products,
    parse_taxonomy,
    read_header,
    split_path,
)
from datasets.importers.taxonomy import TaxonomyRow
from datasets.models import Dataset, ImportJob, ImportKind, ImportRowError, ImportStatus, Label
from datasets.services.products import BatchResult, LabelResolver, imported_labels_write, product_batch_write
from datasets.services.readahead import read_ahead
from datasets.services.taxonomy import taxonomy_upsert

OPTION_KEYS = {"format", "delimiter", "mapping", "label_column", "label_source", "create_labels"}
ANNOTATED_KINDS = (ImportKind.LABELSTUDIO, ImportKind.PRODIGY)
_UNKNOWN_SHOWN = 5


def _clean_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - OPTION_KEYS
    if unknown:
        raise ApplicationError(f"Unknown import options: {', '.join(sorted(unknown))}.")
    options = {key: value for key, value in options.items() if value not in (None, "", {})}
    if options.get("format") not in (None, "csv", "json", "jsonl", "google"):
        raise ApplicationError("format must be csv, json, jsonl or google.")
    mapping = options.get("mapping", {})
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ApplicationError("mapping must map field names to column names.")
    if kind == ImportKind.PRODUCTS and options.get("label_column"):
        options.setdefault("label_source", "import")
    if not isinstance(options.get("create_labels", False), bool):
        raise ApplicationError("create_labels must be true or false.")
    if kind in ANNOTATED_KINDS:
        options.setdefault("label_source", kind)
    return options


def import_job_create(
    *,
    dataset: Dataset,
    user: AbstractBaseUser | None,
    kind: str,
    file: UploadedFile,
    options: dict[str, Any] | None = None,
    start: bool = True,
) -> ImportJob:
    """Check the file is what it claims and store it; queue the import on commit unless it awaits a mapping."""
    if kind not in ImportKind.values:
        raise ApplicationError(f"Unknown import kind {kind!r}; choose one of {', '.join(ImportKind.values)}.")
    options = _clean_options(kind, options or {})
    file.seek(0)
    head = file.read(64 * 1024)
    file.seek(0)
    try:
        detected = detect_format(head, file.name or "")
    except ImportFormatError as error:
        raise ApplicationError(str(error), extra={"file": file.name}) from error
    if kind == ImportKind.PRODUCTS:
        options.setdefault("format", detected)
    job = ImportJob(
        dataset=dataset,
        kind=kind,
        filename=(file.name or "upload")[-255:],
        options=options,
        created_by=user,
        bytes_total=file.size or 0,
        status=ImportStatus.QUEUED if start else ImportStatus.DRAFT,
    )
    job.file.save(job.filename, file, save=False)
    with transaction.atomic():
        job.save()
        if start:
            job_enqueue(job)
    return job


def import_job_start(*, job: ImportJob, options: dict[str, Any]) -> ImportJob:
    """Queue a draft job with the options chosen on the mapping page."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.DRAFT:
            raise ApplicationError("This import has already started.")
        before = {"options": job.options, "status": job.status}
        job.options = {**job.options, **_clean_options(job.kind, options)}
        job.status = ImportStatus.QUEUED
        job.dispatched_at = timezone.now()
        job.save(update_fields=["options", "status", "dispatched_at"])
        # Refused by the broker: the draft stays a draft, its mapping page still works.
        job_enqueue(job, on_refused=lambda: ImportJob.objects.filter(pk=job.pk).update(**before))
    return job


def import_job_preview(*, job: ImportJob) -> dict[str, Any]:
    """Columns, a few sample rows and a suggested mapping, for the mapping page."""
    with job.file.open("rb") as stream:
        try:
            return read_header(stream, job.filename, delimiter=job.options.get("delimiter"))
        except ImportFormatError as error:
            raise ApplicationError(str(error)) from error


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run (or resume) an import. Safe to call twice: a finished job is left as it is."""
    return job_execute(
        ImportJob,
        job_id,
        _run,
        on_error=lambda error: "The import stopped on an unexpected error; the batches before it are kept.",
    )


def _run(job: ImportJob, run: JobRun) -> None:
    try:
        with job.file.open("rb") as stream:
            if job.kind == ImportKind.TAXONOMY:
                _run_taxonomy(job, stream, run)
            elif job.kind in ANNOTATED_KINDS:
                _run_annotated(job, stream, run)
            else:
                _run_products(job, stream, run)
    except ImportFormatError as error:
        run.fail(str(error))
        return
    job.refresh_from_db()
    run.finish(ImportStatus.SUCCEEDED, _summary(job))


def _summary(job: ImportJob) -> str:
    """What became of the file, every line of it for a product file: created + updated + rejected + skipped = read."""
    counts = f"{job.created_count} created, {job.updated_count} updated, {job.error_count} rows rejected"
    if not job.lines_read:
        return f"{counts}."
    if job.options.get("format") == "json":
        return f"{job.lines_read} items read: {counts}."
    skipped = f"{job.lines_skipped} with no record (header, blank or continued lines)"
    return f"{job.lines_read} lines read: {counts}, {skipped}."


def _record_batch(
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


def _batches(items: Iterator[ProductRow | RowError], size: int) -> Iterator[list[ProductRow | RowError]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def _counted_batches(
    items: Iterator[ProductRow | RowError], size: int, counts: LineCount
) -> Iterator[tuple[list[ProductRow | RowError], LineCount]]:
    """Batches with the parser's line count as of their last record, taken in the parser's thread;
    then the lines after the last record (trailing blank lines) in an empty batch."""
    lines = LineCount()
    for batch in _batches(items, size):
        lines = LineCount(counts.read, counts.skipped)
        yield batch, lines
    if (counts.read, counts.skipped) != (lines.read, lines.skipped):
        yield [], LineCount(counts.read, counts.skipped)


def _run_products(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    options = job.options
    counts = LineCount()
    records = parse_products(
        stream,
        filename=job.filename,
        fmt=options.get("format"),
        delimiter=options.get("delimiter"),
        mapping=options.get("mapping") or None,
        label_column=options.get("label_column"),
        counts=counts,
    )
    # Resuming: the parser re-reads from the start (its duplicate check needs every id); committed records are skipped.
    records = itertools.islice(records, job.records_done, None)
    resolver = LabelResolver(job.dataset) if options.get("label_column") else None
    for batch, lines in read_ahead(_counted_batches(records, settings.IMPORT_BATCH_SIZE, counts)):
        run.check()
        rows = [item for item in batch if isinstance(item, ProductRow)]
        errors = [item for item in batch if isinstance(item, RowError)]
        with transaction.atomic():
            _relax_commit()
            result, label_errors = product_batch_write(
                dataset=job.dataset, rows=rows, resolve_label=resolver, label_source=options.get("label_source", "")
            )
            _record_batch(
                run,
                records=len(batch),
                result=result,
                errors=errors + label_errors,
                position=stream.tell(),
                lines=lines,
            )


def _relax_commit() -> None:
    """Each batch commits with its own resume point, so losing the last commits in a crash only means
    resuming a little earlier: the batch need not wait for its WAL flush."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _run_taxonomy(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    rows = parse_taxonomy(stream, filename=job.filename, fmt=job.options.get("format"))
    with transaction.atomic():
        created, updated, errors = taxonomy_upsert(dataset=job.dataset, rows=rows)
        _record_batch(
            run,
            records=created + updated + len(errors),
            result=BatchResult(created=created, updated=updated),
            errors=errors,
            position=job.bytes_total,
        )


def _merged(rows: list[AnnotatedRow]) -> tuple[list[ProductRow], dict[str, list[tuple[str, str, int]]]]:
    """One product per external_id (the last record wins, as a re-import would) and every label of each."""
    products: dict[str, ProductRow] = {}
    labels: dict[str, list[tuple[str, str, int]]] = {}
    for row in rows:
        products[row.product.external_id] = row.product
        for annotator, value in row.labels:
            labels.setdefault(row.product.external_id, []).append((annotator, value, row.line))
    return list(products.values()), labels


def _create_labels(dataset: Dataset, values: dict[str, int]) -> None:
    rows = [
        TaxonomyRow(line=line, code="", path=tuple(part for part in split_path(value) if part))
        for value, line in values.items()
    ]
    _, _, errors = taxonomy_upsert(dataset=dataset, rows=rows)
    if errors:
        raise ImportFormatError(f"Could not create the missing labels: {errors[0].reason}.")


def _unknown_labels_error(unknown: dict[str, int], unit: str) -> ImportFormatError:
    shown = ", ".join(f"{value!r} ({unit} {line})" for value, line in list(unknown.items())[:_UNKNOWN_SHOWN])
    more = f" and {len(unknown) - _UNKNOWN_SHOWN} more" if len(unknown) > _UNKNOWN_SHOWN else ""
    return ImportFormatError(
        f"{len(unknown)} label{'s' if len(unknown) != 1 else ''} not in the taxonomy: {shown}{more}. "
        "Import the taxonomy first, or import again with 'create missing labels' on. Nothing was imported."
    )


def _run_annotated(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    """A Label Studio or Prodigy export, whole or not at all: any problem rolls every batch back."""
    parse = parse_labelstudio if job.kind == ImportKind.LABELSTUDIO else parse_prodigy
    records = parse(stream, job.filename)
    default_source = job.options.get("label_source") or job.kind
    create = job.options.get("create_labels", False)
    unit = "line" if job.filename.lower().endswith((".jsonl", ".ndjson")) else "item"
    totals = BatchResult()
    unknown: dict[str, int] = {}
    count = 0
    with transaction.atomic():
        resolver = LabelResolver(job.dataset)
        for batch in _batches(records, settings.IMPORT_BATCH_SIZE):
            count += len(batch)
            products, labels = _merged(batch)
            missing = {
                value: line for items in labels.values() for _, value, line in items if resolver(value) is None
            }
            if missing and create:
                _create_labels(job.dataset, missing)
                resolver = LabelResolver(job.dataset)
            elif missing:
                for value, line in missing.items():
                    unknown.setdefault(value, line)
                continue  # the import fails at the end; reading on lists every unknown label at once
            if unknown:
                continue
            result, _ = product_batch_write(dataset=job.dataset, rows=products, resolve_label=None, label_source="")
            totals.created += result.created
            totals.updated += result.updated
            by_source: dict[str, dict[str, Label]] = {}
            for external_id, items in labels.items():
                for annotator, value, _ in items:
                    source = (annotator or default_source)[:100]
                    by_source.setdefault(source, {})[external_id] = resolver(value)
            for source, chosen in sorted(by_source.items()):
                totals.labels += imported_labels_write(dataset=job.dataset, labels=chosen, source_name=source)
        if unknown:
            raise _unknown_labels_error(unknown, unit)
        _record_batch(run, records=count, result=totals, errors=[], position=job.bytes_total)


def import_error_report(*, job: ImportJob) -> Iterator[str]:
    """The rejected rows as CSV lines (line, last_line, external_id, reason), streamed.

    last_line is the last line a broken record covered ("lines 3-47"), else the line itself.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "last_line", "external_id", "reason"])
    for error in job.row_errors.order_by("line", "id").iterator(chunk_size=2000):
        writer.writerow([error.line, error.line_end or error.line, error.external_id, error.reason])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
