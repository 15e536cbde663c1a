"""Answers that are values, not labels (a title's spans): stored once per task and distinct value, so equal
answers share an id (`AnswerValue`)."""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from labeling.models import AnswerValue, Task


def value_key(value: Any) -> str:
    """The SHA-256 of the value's canonical JSON: equal values (as the kind canonicalizes them), equal keys."""
    canonical = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def answer_value_intern(*, task: Task, value: Any) -> AnswerValue:
    """The task's row for this value, made on first use. Callers hold the task's lock, but imports and
    reviews may not: a concurrent insert of the same value is read back instead of failing."""
    key = value_key(value)
    found = AnswerValue.objects.filter(task_id=task.pk, key=key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return AnswerValue.objects.create(task_id=task.pk, key=key, value=value)
    except IntegrityError:
        return AnswerValue.objects.get(task_id=task.pk, key=key)


def answer_values_intern_many(*, values: Sequence[tuple[int, Any]]) -> list[int]:
    """The `AnswerValue` id of each (task id, canonical value), made on first use, in order: an import's batch
    in a few statements instead of `answer_value_intern`'s one or two a value. A concurrent insert of the same
    value is skipped and read back."""
    keyed = [(task_id, value_key(value), value) for task_id, value in values]
    task_ids = {task_id for task_id, _, _ in keyed}
    keys = {key for _, key, _ in keyed}

    def known() -> dict[tuple[int, str], int]:
        rows = AnswerValue.objects.filter(task_id__in=task_ids, key__in=keys).values_list("task_id", "key", "pk")
        return {(task_id, key): pk for task_id, key, pk in rows}

    found = known()
    missing = {(task_id, key): value for task_id, key, value in keyed if (task_id, key) not in found}
    if missing:
        AnswerValue.objects.bulk_create(
            [AnswerValue(task_id=task_id, key=key, value=value) for (task_id, key), value in missing.items()],
            ignore_conflicts=True,
        )
        found = known()
    return [found[task_id, key] for task_id, key, _ in keyed]
