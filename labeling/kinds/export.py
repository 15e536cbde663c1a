"""What the choice kinds share in their exports: the SQL around the one resolve (`labeling.resolve`), its parameters
and what row shaping needs of the labels. A kind's own `export.py` adds its columns and joins to these queries.

A query's rows start with the same six columns whatever the kind, so the export's split pass reads any kind:
task id, label id (NULL for a raw answer that is only a flag), is_gold, flagged, and then votes and agreement
(final, majority) or annotator and source (raw); the kind's own columns follow.

The `predicted` policy resolves as `final` but keeps every task: those left without a label (NULL) take the
prediction of the model version recorded with the snapshot, through a `Predict` the workspace layer gives (this
layer never loads a model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from datasets.exporters import Columns
from datasets.models import Dataset, Label
from labeling.models import AnnotationStatus
from labeling.resolve import ANSWERS, LabelPolicy, resolve_params, resolved_cte

# The f-string SQL below interpolates only constants, table and column names from the models and the SQL
# fragments of the kinds; every value goes through query parameters.

# The `predicted` policy's model: product records (PRODUCT_FIELDS of the kind's training) in, each one's
# (label id, probability) of its most probable label out, in the same order.
Predict = Callable[[list[dict[str, Any]]], list[tuple[int, float]]]
# Where a predicted export's row came from (its `label_source` column).
FROM_FINAL, FROM_MODEL = "final", "model"


def price_sql(alias: str) -> str:
    # Text straight from the database is exact and skips building a Decimal per row.
    if connection.vendor == "postgresql":
        return f"{alias}.price::text"
    return f"CASE WHEN {alias}.price IS NULL THEN NULL ELSE printf('%%.2f', {alias}.price) END"


def product_sql(alias: str) -> str:
    """A product's columns in `datasets.exporters.common.PRODUCT_COLUMNS` order, then its attributes."""
    return (
        f"{alias}.external_id, {alias}.title, {alias}.description, {alias}.brand, {price_sql(alias)}, "
        f"{alias}.currency, {alias}.image_url, {alias}.url, {alias}.attributes"
    )


def _agreement_sql() -> str:
    """The winning label's share of the votes, rounded to 4 places (the database's work, not Python's)."""
    if connection.vendor == "postgresql":
        return "round(c.votes::numeric / c.total, 4)::float8"
    return "ROUND(CAST(c.votes AS REAL) / c.total, 4)"


def resolved_sql(*, select: str, joins: str, every_task: bool = False, answer: str = "label") -> str:
    """Every resolved task (`c`, a row of RESOLVED_CTE's `chosen`) in task order; `select` adds columns after the
    first six (`, ...`), `joins` the tables they come from. `every_task` keeps the unresolved ones too, with a
    NULL label id (the `predicted` policy's). With `answer` "value" the second column is the resolved
    `AnswerValue` id (`labeling.resolve.resolved_cte`)."""
    where = "" if every_task else "WHERE c.label_id IS NOT NULL"
    return f"""
    WITH {resolved_cte(answer)}
    SELECT c.id, c.label_id, c.is_gold, c.flagged, c.votes, {_agreement_sql()}{select}
    FROM chosen c
    {joins}
    {where}
    ORDER BY c.id"""  # noqa: S608


def raw_sql(*, select: str, joins: str, include_flagged: bool, answer: str = "label") -> str:
    """Every submitted answer (`a`) of a task (`t`), with its annotator, in task then answer order; the second
    column is the answer's `answer` column: its label id, or its `AnswerValue` id with "value"."""
    if answer not in ANSWERS:
        raise ValueError(f"answers are {ANSWERS}, not {answer!r}")
    user_model = get_user_model()
    # A flagged answer may carry no label; it is only worth a row when flagged answers are asked for.
    flagged = "" if include_flagged else f"AND a.{answer}_id IS NOT NULL AND NOT a.flagged"
    return f"""
    SELECT t.id, a.{answer}_id, t.is_gold, a.flagged, COALESCE(u.{user_model.USERNAME_FIELD}, a.source_name),
           a.source{select}
    FROM labeling_annotation a
    JOIN labeling_task t ON t.id = a.task_id
    {joins}
    LEFT JOIN {user_model._meta.db_table} u ON u.id = a.user_id
    WHERE a.dataset_id = %(dataset)s AND a.status = '{AnnotationStatus.SUBMITTED}' {flagged}
    ORDER BY t.id, a.id"""  # noqa: S608


def is_raw(params: dict[str, Any]) -> bool:
    return params["policy"] == LabelPolicy.RAW


def is_predicted(params: dict[str, Any]) -> bool:
    return params["policy"] == LabelPolicy.PREDICTED


def predicted_columns(columns: Columns) -> Columns:
    """A kind's columns with the `predicted` policy's two after them: where the label came from, and the model's
    probability of it (null for a final label)."""
    return replace(
        columns,
        fixed=(*columns.fixed, "label_source", "probability"),
        types=(*columns.types, ("label_source", "string"), ("probability", "float")),
    )


def query_params(*, dataset: Dataset, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of an export's query: the resolve's, or only the dataset for raw answers."""
    if is_raw(params):
        return {"dataset": dataset.pk}
    # A predicted export's labels are final's; the resolve knows nothing of models.
    return resolve_params(
        dataset=dataset,
        policy=LabelPolicy.FINAL if is_predicted(params) else params["policy"],
        include_flagged=params["include_flagged"],
        min_votes=params["min_votes"],
        min_agreement=params["min_agreement"],
    )


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What shaping an export's rows needs besides the records."""

    raw: bool
    include_flagged: bool
    include_suggestions: bool
    # Each label's (path, code) by id; None for a raw answer without a label.
    labels: dict[int | None, tuple[str | None, str]]
    # The split name of a task id (rows come in task order), or None without a split.
    split_of: Callable[[int], str] | None


def export_context(*, dataset: Dataset, params: dict[str, Any], split_of: Callable[[int], str] | None) -> ExportContext:
    label_rows = Label.objects.filter(dataset=dataset).values_list("pk", "path", "code")
    labels: dict[int | None, tuple[str | None, str]] = {pk: (path, code) for pk, path, code in label_rows}
    labels[None] = (None, "")
    return ExportContext(
        raw=is_raw(params),
        include_flagged=params["include_flagged"],
        include_suggestions=params["include_suggestions"],
        labels=labels,
        split_of=split_of,
    )


def answer_columns(row: dict[str, Any], context: ExportContext, *, flagged: bool, extra_a: Any, extra_b: Any) -> None:
    """The columns every kind's row ends with, from the shared six: who answered and how (raw), or the votes and
    their agreement (final, majority); the flag when flagged answers are asked for."""
    if context.raw:
        row["annotator"], row["source"] = extra_a, extra_b
    else:
        row["votes"], row["agreement"] = extra_a, extra_b
    if context.include_flagged:
        row["flagged"] = bool(flagged)
