"""Pairs files into a matching dataset, batch by batch as product files go (see imports.py).

Each batch upserts the products its pairs describe (the first description of an id in the batch wins),
finds the products its pairs only name by id, makes one task per pair (labeling's `pair_tasks_upsert`:
a pair already there, in either order, keeps its task) and records the file's labels as imported answers.
A pair is counted created or updated; a rejected one is a row error: created + updated + rejected +
skipped = lines read.
"""

from typing import BinaryIO

from config.jobs.lifecycle import JobRun
from datasets.importers import ImportFormatError, LineCount, PairRow, ProductRef, ProductRow, RowError, parse_pairs
from datasets.importers.values import quote
from datasets.models import Dataset, Label
from datasets.selectors import product_ids
from datasets.services.products import products_upsert
from labeling.imports import imported_answers_write
from labeling.kinds import kind_get
from labeling.kinds.matching.kind import MATCH, NO_MATCH
from labeling.kinds.matching.tasks import PairSpec, pair_item_key, pair_tasks_upsert
from workspace.models import ImportJob
from workspace.services.import_batches import BatchResult, records_write


def run_pairs(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    options = job.options
    counts = LineCount()
    records = parse_pairs(
        stream,
        filename=job.filename,
        fmt=options.get("format"),
        delimiter=options.get("delimiter"),
        label_column=options.get("label_column"),
        # labels=false: pairs to label afresh; the file's answers are neither imported nor kept in sight.
        read_labels=options.get("labels", True),
        counts=counts,
    )
    labels = _choice_labels(job.dataset)
    source = options.get("label_source", "import")
    records_write(
        run,
        stream=stream,
        records=records,
        counts=counts,
        write=lambda rows: pair_batch_write(dataset=job.dataset, rows=rows, labels=labels, label_source=source),
    )


def _choice_labels(dataset: Dataset) -> dict[bool, Label]:
    """The dataset's "match" and "no match" labels, for the file's 1 and 0."""
    kind = kind_get(dataset.task_type)
    try:
        return {
            True: kind.choice_label(dataset=dataset, value=MATCH.code),
            False: kind.choice_label(dataset=dataset, value=NO_MATCH.code),
        }
    except Label.DoesNotExist:
        # Only a dataset made around the services (the admin) lacks them: dataset_create makes them.
        raise ImportFormatError(
            f"This dataset lacks its {MATCH.name!r} and {NO_MATCH.name!r} labels (codes {MATCH.code} and "
            f"{NO_MATCH.code}): create them, then import again."
        ) from None


def pair_batch_write(
    *, dataset: Dataset, rows: list[PairRow], labels: dict[bool, Label], label_source: str
) -> tuple[BatchResult, list[RowError]]:
    """Products, tasks and imported answers of one batch of pairs; the pairs naming an unknown product are
    returned as row errors and leave nothing behind."""
    described: dict[str, ProductRow] = {}
    for row in rows:
        for side in (row.left, row.right):
            if isinstance(side, ProductRow):
                described.setdefault(side.external_id, side)
    named = {side.external_id for row in rows for side in (row.left, row.right) if isinstance(side, ProductRef)}
    ids = product_ids(dataset=dataset, external_ids=named - described.keys())
    kept: list[PairRow] = []
    errors: list[RowError] = []
    for row in rows:
        unknown = [
            side.external_id for side in (row.left, row.right)
            if side.external_id not in ids and side.external_id not in described
        ]
        if unknown:
            reason = "; ".join(f"unknown product id {quote(external_id)}" for external_id in unknown)
            errors.append(RowError(row.line, reason, f"{row.left.external_id} / {row.right.external_id}"[:255]))
        else:
            kept.append(row)
    if not kept:
        return BatchResult(), errors

    used = {side.external_id for row in kept for side in (row.left, row.right)}
    ids |= products_upsert(dataset=dataset, rows=[product for key, product in described.items() if key in used])
    sides = [(ids[row.left.external_id], ids[row.right.external_id]) for row in kept]
    tasks, created = pair_tasks_upsert(
        dataset=dataset,
        pairs=[PairSpec(left, right, row.attributes) for row, (left, right) in zip(kept, sides, strict=True)],
    )
    result = BatchResult(created=created, updated=len(kept) - created)
    answers = {
        tasks[pair_item_key(left, right)]: labels[row.label]
        for row, (left, right) in zip(kept, sides, strict=True)
        if row.label is not None
    }
    if answers:
        result.labels = imported_answers_write(dataset=dataset, answers=answers, source_name=label_source)
    return result, errors
