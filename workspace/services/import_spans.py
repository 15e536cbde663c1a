"""Prodigy span files into a span dataset, batch by batch as judgments go (see imports.py): each accepted
example becomes its annotator's imported answer to its product's task (`labeling.kinds.spans.imports`); rejects
and ignores are read and skipped, as Prodigy's own training leaves them out. Created + updated + rejected +
skipped = lines read."""

from typing import BinaryIO

from config.jobs.lifecycle import JobRun
from datasets.importers import LineCount, RowError
from datasets.importers.prodigy_spans import SpanRow, parse_prodigy_spans
from datasets.models import Dataset
from labeling.kinds.spans.imports import span_answers_import
from workspace.models import ImportJob
from workspace.services.import_batches import BatchResult, records_write


def run_span_answers(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
    counts = LineCount()
    records = parse_prodigy_spans(stream, filename=job.filename, counts=counts).rows
    source = job.options.get("label_source") or job.kind
    records_write(
        run, stream=stream, records=records, counts=counts,
        write=lambda rows: span_batch_write(dataset=job.dataset, rows=rows, label_source=source),
    )


def span_batch_write(*, dataset: Dataset, rows: list[SpanRow], label_source: str) -> tuple[BatchResult, list[RowError]]:
    done = span_answers_import(dataset=dataset, rows=rows, default_source=label_source)
    return BatchResult(created=done.created, updated=done.updated, labels=done.answers), done.errors
