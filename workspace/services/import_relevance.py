"""Queries and judgments files into a relevance dataset, batch by batch as product files go (see imports.py).

A queries file upserts its queries by query_id. A judgments file grades (query, product) pairs: each batch finds
the products and queries its rows name, creates the queries its rows bring with their text (and gives a known
query the text a row brings), makes the tasks of the pairs no candidate run has made (`relevance_tasks_upsert`)
and records the grades as imported answers, one source per annotator. A judgment is counted created when it
makes its pair's task, else updated; a row naming an unknown product, a query the dataset lacks without its
text, or a grade off the dataset's scale is a row error and leaves nothing behind: created + updated + rejected
+ skipped = lines read.
"""

from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar

from config.errors import ApplicationError
from config.jobs.lifecycle import JobRun
from datasets.importers import (
    ImportFormatError,
    JudgmentRow,
    LineCount,
    QueryRow,
    RowError,
    parse_judgments,
    parse_queries,
)
from datasets.importers.values import quote
from datasets.models import Dataset, Label
from datasets.selectors import label_list, product_ids, query_ids
from datasets.services.queries import queries_upsert
from labeling.imports import imported_answers_write
from labeling.kinds.relevance.grades import Grade, GradeScale, scale_get
from labeling.kinds.relevance.tasks import QueryProduct, relevance_tasks_upsert
from workspace.models import ImportJob
from workspace.services.import_batches import BatchResult, records_write

T = TypeVar("T")


def run_queries(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    _run_file(
        job, stream, run,
        parse=lambda stream, **options: parse_queries(stream, **options).rows,
        write=lambda rows: query_batch_write(dataset=job.dataset, rows=rows),
    )


def query_batch_write(*, dataset: Dataset, rows: list[QueryRow]) -> tuple[BatchResult, list[RowError]]:
    """One batch of queries, by query_id: the parser has rejected the rows that are not queries."""
    created, updated = queries_upsert(dataset=dataset, rows=rows)
    return BatchResult(created=created, updated=updated), []


def run_judgments(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    scale, labels = _grade_labels(job.dataset)
    source = job.options.get("label_source", "import")
    _run_file(
        job, stream, run,
        parse=parse_judgments,
        write=lambda rows: judgment_batch_write(
            dataset=job.dataset, rows=rows, scale=scale, labels=labels, label_source=source
        ),
    )


def _run_file(
    job: ImportJob,
    stream: BinaryIO,
    run: JobRun,
    *,
    parse: Callable[..., Iterator[T | RowError]],
    write: Callable[[list[T]], tuple[BatchResult, list[RowError]]],
) -> None:
    """Parse the job's file with the job's options, and write its records batch by batch."""
    counts = LineCount()
    records = parse(
        stream,
        filename=job.filename,
        fmt=job.options.get("format"),
        delimiter=job.options.get("delimiter"),
        counts=counts,
    )
    records_write(run, stream=stream, records=records, counts=counts, write=write)


def _grade_labels(dataset: Dataset) -> tuple[GradeScale, dict[str, Label]]:
    """The dataset's scale, and its label of each grade, by the grade's code."""
    try:
        scale = scale_get(dataset.grade_scale)
    except ApplicationError as error:
        raise ImportFormatError(f"This dataset has no grade scale to read the grades on: {error.message}") from None
    labels = {label.code: label for label in label_list(dataset=dataset) if label.code}
    missing = [grade for grade in scale.grades if grade.code not in labels]
    if missing:
        # Only a dataset made around the services (the admin) lacks them: dataset_create makes them.
        names = ", ".join(f"{grade.name!r} (code {grade.code})" for grade in missing)
        raise ImportFormatError(f"This dataset lacks the labels of its grades {names}: create them, then import again.")
    return scale, {grade.code: labels[grade.code] for grade in scale.grades}


def judgment_batch_write(
    *, dataset: Dataset, rows: list[JudgmentRow], scale: GradeScale, labels: dict[str, Label], label_source: str
) -> tuple[BatchResult, list[RowError]]:
    """Queries, tasks and imported answers of one batch of judgments; the rows that cannot land are returned as
    row errors."""
    products = product_ids(dataset=dataset, external_ids={row.product_id for row in rows})
    queries = query_ids(dataset=dataset, external_ids={row.query_id for row in rows})
    checked: list[tuple[JudgmentRow, Grade | None, list[str]]] = []
    for row in rows:
        problems = [] if row.product_id in products else [f"unknown product id {quote(row.product_id)}"]
        checked.append((row, _grade(scale, row.grade, problems), problems))
    # The query texts of the rows that land (the first of each query in the batch): they create the new queries.
    texts: dict[str, QueryRow] = {}
    for row, _, problems in checked:
        if row.query and not problems:
            texts.setdefault(row.query_id, QueryRow(row.line, row.query_id, row.query))
    kept: list[tuple[JudgmentRow, Grade]] = []
    errors: list[RowError] = []
    for row, grade, problems in checked:
        if row.query_id not in queries and row.query_id not in texts and not row.query:
            problems.append(
                f"unknown query_id {quote(row.query_id)}: import the queries first, or give its text in a query column"
            )
        if problems or grade is None:
            errors.append(RowError(row.line, "; ".join(problems), row.product_id))
        else:
            kept.append((row, grade))
    if not kept:
        return BatchResult(), errors

    if texts:
        queries_upsert(dataset=dataset, rows=list(texts.values()), fields=("text",))
        queries |= query_ids(dataset=dataset, external_ids=texts.keys() - queries.keys())
    tasks, created = relevance_tasks_upsert(
        dataset=dataset,
        pairs=[
            QueryProduct(queries[row.query_id], products[row.product_id], row.query_id, row.product_id)
            for row, _ in kept
        ],
    )
    result = BatchResult(created=created, updated=len(kept) - created)
    by_source: dict[str, dict[int, Label]] = {}
    for row, grade in kept:
        source = (row.annotator or label_source)[:100]
        by_source.setdefault(source, {})[tasks[queries[row.query_id], products[row.product_id]]] = labels[grade.code]
    for source, answers in sorted(by_source.items()):
        result.labels += imported_answers_write(dataset=dataset, answers=answers, source_name=source)
    return result, errors


def _grade(scale: GradeScale, raw: str, problems: list[str]) -> Grade | None:
    try:
        return scale.parse(raw)
    except ApplicationError as error:
        problems.append(error.message[0].lower() + error.message[1:].rstrip("."))
        return None
