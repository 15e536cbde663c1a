"""The rows of an export: one SQL query decides each product's label under the policy, Python shapes the rows.

Label policies (the precedence is the same for `final` and `majority`):
- a gold item exports its known label, and a reviewer's decision (`Review`) overrides the votes;
- `final`: otherwise the label every annotator agreed on, once the task has all the answers it needs;
- `majority`: otherwise the most voted label if it is a strict winner with at least `min_votes` votes
  and `min_agreement` of them;
- `raw`: every submitted annotation, one row each, with its annotator (a user, or an import source).
A task whose answers include a flag is left out unless `include_flagged` (a review clears the flag).

Rows stream through a server-side cursor (PostgreSQL) fetched by a read-ahead thread, so the database
computes the next batch while Python encodes this one, and memory holds a few batches, never the dataset.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from datasets.exporters.splits import SPLIT_NAMES, assign_splits
from datasets.models import Dataset, Label, LabelPolicy
from datasets.services.readahead import read_ahead
from labeling.models import AnnotationStatus

FETCH_ROWS = 5_000

# The f-string SQL below interpolates only constants and table or column names from the models;
# every value goes through query parameters.


def _price_sql() -> str:
    # Text straight from the database is exact and skips building a Decimal per row.
    if connection.vendor == "postgresql":
        return "p.price::text"
    return "CASE WHEN p.price IS NULL THEN NULL ELSE printf('%%.2f', p.price) END"


def _agreement_sql() -> str:
    """The winning label's share of the votes, rounded to 4 places (the database's work, not Python's)."""
    if connection.vendor == "postgresql":
        return "round(c.votes::numeric / c.total, 4)::float8"
    return "ROUND(CAST(c.votes AS REAL) / c.total, 4)"


def _product_sql() -> str:
    price = _price_sql()
    return f"p.external_id, p.title, p.description, p.brand, {price}, p.currency, p.image_url, p.url, p.attributes"


# 2**40: label ids stay below it, and vote counts times it fit in 64 bits.
_PACK = 1_099_511_627_776

_VOTES = f"""
    answers AS (
        SELECT task_id, label_id, COUNT(*) AS n, MAX(CASE WHEN flagged THEN 1 ELSE 0 END) AS flagged
        FROM labeling_annotation
        WHERE dataset_id = %(dataset)s AND status = '{AnnotationStatus.SUBMITTED}'
        GROUP BY task_id, label_id
    ),
    tallied AS (
        -- One streaming aggregate per task, no window: each label's votes are packed with its id into one
        -- number, so MAX finds the most voted label (smallest id first, `low`) and, if another label has as
        -- many votes, the largest such id (`high`); low and high differ exactly when the top is a tie.
        SELECT task_id,
               MAX(flagged) AS task_flagged,
               CAST(SUM(CASE WHEN label_id IS NULL THEN 0 ELSE n END) AS BIGINT) AS total,
               COUNT(label_id) AS distinct_labels,
               MAX(n * {_PACK} + ({_PACK} - 1 - label_id)) AS low,
               MAX(n * {_PACK} + label_id) AS high
        FROM answers
        GROUP BY task_id
    ),
    ranked AS (
        SELECT task_id, task_flagged, total, distinct_labels,
               low / {_PACK} AS n,
               {_PACK} - 1 - low %% {_PACK} AS label_id,
               high %% {_PACK} <> {_PACK} - 1 - low %% {_PACK} AS tied
        FROM tallied
    ),
    chosen AS (
        SELECT t.id, t.product_id, t.is_gold, t.suggestions, rk.n AS votes, rk.total,
               CASE
                   WHEN t.is_gold AND t.gold_label_id IS NOT NULL THEN t.gold_label_id
                   WHEN rv.label_id IS NOT NULL THEN rv.label_id
                   WHEN rk.label_id IS NULL OR (rk.task_flagged = 1 AND NOT %(include_flagged)s) THEN NULL
                   WHEN %(policy)s = '{LabelPolicy.FINAL}' AND rk.distinct_labels = 1 AND t.is_complete
                       THEN rk.label_id
                   WHEN %(policy)s = '{LabelPolicy.MAJORITY}' AND rk.n >= %(min_votes)s
                        AND rk.n >= %(min_agreement)s * rk.total AND NOT rk.tied
                       THEN rk.label_id
               END AS label_id,
               CASE
                   WHEN (t.is_gold AND t.gold_label_id IS NOT NULL) OR rv.label_id IS NOT NULL THEN 0
                   ELSE COALESCE(rk.task_flagged, 0)
               END AS flagged
        FROM labeling_task t
        LEFT JOIN ranked rk ON rk.task_id = t.id
        LEFT JOIN labeling_review rv ON rv.task_id = t.id
        WHERE t.dataset_id = %(dataset)s
    )"""  # noqa: S608


def _voted_sql(*, with_product: bool, with_suggestions: bool) -> str:
    product = f", {_product_sql()}" if with_product else ""
    suggestions = ", c.suggestions" if with_suggestions else ""
    return f"""
    WITH {_VOTES}
    SELECT c.id, c.label_id, c.is_gold, c.flagged, c.votes, {_agreement_sql()}{product}{suggestions}
    FROM chosen c
    JOIN datasets_product p ON p.id = c.product_id
    WHERE c.label_id IS NOT NULL
    ORDER BY c.id"""  # noqa: S608


def _raw_sql(*, with_product: bool, with_suggestions: bool, include_flagged: bool) -> str:
    user_model = get_user_model()
    product = f", {_product_sql()}" if with_product else ""
    suggestions = ", t.suggestions" if with_suggestions else ""
    # A flagged answer may carry no label; it is only worth a row when flagged answers are asked for.
    flagged = "" if include_flagged else "AND a.label_id IS NOT NULL AND NOT a.flagged"
    return f"""
    SELECT t.id, a.label_id, t.is_gold, a.flagged, COALESCE(u.{user_model.USERNAME_FIELD}, a.source_name),
           a.source{product}{suggestions}
    FROM labeling_annotation a
    JOIN labeling_task t ON t.id = a.task_id
    JOIN datasets_product p ON p.id = t.product_id
    LEFT JOIN {user_model._meta.db_table} u ON u.id = a.user_id
    WHERE a.dataset_id = %(dataset)s AND a.status = '{AnnotationStatus.SUBMITTED}' {flagged}
    ORDER BY t.id, a.id"""  # noqa: S608


def _sql(params: dict[str, Any], *, with_product: bool) -> str:
    with_suggestions = with_product and params["include_suggestions"]
    if params["policy"] == LabelPolicy.RAW:
        return _raw_sql(
            with_product=with_product, with_suggestions=with_suggestions, include_flagged=params["include_flagged"]
        )
    return _voted_sql(with_product=with_product, with_suggestions=with_suggestions)


def _query_params(dataset: Dataset, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "dataset": dataset.pk,
        "policy": params["policy"],
        "include_flagged": params["include_flagged"],
        "min_votes": params["min_votes"],
        "min_agreement": params["min_agreement"],
    }


class ExportReader:
    """Runs an export's queries in one read-only snapshot (PostgreSQL) and streams their rows.

    On SQLite there is no transaction: a cursor streams without one, and SQLite's atomic() would take
    the write lock for the whole export.
    """

    def __init__(self) -> None:
        self._atomic = transaction.atomic() if connection.vendor == "postgresql" else None

    def __enter__(self) -> ExportReader:
        if self._atomic is not None:
            outermost = not connection.in_atomic_block
            self._atomic.__enter__()
            with connection.cursor() as cursor:
                if outermost:
                    # Both passes of an export (split, then rows) see the same labels.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # Every row is read: plan for the whole result, not for a quick first batch. JIT compiling
                # this query costs seconds and saves less than it costs.
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
                cursor.execute("SET LOCAL jit = off")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._atomic is not None:
            self._atomic.__exit__(*exc)

    def rows(self, sql: str, params: dict[str, Any]) -> Iterator[tuple]:
        # The cursor is made here, in the caller's thread (Django ties connections to threads);
        # only its fetches run in the read-ahead thread.
        cursor = connection.chunked_cursor()

        def batches() -> Iterator[list[tuple]]:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(FETCH_ROWS):
                yield batch

        try:
            for batch in read_ahead(batches(), depth=2):
                yield from batch
        finally:
            cursor.close()


def split_codes(reader: ExportReader, dataset: Dataset, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Task ids (sorted) and their split codes, stratified by each task's exported label.

    For `raw` a task's stratum is its most voted label, so all answers of a product share one split.
    """
    # Typed arrays, not lists: 16 bytes a row instead of ~70 at a million rows.
    task_ids = array("q")
    strata = array("q")
    records = reader.rows(_sql(params, with_product=False), _query_params(dataset, params))
    if params["policy"] == LabelPolicy.RAW:
        votes: Counter[int] = Counter()
        current = None
        for task_id, label_id, *_ in records:
            if task_id != current and current is not None:
                task_ids.append(current)
                strata.append(_most_voted(votes))
                votes.clear()
            current = task_id
            votes[label_id if label_id is not None else -1] += 1
        if current is not None:
            task_ids.append(current)
            strata.append(_most_voted(votes))
    else:
        for task_id, label_id, *_ in records:
            task_ids.append(task_id)
            strata.append(label_id)
    keys = np.frombuffer(task_ids, dtype=np.int64)
    codes = assign_splits(keys, np.frombuffer(strata, dtype=np.int64), tuple(params["split"]), params["seed"])
    order = np.argsort(keys, kind="stable")
    return keys[order], codes[order]


def _most_voted(votes: Counter[int]) -> int:
    return min(votes.items(), key=lambda item: (-item[1], item[0]))[0]


def _loads(value: Any) -> Any:
    # Django hands PostgreSQL jsonb back as text and SQLite stores text, so both usually arrive as str.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class _Splits:
    """Each task's split name, for rows that arrive in task id order (a moving index, no lookups)."""

    def __init__(self, keys: np.ndarray, codes: np.ndarray) -> None:
        # numpy arrays, not lists: at a million rows a list of Python ints would cost ~40 MB.
        self._keys = keys
        self._codes = codes
        self._at = 0

    def __call__(self, task_id: int) -> str:
        keys, at, size = self._keys, self._at, len(self._keys)
        while at < size and keys[at] < task_id:
            at += 1
        self._at = at
        if at < size and keys[at] == task_id:
            return SPLIT_NAMES[self._codes[at]]
        return SPLIT_NAMES[0]  # labeled between the two passes (SQLite has no snapshot across them)


def export_rows(
    *,
    dataset: Dataset,
    params: dict[str, Any],
    reader: ExportReader,
    splits: tuple[np.ndarray, np.ndarray] | None = None,
) -> Iterator[dict[str, Any]]:
    """The export's rows in task order (then annotation order for `raw`), as the writers take them."""
    label_rows = Label.objects.filter(dataset=dataset).values_list("pk", "path", "code")
    labels: dict[int | None, tuple[str | None, str]] = {pk: (path, code) for pk, path, code in label_rows}
    labels[None] = (None, "")
    raw = params["policy"] == LabelPolicy.RAW
    include_flagged = params["include_flagged"]
    with_suggestions = params["include_suggestions"]
    split_of = _Splits(*splits) if splits is not None else None
    for record in reader.rows(_sql(params, with_product=True), _query_params(dataset, params)):
        task_id, label_id, is_gold, flagged, extra_a, extra_b = record[:6]
        external_id, title, description, brand, price, currency, image_url, url, attributes = record[6:15]
        path, code = labels[label_id]
        row = {
            "external_id": external_id,
            "title": title,
            "description": description,
            "brand": brand,
            "price": price,
            "currency": currency,
            "image_url": image_url,
            "url": url,
            "label": path,
            "label_id": label_id,
            "label_code": code,
            "split": split_of(task_id) if split_of is not None else None,
            "gold": bool(is_gold),
        }
        if raw:
            row["annotator"], row["source"] = extra_a, extra_b
        else:
            row["votes"] = extra_a
            row["agreement"] = extra_b
        if include_flagged:
            row["flagged"] = bool(flagged)
        # The stored JSON text goes out as it is (orjson embeds a Fragment unparsed): decoding and
        # re-encoding every product's attributes was an eighth of an export's time.
        row["attributes"] = orjson.Fragment(attributes) if isinstance(attributes, str) else attributes or {}
        if with_suggestions:
            row["suggestions"] = [
                {"label": labels[label][0], "label_id": label, "probability": probability}
                for label, probability in (_loads(record[15]) or [])
                if label in labels
            ]
        yield row
