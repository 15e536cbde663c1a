"""Answers posted for many tasks at once (a query's products in the list mode), read as the dataset's kind reads
one answer, before `annotations_submit` records them together."""

from collections.abc import Iterable
from typing import Any

from config.errors import ApplicationError
from datasets.models import Dataset
from datasets.selectors import label_get, label_list
from labeling.kinds import Answer, kind_get
from labeling.models import Task
from labeling.services import TaskAnswer


def task_answer_clean(
    *, task: Task, label_id: int | None, value: str | None, spans: Any, flagged: bool
) -> Answer:
    """One posted answer as the task's kind reads it: a label id or a value of a fixed choice, or, for a kind
    answered with values, its spans (`spans` None: not given)."""
    dataset = task.dataset
    kind = kind_get(dataset.task_type)
    if spans is not None and not kind.answers_with_values:
        return kind.value_clean(dataset=dataset, task=task, raw=spans, flagged=flagged)
    if kind.answers_with_values and label_id is None and value is None:
        return kind.value_clean(dataset=dataset, task=task, raw=spans, flagged=flagged)
    label = label_get(dataset=dataset, pk=label_id) if label_id is not None else None
    return kind.answer_clean(dataset=dataset, label=label, value=value, flagged=flagged)


def task_answers_clean(
    *, dataset: Dataset, rows: Iterable[tuple[Task, int | None, str | None, bool]]
) -> list[TaskAnswer]:
    """Each (task, label id, value, flagged) row as an answer; a row with neither a grade nor a flag stays
    unanswered, so that `annotations_submit` refuses the list with a count of them all."""
    kind, labels = kind_get(dataset.task_type), {label.pk: label for label in label_list(dataset=dataset)}
    answers = []
    for task, label_id, value, flagged in rows:
        label = labels.get(label_id)
        if label_id is not None and label is None:
            raise ApplicationError("No such label in this dataset.", extra={"label": label_id})
        if label is not None or value is not None or flagged:
            answer = kind.answer_clean(dataset=dataset, label=label, value=value, flagged=flagged)
            label, flagged = answer.label, answer.flagged
        answers.append(TaskAnswer(task=task, label=label, flagged=flagged))
    return answers
