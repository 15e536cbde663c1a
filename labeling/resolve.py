"""Which answer of a task is final: one rule (gold > review > votes) for exports and training alike.

- a gold task's known label wins, then a reviewer's decision (`Review`), then the votes;
- `final`: the label every annotator agreed on, once the task has all the answers it needs;
- `majority`: the most voted label if it is a strict winner with at least `min_votes` votes and at least
  `min_agreement` of them; a tie is never resolved;
- a task whose answers include a flag stays unresolved unless `include_flagged` (a gold label or a
  decision clears the flag);
- `raw` resolves nothing: it is every answer with its annotator, the export's own query.

The rule is SQL (`RESOLVED_CTE`), so a million tasks resolve in the database in one pass; training reads
the same rows through `resolved_labels`.
"""

from collections.abc import Iterator

from django.db import connection, models

from config.errors import ApplicationError
from datasets.models import Dataset
from labeling.models import AnnotationStatus

FETCH_ROWS = 5_000
# "No bound": every answer id is below it, and it fits a 64-bit integer in both databases.
NO_BOUND = 2**63 - 1


class LabelPolicy(models.TextChoices):
    FINAL = "final", "Final labels (gold, reviewed or agreed)"
    MAJORITY = "majority", "Majority vote with a minimum agreement"
    RAW = "raw", "Every annotation with its annotator"
    # An export's policy only: `final`'s labels, and the active model's prediction for every other product.
    PREDICTED = "predicted", "Final labels, else the active model's prediction"


# The columns an answer can be in: a label (`Annotation.label`) or a value (`Annotation.value`).
ANSWERS = ("label", "value")
# 2**40: label ids stay below it, and vote counts times it fit in 64 bits.
_PACK = 1_099_511_627_776

# The CTEs `answers, tallied, ranked, chosen`, to follow WITH. `chosen` has one row per task of the dataset
# (multi-item tasks too, whose product_id is NULL): id, product_id, is_gold, suggestions, votes (the top label's),
# total (labeled answers), label_id (NULL when unresolved) and flagged (0 or 1). Its parameters come from
# `resolve_params`. The f-string interpolates only constants; `%%` is a literal % once the parameters are bound.
_CTE = f"""
    answers AS (
        SELECT task_id, {{answer}}_id AS label_id, COUNT(*) AS n, MAX(CASE WHEN flagged THEN 1 ELSE 0 END) AS flagged
        FROM labeling_annotation
        WHERE dataset_id = %(dataset)s AND status = '{AnnotationStatus.SUBMITTED}'
              AND id <= %(upto_annotation_id)s
        GROUP BY task_id, {{answer}}_id
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
                   WHEN t.is_gold AND t.gold_{{answer}}_id IS NOT NULL THEN t.gold_{{answer}}_id
                   WHEN rv.{{answer}}_id IS NOT NULL THEN rv.{{answer}}_id
                   WHEN rk.label_id IS NULL OR (rk.task_flagged = 1 AND NOT %(include_flagged)s) THEN NULL
                   WHEN %(policy)s = '{LabelPolicy.FINAL}' AND rk.distinct_labels = 1 AND t.is_complete
                       THEN rk.label_id
                   WHEN %(policy)s = '{LabelPolicy.MAJORITY}' AND rk.n >= %(min_votes)s
                        AND rk.n >= %(min_agreement)s * rk.total AND NOT rk.tied
                       THEN rk.label_id
               END AS label_id,
               CASE
                   WHEN (t.is_gold AND t.gold_{{answer}}_id IS NOT NULL) OR rv.{{answer}}_id IS NOT NULL THEN 0
                   ELSE COALESCE(rk.task_flagged, 0)
               END AS flagged
        FROM labeling_task t
        LEFT JOIN ranked rk ON rk.task_id = t.id
        LEFT JOIN labeling_review rv ON rv.task_id = t.id
        WHERE t.dataset_id = %(dataset)s
    )"""  # noqa: S608


def resolved_cte(answer: str = "label") -> str:
    """RESOLVED_CTE over the answers' `answer` column: "label", or "value" for a kind answered with values
    (`AnswerValue`: spans), whose `chosen.label_id` is then the resolved value's id."""
    if answer not in ANSWERS:
        raise ValueError(f"answers are {ANSWERS}, not {answer!r}")
    return _CTE.format(answer=answer)


RESOLVED_CTE = resolved_cte()


_RESOLVED_LABELS = """
    WITH {cte}
    SELECT id, label_id FROM chosen WHERE label_id IS NOT NULL ORDER BY id"""


def resolve_params(
    *,
    dataset: Dataset,
    policy: str,
    include_flagged: bool = False,
    min_votes: int = 1,
    min_agreement: float = 0.0,
    upto_annotation_id: int | None = None,
) -> dict[str, object]:
    """The parameters of `RESOLVED_CTE`; `upto_annotation_id` counts only the answers with ids up to it (a
    training run's snapshot). Gold labels and decisions are read as they are now."""
    if policy not in (LabelPolicy.FINAL, LabelPolicy.MAJORITY):
        raise ApplicationError(
            f"The {policy!r} policy gives no single label per task; use final or majority.", extra={"policy": policy}
        )
    return {
        "dataset": dataset.pk,
        "policy": LabelPolicy(policy).value,
        "include_flagged": bool(include_flagged),
        "min_votes": int(min_votes),
        "min_agreement": float(min_agreement),
        "upto_annotation_id": NO_BOUND if upto_annotation_id is None else int(upto_annotation_id),
    }


def resolved_labels(
    *,
    dataset: Dataset,
    policy: str = LabelPolicy.MAJORITY,
    min_votes: int = 1,
    min_agreement: float = 0.0,
    include_flagged: bool = False,
    upto_annotation_id: int | None = None,
    answer: str = "label",
) -> Iterator[tuple[int, int]]:
    """(task id, label id) of every resolved task, in task id order, streamed (a server-side cursor on
    PostgreSQL), so memory holds one batch whatever the dataset's size; (task id, value id) with `answer`
    "value"."""
    params = resolve_params(
        dataset=dataset,
        policy=policy,
        include_flagged=include_flagged,
        min_votes=min_votes,
        min_agreement=min_agreement,
        upto_annotation_id=upto_annotation_id,
    )
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(_RESOLVED_LABELS.format(cte=resolved_cte(answer)), params)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch
    finally:
        cursor.close()
