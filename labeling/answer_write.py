"""An answer written in one statement on PostgreSQL: the hot half of the annotator's loop.

`labeling.services._submit_locked` writes an answer in steps (lock the task, read the user's answer and lease,
write the answer's value row if it has one, the answer, the counts, the lease and the history): eight round trips,
each a few hundred microseconds and an ORM compilation. Here the same writes are one statement of data-modifying
CTEs, under the same row lock and with the same checks. A refusal (the slot is gone, the label was deprecated
since) writes nothing and returns None: the caller then takes the steps, which say why.

Review flags are left to the caller: they are recomputed only when answers can disagree (a flag, a second
answer, a task already in review), which the returned counts tell. An answer that cannot disagree needs no other
statement, so the caller may run this one alone, as its own transaction (`alone`).
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from config.sql_rows import one_row
from labeling.models import AnnotationStatus, AnswerValue, EventAction, LabelSource, Task

_SUBMIT_SQL = """
WITH task AS (
    SELECT id, dataset_id, annotation_count, is_complete, is_gold, needs_review, lease_count, lease_until
    FROM labeling_task WHERE id = %(task)s
    FOR NO KEY UPDATE
), mine AS (
    SELECT expires_at > %(now)s AS live FROM labeling_lease WHERE task_id = %(task)s AND user_id = %(user)s
), old AS (
    SELECT id, label_id, value_id, status = %(submitted)s AS counted FROM labeling_annotation
    WHERE task_id = %(task)s AND user_id = %(user)s
), ok AS (
    -- counted: NULL for a first answer, false for a skip answered now, true for a change of an answer.
    SELECT task.*, (SELECT counted FROM old) AS counted, COALESCE((SELECT live FROM mine), false) AS live
    FROM task
    WHERE NOT EXISTS (SELECT 1 FROM datasets_label WHERE id = %(label)s AND deprecated)
      AND (
        EXISTS (SELECT 1 FROM old)
        OR COALESCE((SELECT live FROM mine), false)
        OR task.is_gold
        -- A late answer, while the task still needs one (others' live leases as the row counts them).
        OR (NOT task.is_complete
            AND task.annotation_count + CASE WHEN task.lease_until > %(now)s THEN task.lease_count ELSE 0 END
                < %(overlap)s)
      )
      -- Alone: the statement is the whole transaction, so it takes only an answer after which the task's review
      -- flags need no recount (a recount is a second statement, which must commit with this one).
      AND NOT (%(alone)s AND (%(flagged)s OR task.needs_review
                              OR task.annotation_count + CASE WHEN (SELECT counted FROM old) THEN 0 ELSE 1 END > 1))
), value AS (
    -- A value's row (answer_values.answer_value_intern's upsert): its id whether made now or before.
    INSERT INTO labeling_answervalue (task_id, key, value, created_at)
    SELECT id, %(value_key)s::text, %(value)s::jsonb, %(now)s FROM ok WHERE %(value_key)s::text IS NOT NULL
    ON CONFLICT (task_id, key) DO UPDATE SET key = EXCLUDED.key
    RETURNING id
), answer AS (
    INSERT INTO labeling_annotation (dataset_id, task_id, user_id, status, label_id, value_id, flagged, source,
                                     source_name, active_seconds, suggestions_shown, created_at, updated_at)
    SELECT dataset_id, id, %(user)s, %(submitted)s, %(label)s, (SELECT id FROM value), %(flagged)s, %(human)s, '',
           %(seconds)s, %(shown)s, %(now)s, %(now)s
    FROM ok
    ON CONFLICT (task_id, user_id) DO UPDATE SET
        status = EXCLUDED.status, label_id = EXCLUDED.label_id, value_id = EXCLUDED.value_id,
        flagged = EXCLUDED.flagged, active_seconds = EXCLUDED.active_seconds,
        suggestions_shown = EXCLUDED.suggestions_shown, updated_at = EXCLUDED.updated_at
    RETURNING id, created_at
), counts AS (
    UPDATE labeling_task t SET
        annotation_count = ok.annotation_count + CASE WHEN ok.counted THEN 0 ELSE 1 END,
        is_complete = ok.annotation_count + CASE WHEN ok.counted THEN 0 ELSE 1 END >= %(overlap)s,
        lease_count = CASE WHEN ok.live AND ok.lease_count > 0 THEN ok.lease_count - 1 ELSE ok.lease_count END
    FROM ok
    WHERE t.id = ok.id AND (ok.counted IS NOT TRUE OR ok.live)
), released AS (
    DELETE FROM labeling_lease WHERE task_id = %(task)s AND user_id = %(user)s AND EXISTS (SELECT 1 FROM ok)
), event AS (
    INSERT INTO labeling_labelevent (dataset_id, task_id, user_id, action, old_label_id, new_label_id, old_value_id,
                                     new_value_id, flagged, source, source_name, annotation_id, created_at)
    SELECT ok.dataset_id, ok.id, %(user)s, CASE WHEN ok.counted IS NULL THEN %(create)s ELSE %(change)s END,
           (SELECT label_id FROM old), %(label)s, (SELECT value_id FROM old), (SELECT id FROM value), %(flagged)s,
           %(human)s, '', answer.id, %(now)s
    FROM ok, answer
)
SELECT answer.id, answer.created_at, ok.counted IS TRUE, ok.annotation_count + CASE WHEN ok.counted THEN 0 ELSE 1 END,
       ok.needs_review, (SELECT label_id FROM old), (SELECT value_id FROM old), (SELECT id FROM value)
FROM ok, answer
"""


@dataclass(frozen=True)
class Written:
    annotation_id: int
    created_at: datetime
    counted_before: bool  # the user's answer was already counted (a change, not a new answer)
    annotation_count: int
    needs_review: bool  # the task was in review before this answer
    old_label_id: int | None
    old_value_id: int | None
    value_id: int | None  # the answer's value row, made or found by this statement


def answer_write(
    *,
    task: Task,
    user: AbstractBaseUser,
    label_id: int | None,
    value: AnswerValue | None,
    flagged: bool,
    seconds: float | None,
    suggestions_shown: bool,
    overlap: int,
    now: datetime,
    alone: bool = False,
) -> Written | None:
    """Write the user's answer (a label, a value keyed by `answer_value_keyed`, or a flag alone) to the task in
    one statement, the value's row included, inside the caller's transaction; None when it is refused, with
    nothing written. `alone`: the statement may be a transaction of its own, so it also refuses an answer that
    needs the task's review flags recounted (a flag, a second answer, a task in review)."""
    params = {
        "alone": alone,
        "task": task.pk,
        "user": user.pk,
        "label": label_id,
        "value_key": value.key if value is not None else None,
        "value": json.dumps(value.value) if value is not None else None,
        "flagged": flagged,
        "seconds": seconds,
        "shown": suggestions_shown,
        "overlap": overlap,
        "now": now,
        "submitted": AnnotationStatus.SUBMITTED.value,
        "human": LabelSource.HUMAN.value,
        "create": EventAction.CREATE.value,
        "change": EventAction.CHANGE.value,
    }
    row = one_row(_SUBMIT_SQL, params)
    return None if row is None else Written(*row)
