"""Candidate pairs of a matching dataset: its products blocked (`blocking`, pure) and the pairs written as tasks.

The products are read a keyset page at a time, only the columns the settings use; the pairs are written in
batches of their own transaction, two at a time (`pair_tasks_insert`), so a million-product run never holds one giant
transaction, and a run given the same pairs again adds nothing (a pair the dataset holds keeps its task and
its attributes, imported ones included).
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform

from config.errors import ApplicationError
from datasets.models import Dataset, Product, TaskType
from datasets.selectors import product_list
from labeling.kinds.matching.blocking import (
    GTIN_ATTRIBUTES,
    BlockingConfig,
    candidate_pairs,
    pair_codes,
    pair_completeness,
)
from labeling.kinds.matching.kind import MATCH
from labeling.kinds.matching.tasks import pair_tasks_insert
from labeling.models import Task
from labeling.resolve import LabelPolicy, resolved_labels

READ_CHUNK = 20_000
KNOWN_CHUNK = 5_000
# Product columns that may name a source; any other source_field is read from the attributes.
SOURCE_COLUMNS = ("brand", "currency", "external_id", "url", "image_url", "title", "description")

Progress = Callable[[str, float], None]
Check = Callable[[], None]


def _noop_check() -> None:
    return None


def _columns(config: BlockingConfig) -> list[str]:
    """The product columns blocking reads: the text fields, and what the exact keys need."""
    wanted = ["title", *config.fields]  # model numbers and sizes are read from the title
    if "brand_size" in config.keys:
        wanted.append("brand")
    if "gtin" in config.keys:
        wanted.append("attributes")
    return list(dict.fromkeys(wanted))


# The product's attributes named like an identifier (GTIN_ATTRIBUTES, any case), or NULL without one.
_IDENTIFIERS = f"""(
    SELECT jsonb_object_agg(attribute.key, attribute.value)
    FROM jsonb_each({Product._meta.db_table}.attributes) AS attribute
    WHERE lower(attribute.key) = ANY(%s)
)"""  # noqa: S608 - only the table name is interpolated


def _read_products(
    dataset: Dataset, config: BlockingConfig, progress: Progress, check: Check
) -> tuple[np.ndarray, list[dict[str, Any]], list[str] | None]:
    """Product ids (ascending), their records and, with a source field, each one's source ("" when missing)."""
    columns = _columns(config)
    source = config.source_field.strip()
    products = product_list(dataset=dataset)
    if source and source not in SOURCE_COLUMNS:
        # Only the one attribute, not every product's whole attributes document.
        products = products.annotate(source_value=KeyTextTransform(source, "attributes"))
        source_column = "source_value"
    else:
        source_column = source
    fields = columns
    if "attributes" in columns and connection.vendor == "postgresql":
        # Only the identifiers, picked by the database: decoding every product's whole attributes document in
        # Python was half of the read (a million products: most have none of these).
        products = products.annotate(
            identifiers=RawSQL(_IDENTIFIERS, (list(GTIN_ATTRIBUTES),), output_field=JSONField())  # noqa: S611 - constants
        )
        fields = ["identifiers" if column == "attributes" else column for column in columns]
    read = ["pk", *fields, *([source_column] if source else [])]
    total = max(products.count(), 1)
    ids: list[int] = []
    records: list[dict[str, Any]] = []
    sources: list[str] | None = [] if source else None
    shared: dict[str, str] = {}  # one string per distinct brand or source, not one per product
    last = 0
    progress("read", 0.0)
    while True:
        check()
        rows = list(products.filter(pk__gt=last).values_list(*read)[:READ_CHUNK])
        if not rows:
            break
        width = len(columns)
        for row in rows:
            ids.append(row[0])
            record = dict(zip(columns, row[1 : 1 + width], strict=True))
            if "brand" in record:
                record["brand"] = shared.setdefault(record["brand"], record["brand"])
            if "attributes" in record:
                # Only the identifiers stay in memory: a million products' whole attributes would not fit.
                codes = {
                    name: value
                    for name, value in (record.pop("attributes") or {}).items()
                    if str(name).casefold() in GTIN_ATTRIBUTES
                }
                if codes:
                    record["attributes"] = codes
            records.append(record)
            if sources is not None:
                value = "" if row[1 + width] is None else str(row[1 + width])
                sources.append(shared.setdefault(value, value))
        last = rows[-1][0]
        progress("read", min(len(ids) / total, 1.0))
    return np.asarray(ids, dtype=np.int64), records, sources


def known_match_codes(*, dataset: Dataset) -> np.ndarray:
    """`pair_codes` of the pairs the dataset's resolved answers call a match (as training reads them)."""
    match_id = dataset.labels.filter(code=MATCH.code).values_list("pk", flat=True).first()
    if match_id is None:
        return np.empty(0, dtype=np.int64)
    codes: list[np.ndarray] = []
    chunk: list[int] = []

    def flush() -> None:
        pairs = list(
            Task.objects.filter(pk__in=chunk, other_product__isnull=False).values_list("product_id", "other_product_id")
        )
        if pairs:
            low, high = zip(*pairs, strict=True)
            codes.append(pair_codes(low, high))
        chunk.clear()

    for task_id, label_id in resolved_labels(dataset=dataset, policy=LabelPolicy.MAJORITY, min_votes=1):
        if label_id == match_id:
            chunk.append(task_id)
            if len(chunk) == KNOWN_CHUNK:
                flush()
    if chunk:
        flush()
    return np.unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)


def _peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class _PairAttributes(Sequence[dict[str, Any]]):
    """Each candidate's attributes (its cosine, and whether a key proposed it), made as a batch asks for them:
    ten million dicts at once would be gigabytes."""

    def __init__(self, similarity: np.ndarray, by_key: np.ndarray) -> None:
        self.similarity, self.by_key = similarity, by_key

    def __len__(self) -> int:
        return len(self.similarity)

    def __getitem__(self, i: int) -> dict[str, Any]:  # type: ignore[override]
        attributes: dict[str, Any] = {"similarity": round(float(self.similarity[i]), 3)}
        if self.by_key[i]:
            attributes["by_key"] = True
        return attributes

    def csv_texts(self, indices: np.ndarray) -> list[str]:
        """What `__getitem__` gives, as COPY csv fields (JSON, its quotes doubled), a batch at a time: numpy
        writes the numbers as `round` and the JSON encoder would (the shortest text that reads back the same)."""
        numbers = self.similarity[indices].astype(np.float64).round(3).astype(str).tolist()
        keyed = self.by_key[indices].tolist()
        return [
            f'"{{""similarity"": {number}, ""by_key"": true}}"' if key else f'"{{""similarity"": {number}}}"'
            for number, key in zip(numbers, keyed, strict=True)
        ]


def candidates_generate(
    *,
    dataset: Dataset,
    config: BlockingConfig,
    progress: Progress | None = None,
    check: Check | None = None,
) -> dict[str, Any]:
    """Propose the dataset's candidate pairs and write the new ones as tasks; returns the run's report.

    `progress(phase, fraction)` is told how far each phase (read, block, write) got; `check()` runs between
    pages and batches, so a cancelled job stops there (batches written before it stay: they are whole pairs).
    """
    if dataset.task_type != TaskType.MATCHING:
        raise ApplicationError(
            "Candidate pairs are for matching datasets; this one is a categorization dataset.",
            extra={"task_type": dataset.task_type},
        )
    progress = progress or (lambda phase, fraction: None)
    check = check or _noop_check
    timings: dict[str, float] = {}

    started = time.perf_counter()
    ids, records, sources = _read_products(dataset, config, progress, check)
    source_names = sorted(set(sources)) if sources is not None else []
    if config.skip_same_source and len(source_names) < 2:
        found = f"only {source_names[0]!r}" if source_names else "none"
        raise ApplicationError(
            f"Skipping pairs within one source needs products from at least two sources in "
            f"{config.source_field!r} (a product column or attribute); found {found}.",
            extra={"source_field": config.source_field, "sources": source_names[:10]},
        )
    known = known_match_codes(dataset=dataset)
    timings["read_s"] = round(time.perf_counter() - started, 3)

    check()
    started = time.perf_counter()
    found = candidate_pairs(
        records,
        config,
        sources=sources if config.skip_same_source else None,
        progress=lambda fraction: progress("block", fraction),
    )
    del records
    left_ids, right_ids = ids[found.left], ids[found.right]
    completeness = pair_completeness(pair_codes(left_ids, right_ids), known)
    timings["block_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    total = len(found)
    progress("write", 0.0)
    new_pairs = pair_tasks_insert(
        dataset=dataset,
        left_ids=left_ids,
        right_ids=right_ids,
        attributes=_PairAttributes(found.similarity, found.by_key),
        ids_checked=True,  # read from the dataset's own products just now
        progress=lambda fraction: progress("write", fraction),
        check=check,
    )
    timings["write_s"] = round(time.perf_counter() - started, 3)

    stats = found.stats
    return {
        "products": len(ids),
        "sources": len(source_names) if sources is not None else int(len(ids) > 0),
        "candidates": int(total),
        "new_pairs": int(new_pairs),
        "existing_pairs": int(total - new_pairs),
        "by_key_only": int(stats["by_key_only"]),
        "possible_pairs": int(stats["possible_pairs"]),
        "reduction_ratio": stats["reduction_ratio"],
        "known_matches": len(known),
        "pair_completeness": completeness,
        "timings": timings,
        "peak_memory_mb": _peak_memory_mb(),
    }
