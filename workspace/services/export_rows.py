"""The rows of an export: the dataset's task kind writes the query and shapes the rows (labeling/kinds/<kind>/
export.py, on the one resolve of `labeling.resolve`); this module runs it and adds the split.

Rows stream through a server-side cursor (PostgreSQL) fetched by a read-ahead thread, so the database
computes the next batch while Python encodes this one, and memory holds a few batches, never the dataset.

A predicted export's labels come from the model version recorded with its snapshot: this layer loads it and hands
the kind a `Predict` (labeling loads no model).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
from django.db import connection, transaction

from config.errors import ApplicationError
from datasets.exporters.splits import SPLIT_NAMES, assign_splits
from datasets.models import Dataset
from labeling.kinds import kind_get
from labeling.kinds.export import Predict, is_predicted
from labeling.resolve import LabelPolicy
from models_app.ml import ModelConfig, load_pipeline, product_text
from models_app.selectors import model_version_list
from workspace.services.readahead import read_ahead

FETCH_ROWS = 5_000


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

    For `raw` a task's stratum is its most voted label, so all answers of a product share one split. A kind whose
    tasks come in groups (`split_groups`: a relevance dataset's queries) splits the groups instead, so that no
    group has tasks in two splits; its split-pass rows carry the group's id after the six shared columns.
    """
    kind = kind_get(dataset.task_type)
    # Typed arrays, not lists: 16 bytes a row instead of ~70 at a million rows.
    task_ids = array("q")
    strata = array("q")
    groups = array("q")
    # Every kind's rows start with the task id and its label id.
    records = reader.rows(*kind.export_query(dataset=dataset, params=params, with_items=False))
    grouped = kind.split_groups
    if params["policy"] == LabelPolicy.RAW:
        votes: Counter[int] = Counter()
        current = group = None
        for task_id, label_id, *rest in records:
            if task_id != current and current is not None:
                task_ids.append(current)
                strata.append(_most_voted(votes))
                groups.append(group if grouped else 0)
                votes.clear()
            current = task_id
            group = rest[4] if grouped else 0
            votes[label_id if label_id is not None else -1] += 1
        if current is not None:
            task_ids.append(current)
            strata.append(_most_voted(votes))
            groups.append(group if grouped else 0)
    else:
        for task_id, label_id, *rest in records:
            task_ids.append(task_id)
            strata.append(label_id)
            if grouped:
                groups.append(rest[4])
    keys = np.frombuffer(task_ids, dtype=np.int64)
    if grouped:
        codes = _group_codes(np.frombuffer(groups, dtype=np.int64), params)
    else:
        codes = assign_splits(keys, np.frombuffer(strata, dtype=np.int64), tuple(params["split"]), params["seed"])
    order = np.argsort(keys, kind="stable")
    return keys[order], codes[order]


def _group_codes(groups: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Each task's split code, its group's: the groups are split (one stratum), then their tasks follow."""
    unique, inverse = np.unique(groups, return_inverse=True)
    group_codes = assign_splits(unique, np.zeros(len(unique), dtype=np.int64), tuple(params["split"]), params["seed"])
    return group_codes[inverse]


def _most_voted(votes: Counter[int]) -> int:
    return min(votes.items(), key=lambda item: (-item[1], item[0]))[0]


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
    kind = kind_get(dataset.task_type)
    sql, query_params = kind.export_query(dataset=dataset, params=params, with_items=True)
    # Only the kinds that export predictions take a predictor, and only under the predicted policy.
    predictor: dict[str, Predict] = {}
    if is_predicted(params):
        predictor["predict"] = model_predictor(dataset=dataset, recorded=params["model_version"])
    return kind.export_rows(
        dataset=dataset,
        params=params,
        records=reader.rows(sql, query_params),
        split_of=_Splits(*splits) if splits is not None else None,
        **predictor,
    )


def model_predictor(*, dataset: Dataset, recorded: dict[str, int]) -> Predict:
    """The most probable label (id) of each product record, and its probability, by the model version recorded
    with the snapshot (`{"id", "number"}`), whichever version is active now."""
    version = model_version_list(dataset=dataset).filter(pk=recorded["id"]).first()
    if version is None or not version.artifact:
        raise ApplicationError(
            f"Model version {recorded['number']}, recorded with this export, is gone: export again with the "
            "active model.",
            extra={"model_version": recorded},
        )
    with version.artifact.open("rb") as artifact:
        pipeline = load_pipeline(artifact.read())
    fields = ModelConfig.from_dict(version.config).features.fields
    # The model's classes are the label ids it was trained on, as strings.
    label_ids = np.array([int(label) for label in pipeline.classes_], dtype=np.int64)

    def predict(records: list[dict[str, Any]]) -> list[tuple[int, float]]:
        probabilities = pipeline.predict_proba([product_text(record, fields) for record in records])
        best = probabilities.argmax(axis=1)
        top = probabilities[np.arange(len(best)), best]
        return list(zip(label_ids[best].tolist(), top.tolist(), strict=True))

    return predict
