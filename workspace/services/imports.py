"""Import jobs: accept a file (refusing a wrong one whole), then run it in the worker batch by batch.

Each batch commits its products, tasks, labels, row errors and the job's counters together, so a
crash never leaves half a batch, and a redelivered job resumes after the last committed batch.
Label Studio and Prodigy exports are the exception: they bring labels along, so they land whole in one
transaction or not at all (a half-imported set of annotations would skew every agreement figure).
Pairs files (matching datasets) run as product files do, in import_pairs; so do queries and judgments files
(relevance datasets), in import_relevance, and Prodigy span files (span datasets), in import_spans; annotated
exports in import_annotated; which files a dataset's kind takes is import_kinds'.
"""

import csv
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from config.errors import ApplicationError
from config.jobs.dispatch import job_enqueue
from config.jobs.lifecycle import JobRun, job_execute
from datasets.importers import (
    ImportFormatError,
    LineCount,
    detect_format,
    parse_products,
    parse_taxonomy,
    read_header,
)
from datasets.models import Dataset
from datasets.selectors import LabelResolver
from datasets.services.taxonomy import taxonomy_upsert
from models_app.tasks import catalog_matrix_refresh_task
from workspace.models import ImportJob, ImportKind, ImportStatus
from workspace.services.import_annotated import run_annotated
from workspace.services.import_batches import BatchResult, record_batch, records_write
from workspace.services.import_kinds import ANNOTATED_KINDS, import_kind_check
from workspace.services.import_pairs import run_pairs
from workspace.services.import_relevance import run_judgments, run_queries
from workspace.services.import_spans import run_span_answers
from workspace.services.products import product_batch_prepare, product_batch_write

# The files read record by record, with their lines counted (the others are read whole).
RECORD_FILES = (
    ImportKind.PRODUCTS, ImportKind.PAIRS, ImportKind.QUERIES, ImportKind.JUDGMENTS, ImportKind.PRODIGY_SPANS
)
OPTION_KEYS = {"format", "delimiter", "mapping", "label_column", "label_source", "create_labels", "labels"}


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
    if kind in (ImportKind.QUERIES, ImportKind.JUDGMENTS) and ({"mapping", "label_column"} & options.keys()):
        raise ApplicationError(
            f"A {kind} file is read by its column names (query_id, query, product_id, grade...): it takes no "
            "mapping and no label_column."
        )
    if kind == ImportKind.PRODIGY_SPANS and ({"mapping", "label_column", "create_labels"} & options.keys()):
        raise ApplicationError(
            "A Prodigy span file is read by Prodigy's fields (text, spans, meta.external_id, answer) and its span "
            "types are the dataset's: it takes no mapping, label_column or create_labels."
        )
    labeled_file = kind in (ImportKind.PAIRS, ImportKind.JUDGMENTS)
    if labeled_file or (kind == ImportKind.PRODUCTS and options.get("label_column")):
        options.setdefault("label_source", "import")
    for flag in ("create_labels", "labels"):
        if not isinstance(options.get(flag, False), bool):
            raise ApplicationError(f"{flag} must be true or false.")
    if options.get("labels") is False and kind != ImportKind.PAIRS:
        raise ApplicationError("labels=false is for pairs files; leave out label_column to import no labels.")
    if kind in ANNOTATED_KINDS:
        options.setdefault("label_source", kind)
    if kind == ImportKind.PRODIGY_SPANS:
        options.setdefault("label_source", "prodigy")  # for the examples without an _annotator_id
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
    import_kind_check(dataset=dataset, kind=kind, options=options)
    file.seek(0)
    head = file.read(64 * 1024)
    file.seek(0)
    try:
        detected = detect_format(head, file.name or "")
    except ImportFormatError as error:
        raise ApplicationError(str(error), extra={"file": file.name}) from error
    if kind in RECORD_FILES:
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
        import_kind_check(dataset=job.dataset, kind=job.kind, options=job.options)
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
                run_annotated(job, stream, run)
            elif job.kind == ImportKind.PAIRS:
                run_pairs(job, stream, run)
            elif job.kind == ImportKind.QUERIES:
                run_queries(job, stream, run)
            elif job.kind == ImportKind.JUDGMENTS:
                run_judgments(job, stream, run)
            elif job.kind == ImportKind.PRODIGY_SPANS:
                run_span_answers(job, stream, run)
            else:
                _run_products(job, stream, run)
    except ImportFormatError as error:
        run.fail(str(error))
        return
    job.refresh_from_db()
    if run.finish(ImportStatus.SUCCEEDED, _summary(job)) and job.kind not in _NO_NEW_FEATURES:
        # The new products' feature rows are made now, in the background, not at the next training.
        dataset_id = job.dataset_id
        transaction.on_commit(lambda: catalog_matrix_refresh_task.delay(dataset_id))


# The imports after which the catalog's feature rows need no refresh.
_NO_NEW_FEATURES = (
    ImportKind.TAXONOMY, ImportKind.PAIRS, ImportKind.QUERIES, ImportKind.JUDGMENTS, ImportKind.PRODIGY_SPANS
)
_NOUNS = {
    ImportKind.PAIRS: "pairs ", ImportKind.QUERIES: "queries ", ImportKind.JUDGMENTS: "judgments ",
    ImportKind.PRODIGY_SPANS: "answers ",
}


def _summary(job: ImportJob) -> str:
    """What became of the file, every line of it for a file read record by record: created + updated + rejected +
    skipped = read (pairs and judgments are counted, not their products)."""
    noun = _NOUNS.get(job.kind, "")
    counts = f"{job.created_count} {noun}created, {job.updated_count} updated, {job.error_count} rows rejected"
    if not job.lines_read:
        return f"{counts}."
    if job.options.get("format") == "json":
        return f"{job.lines_read} items read: {counts}."
    skipped = f"{job.lines_skipped} with no record (header, blank or continued lines)"
    return f"{job.lines_read} lines read: {counts}, {skipped}."


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
    # Read here: `prepare` runs in the parser's thread, which must not query (a connection of its own, outside
    # this transaction).
    dataset = job.dataset
    resolver = LabelResolver(dataset) if options.get("label_column") else None
    source = options.get("label_source", "")
    records_write(
        run,
        stream=stream,
        records=records,
        counts=counts,
        prepare=lambda rows: product_batch_prepare(dataset=dataset, rows=rows, resolve_label=resolver),
        write=lambda batch: product_batch_write(dataset=dataset, batch=batch, label_source=source),
    )


def _run_taxonomy(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    rows = parse_taxonomy(stream, filename=job.filename, fmt=job.options.get("format"))
    with transaction.atomic():
        created, updated, errors = taxonomy_upsert(dataset=job.dataset, rows=rows)
        record_batch(
            run,
            records=created + updated + len(errors),
            result=BatchResult(created=created, updated=updated),
            errors=errors,
            position=job.bytes_total,
        )


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
