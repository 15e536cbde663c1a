"""What a taxonomy change does to labeling's tables, set-based (issue 15).

A merge of A into B is a fixed handful of statements whatever the number of answers: the history's events are
INSERT ... SELECT of the rows about to move, then one UPDATE per table (answers, reviews, gold), one for the
model's stored suggestions, and one refresh of the review flags of the tasks touched. No row is read into Python.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from datasets.models import Label, TaxonomyChange
from labeling.models import Annotation, AnnotationStatus, EventAction, LabelSource, Review, Task
from labeling.review import REFRESH_SQL

_EVENTS_SQL = """
INSERT INTO labeling_labelevent (dataset_id, task_id, user_id, action, old_label_id, new_label_id, flagged, source,
                                 source_name, annotation_id, taxonomy_change_id, created_at)
SELECT x.dataset_id, x.task_id, %s, %s, x.label_id, %s, {flagged}, {source}, {source_name}, {annotation_id}, %s, %s
FROM {table} x WHERE x.label_id = %s
"""

# The suggestions [[label id, probability], ...] with A's entry folded into B's (their probabilities add up: the
# model's belief in "A or B"), best first. One UPDATE of the dataset's tasks that suggest A.
_SUGGESTIONS_SQL = {
    "postgresql": """
UPDATE labeling_task SET suggestions = (
    SELECT jsonb_agg(jsonb_build_array(s.label_id, s.p) ORDER BY s.p DESC, s.label_id)
    FROM (
        SELECT CASE WHEN (e->>0)::bigint = %(old)s THEN %(new)s ELSE (e->>0)::bigint END AS label_id,
               SUM((e->>1)::float) AS p
        FROM jsonb_array_elements(labeling_task.suggestions) e GROUP BY 1
    ) s
)
WHERE dataset_id = %(dataset)s AND suggestions @> jsonb_build_array(jsonb_build_array(%(old)s::bigint))
""",
    "sqlite": """
UPDATE labeling_task SET suggestions = (
    SELECT json_group_array(json_array(s.label_id, s.p)) FROM (
        SELECT CASE WHEN json_extract(e.value, '$[0]') = %(old)s THEN %(new)s ELSE json_extract(e.value, '$[0]') END
                   AS label_id,
               SUM(json_extract(e.value, '$[1]')) AS p
        FROM json_each(labeling_task.suggestions) e GROUP BY 1 ORDER BY p DESC, label_id
    ) s
)
WHERE dataset_id = %(dataset)s AND suggestions IS NOT NULL AND EXISTS (
    SELECT 1 FROM json_each(labeling_task.suggestions) e WHERE json_extract(e.value, '$[0]') = %(old)s
)
""",
}


def _events_insert(
    *, table: str, change: TaxonomyChange, user: AbstractBaseUser | None, old: Label, new: Label
) -> None:
    if table == "labeling_annotation":
        columns = {
            "flagged": "x.flagged",
            "source": "x.source",
            "source_name": "x.source_name",
            "annotation_id": "x.id",
        }
    else:
        columns = {
            "flagged": "FALSE",
            "source": f"'{LabelSource.REVIEW}'",
            "source_name": "''",
            "annotation_id": "NULL",
        }
    sql = _EVENTS_SQL.format(table=table, **columns)
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [user.pk if user else None, EventAction.TAXONOMY, new.pk, change.pk, timezone.now(), old.pk]
        )


def labels_remap(*, change: TaxonomyChange, user: AbstractBaseUser | None, old: Label, new: Label) -> dict[str, int]:
    """Move every answer, review decision, gold label and model suggestion of `old` to `new`, with one history
    event per answer and per decision that changed; returns how many of each moved."""
    _events_insert(table="labeling_annotation", change=change, user=user, old=old, new=new)
    _events_insert(table="labeling_review", change=change, user=user, old=old, new=new)
    counts = {
        "answers": Annotation.objects.filter(label_id=old.pk).update(label_id=new.pk),
        "reviews": Review.objects.filter(label_id=old.pk).update(label_id=new.pk),
        "gold": Task.objects.filter(gold_label_id=old.pk).update(gold_label_id=new.pk),
    }
    with connection.cursor() as cursor:
        cursor.execute(_SUGGESTIONS_SQL[connection.vendor], {"old": old.pk, "new": new.pk, "dataset": old.dataset_id})
        counts["suggestions"] = cursor.rowcount
        # Answers that disagreed only by A and B now agree: their tasks leave the review queue (one statement).
        touched = "SELECT e.task_id FROM labeling_labelevent e WHERE e.taxonomy_change_id = %s"
        cursor.execute(REFRESH_SQL.format(ids=touched), [change.pk])
    return counts


def label_answers_to_review(*, label: Label) -> int:
    """Send the tasks answered or decided with this label to review (a leaf that just got a child: some of them may
    belong to the child); returns how many tasks."""
    answered = Annotation.objects.filter(task_id=OuterRef("pk"), label_id=label.pk, status=AnnotationStatus.SUBMITTED)
    decided = Review.objects.filter(task_id=OuterRef("pk"), label_id=label.pk)
    return (
        Task.objects.filter(dataset_id=label.dataset_id)
        .filter(Q(Exists(answered)) | Q(Exists(decided)))
        .update(needs_review=True)
    )
