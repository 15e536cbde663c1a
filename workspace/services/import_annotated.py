"""Label Studio and Prodigy exports: products with other tools' labels, landed whole in one transaction or not
at all (a half-imported set of annotations would skew every agreement figure)."""

from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from config.jobs.lifecycle import JobRun
from datasets.importers import AnnotatedRow, ImportFormatError, ProductRow, parse_labelstudio, parse_prodigy, split_path
from datasets.importers.taxonomy import TaxonomyRow
from datasets.models import Dataset
from datasets.selectors import LabelResolver
from datasets.services.taxonomy import taxonomy_upsert
from labeling.imports import product_labels_write
from workspace.models import ImportJob, ImportKind
from workspace.services.import_batches import BatchResult, batches, record_batch
from workspace.services.products import products_import

_UNKNOWN_SHOWN = 5


def run_annotated(job: ImportJob, stream: BinaryIO, run: JobRun) -> None:
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
        for batch in batches(records, settings.IMPORT_BATCH_SIZE):
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
            result, _ = products_import(dataset=job.dataset, rows=products, resolve_label=None, label_source="")
            totals.created += result.created
            totals.updated += result.updated
            by_source: dict[str, dict[str, int]] = {}
            for external_id, items in labels.items():
                for annotator, value, _ in items:
                    source = (annotator or default_source)[:100]
                    by_source.setdefault(source, {})[external_id] = resolver(value).pk
            for source, chosen in sorted(by_source.items()):
                totals.labels += product_labels_write(dataset=job.dataset, labels=chosen, source_name=source)
        if unknown:
            raise _unknown_labels_error(unknown, unit)
        record_batch(run, records=count, result=totals, errors=[], position=job.bytes_total)


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
