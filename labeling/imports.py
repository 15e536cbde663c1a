"""Imported answers: labels that arrive with a file (a labeled column, a Label Studio or Prodigy export), or values
(a Prodigy span file's spans).

An imported answer is an annotation without a user, one per source and task; importing the source again
changes it in place. Set-based: a few statements per batch, never a query per answer. On PostgreSQL the
answers are COPYed into a staging table and one statement writes the annotations, their events and the tasks'
counts (`_IMPORTED_WRITE`): no model instance per answer, which cost a million-row labeled import most of its time.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from config.copy import copy_in, text_column, text_value
from datasets.models import Dataset, Label
from labeling.history import label_events_bulk_record
from labeling.kinds.matching.checks import pair_conflicts_check_request
from labeling.models import Annotation, AnnotationStatus, EventAction, LabelEvent, LabelSource, Task
from labeling.review import review_flags_refresh


def imported_answers_write(*, dataset: Dataset, answers: dict[int, Label], source_name: str) -> int:
    """Record `answers` (task id -> label) from import source `source_name`; returns how many were new or changed."""
    new, changed = _imported_write(
        dataset=dataset, answers={task_id: label.pk for task_id, label in answers.items()}, source_name=source_name,
        answer="label",
    )
    return new + changed


def imported_values_write(*, dataset: Dataset, values: dict[int, int], source_name: str) -> tuple[int, int]:
    """Record `values` (task id -> `AnswerValue` id, `labeling.answer_values`) from import source `source_name`, for
    a kind answered with values (spans); returns how many answers were (new, changed)."""
    return _imported_write(dataset=dataset, answers=values, source_name=source_name, answer="value")


def _imported_write(*, dataset: Dataset, answers: dict[int, int], source_name: str, answer: str) -> tuple[int, int]:
    """`answers` (task id -> the id in the `answer` column: "label" or "value") as the source's annotations."""
    if not answers:
        return 0, 0
    if connection.vendor == "postgresql":
        return _imported_write_staged(dataset=dataset, answers=answers, source_name=source_name, answer=answer)
    column = f"{answer}_id"
    current = {
        annotation.task_id: annotation
        for annotation in Annotation.objects.filter(task_id__in=list(answers), user=None, source_name=source_name)
    }
    new, changed, events = [], [], []
    now = timezone.now()
    for task_id, answer_id in answers.items():
        annotation = current.get(task_id)
        if annotation is None:
            new.append(
                Annotation(
                    dataset=dataset, task_id=task_id, user=None, source=LabelSource.IMPORT, source_name=source_name,
                    **{column: answer_id},
                )
            )
            events.append((task_id, EventAction.IMPORT, None, answer_id))
        elif getattr(annotation, column) != answer_id:
            events.append((task_id, EventAction.CHANGE, getattr(annotation, column), answer_id))
            setattr(annotation, column, answer_id)
            annotation.updated_at = now  # bulk_update skips auto_now
            changed.append(annotation)
    Annotation.objects.bulk_create(new)
    Annotation.objects.bulk_update(changed, [answer, "updated_at"])
    if new:
        counted = [annotation.task_id for annotation in new]
        Task.objects.filter(pk__in=counted).update(annotation_count=F("annotation_count") + 1)
        Task.objects.filter(pk__in=counted, annotation_count__gte=dataset.overlap).update(is_complete=True)
    touched = [annotation.task_id for annotation in new] + [annotation.task_id for annotation in changed]
    if touched:
        # Only tasks with several answers can disagree: a first import of labels costs no refresh.
        review_flags_refresh(
            task_ids=Task.objects.filter(Q(annotation_count__gt=1) | Q(needs_review=True), pk__in=touched)
            .values_list("pk", flat=True)
        )
    if touched:
        pair_conflicts_check_request(dataset=dataset)
    label_events_bulk_record(
        [
            LabelEvent(
                dataset=dataset, task_id=task_id, action=action, source=LabelSource.IMPORT, source_name=source_name,
                **{f"old_{column}": old_id, f"new_{column}": new_id},
            )
            for task_id, action, old_id, new_id in events
        ]
    )
    return len(new), len(changed)


# The staged keys are also given as an array (`= ANY(ARRAY(...))`) so that the big tables are probed by index
# whatever their statistics say: during a large import they still describe the empty tables of its start, and a
# plain join on a temporary table was planned as a scan of every row of the dataset, batch after batch.
#
# One statement for a staged batch of answers (import_answer_stage: task_id, answer_id, task ids unique): the source's
# current annotations (`current`), the new ones inserted, the different ones changed, an event for each, the new
# ones counted on their tasks; it returns the counts and the tasks that may now need review (several answers, or
# flagged for review already), whose flags are refreshed after it (a data-modifying WITH sees none of its own writes).
_IMPORTED_WRITE = """
WITH current AS (
    SELECT a.id, a.task_id, a.{column} AS old_id, s.answer_id AS new_id
    FROM import_answer_stage AS s JOIN labeling_annotation AS a ON a.task_id = s.task_id
    WHERE a.task_id = ANY(ARRAY(SELECT task_id FROM import_answer_stage))
      AND a.user_id IS NULL AND a.source_name = %(source_name)s
),
inserted AS (
    INSERT INTO labeling_annotation (
        dataset_id, task_id, status, {column}, flagged, source, source_name, suggestions_shown, created_at, updated_at
    )
    SELECT %(dataset)s, s.task_id, %(status)s, s.answer_id, false, %(source)s, %(source_name)s, false,
           %(now)s, %(now)s
    FROM import_answer_stage AS s
    WHERE NOT EXISTS (SELECT 1 FROM current AS c WHERE c.task_id = s.task_id)
    RETURNING task_id, {column} AS new_id
),
changed AS (
    UPDATE labeling_annotation AS a SET {column} = c.new_id, updated_at = %(now)s
    FROM current AS c
    WHERE a.id = c.id AND a.{column} IS DISTINCT FROM c.new_id
    RETURNING a.task_id, c.old_id, c.new_id
),
events AS (
    INSERT INTO labeling_labelevent (
        dataset_id, task_id, action, old_{column}, new_{column}, flagged, source, source_name, created_at
    )
    SELECT %(dataset)s, task_id, %(action_import)s, NULL::bigint, new_id, false, %(source)s, %(source_name)s, %(now)s
    FROM inserted
    UNION ALL
    SELECT %(dataset)s, task_id, %(action_change)s, old_id, new_id, false, %(source)s, %(source_name)s, %(now)s
    FROM changed
),
counted AS (
    UPDATE labeling_task AS t
    SET annotation_count = t.annotation_count + 1, is_complete = t.is_complete OR t.annotation_count + 1 >= %(overlap)s
    FROM inserted AS i
    WHERE t.id = i.task_id
    RETURNING t.id, t.annotation_count, t.needs_review
)
SELECT
    (SELECT count(*) FROM inserted),
    (SELECT count(*) FROM changed),
    ARRAY(
        SELECT id FROM counted WHERE annotation_count > 1 OR needs_review
        UNION
        SELECT t.id FROM changed AS c JOIN labeling_task AS t ON t.id = c.task_id
        WHERE t.annotation_count > 1 OR t.needs_review
    )
"""


def _imported_write_staged(
    *, dataset: Dataset, answers: dict[int, int], source_name: str, answer: str
) -> tuple[int, int]:
    with connection.cursor() as cursor:
        _stage(cursor, "import_answer_stage", "task_id bigint, answer_id bigint", answers)
        return _staged_write(cursor, dataset=dataset, source_name=source_name, answer=answer)


# The task of each staged product id (import_label_stage: external_id, answer_id), one index probe per row whatever
# the statistics say: the lateral subqueries (OFFSET 0 keeps them from being flattened into a join) can only be run
# per row, by the unique indexes' equality on (dataset, external id) and the product. A plain join, even with the
# ids as an array, was planned from the statistics of the dataset's first batch (no products): a scan of all its
# products per batch with the ids as a mere filter, 46 s per 10,000 labels at 240,000 products.
_LABELED_TASKS = """
CREATE TEMP TABLE import_answer_stage AS
SELECT t.id AS task_id, s.answer_id
FROM import_label_stage AS s
CROSS JOIN LATERAL (
    SELECT p.id FROM datasets_product AS p
    WHERE p.dataset_id = %(dataset)s AND p.external_id = s.external_id
    OFFSET 0
) AS p
CROSS JOIN LATERAL (
    SELECT t.id FROM labeling_task AS t
    WHERE t.product_id = p.id AND t.dataset_id = %(dataset)s
    OFFSET 0
) AS t
"""


def product_labels_write(*, dataset: Dataset, labels: dict[str, int], source_name: str) -> int:
    """Labels (product external id -> label id) as source `source_name`'s answers to the products' tasks, for a
    kind with one task per product; returns how many answers were new or changed. On PostgreSQL the tasks are
    found by a join on the staged ids, not by a list of them sent back and forth."""
    if not labels:
        return 0
    if connection.vendor != "postgresql":
        tasks = task_ids_by_external_id(dataset=dataset, external_ids=list(labels))
        answers = {tasks[external_id]: label_id for external_id, label_id in labels.items()}
        new, changed = _imported_write(dataset=dataset, answers=answers, source_name=source_name, answer="label")
        return new + changed
    with connection.cursor() as cursor:
        _stage(cursor, "import_label_stage", "external_id text, answer_id bigint", labels)
        cursor.execute("DROP TABLE IF EXISTS pg_temp.import_answer_stage")
        cursor.execute(_LABELED_TASKS, {"dataset": dataset.pk})
        new, changed = _staged_write(cursor, dataset=dataset, source_name=source_name, answer="label")
    return new + changed


# A new task's imported answer and its event (`new_tasks_labels_copy`); 'now' is the transaction's start.
_ANSWERS_COPY = (
    "COPY labeling_annotation (dataset_id, task_id, status, label_id, flagged, source, source_name, "
    "suggestions_shown, created_at, updated_at) FROM STDIN"
)
_EVENTS_COPY = (
    "COPY labeling_labelevent (dataset_id, task_id, action, new_label_id, flagged, source, source_name, created_at) "
    "FROM STDIN"
)


def new_tasks_labels_copy(
    *, cursor: Any, dataset: Dataset, answers: Sequence[tuple[int, int]], source_name: str
) -> int:
    """Labels (task id, label id) of tasks this transaction made, with their answers already counted, as source
    `source_name`'s imported answers and their events, by COPY (PostgreSQL); returns how many.

    A new task holds no answer to compare with, change or count: `_IMPORTED_WRITE`'s lookups, its update of the
    task and its staging would find nothing and cost most of a labeled import's time."""
    if not answers:
        return 0
    # The lines are %-templates of (task, label): a % of the source's name is doubled.
    source = text_value(source_name).replace("%", "%%")
    imported, submitted, action = LabelSource.IMPORT.value, AnnotationStatus.SUBMITTED.value, EventAction.IMPORT.value
    answer_line = f"{dataset.pk}\t%d\t{submitted}\t%d\tf\t{imported}\t{source}\tf\tnow\tnow\n"
    copy_in(cursor, _ANSWERS_COPY, "".join(map(answer_line.__mod__, answers)))
    event_line = f"{dataset.pk}\t%d\t{action}\t%d\tf\t{imported}\t{source}\tnow\n"
    copy_in(cursor, _EVENTS_COPY, "".join(map(event_line.__mod__, answers)))
    pair_conflicts_check_request(dataset=dataset)
    return len(answers)


def _stage(cursor: Any, table: str, columns: str, rows: dict[Any, int]) -> None:
    """COPY `rows` (key -> id) into a fresh temporary `table`; text keys are escaped for COPY's text format."""
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
    cursor.execute(f"CREATE TEMP TABLE {table} ({columns})")
    keys = list(rows)
    if keys and isinstance(keys[0], str):
        keys = text_column(keys)
    copy_in(cursor, f"COPY {table} FROM STDIN", "".join(map("%s\t%d\n".__mod__, zip(keys, rows.values(), strict=True))))


def _staged_write(cursor: Any, *, dataset: Dataset, source_name: str, answer: str) -> tuple[int, int]:
    """The staged answers (import_answer_stage) written by `_IMPORTED_WRITE`; returns (new, changed)."""
    cursor.execute(
        _IMPORTED_WRITE.format(column=f"{answer}_id"),
        {
            "dataset": dataset.pk, "source_name": source_name, "status": AnnotationStatus.SUBMITTED,
            "source": LabelSource.IMPORT, "action_import": EventAction.IMPORT, "action_change": EventAction.CHANGE,
            "overlap": dataset.overlap, "now": timezone.now(),
        },
    )
    new, changed, review = cursor.fetchone()
    if review:
        review_flags_refresh(task_ids=review)
    if new or changed:
        pair_conflicts_check_request(dataset=dataset)
    return new, changed


def task_ids_by_external_id(*, dataset: Dataset, external_ids: list[str]) -> dict[str, int]:
    """The task of each single-product task's product, by the product's external id."""
    return dict(
        Task.objects.filter(dataset=dataset, product__external_id__in=external_ids).values_list(
            "product__external_id", "pk"
        )
    )
