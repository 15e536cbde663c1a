"""Answers that are values, not labels (a title's spans): stored once per task and distinct value, so equal
answers share an id (`AnswerValue`)."""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from labeling.models import AnswerValue, Task


def value_key(value: Any) -> str:
    """The SHA-256 of the value's canonical JSON: equal values (as the kind canonicalizes them), equal keys."""
    canonical = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def answer_value_keyed(*, task: Task, value: Any) -> AnswerValue:
    """The task's row for this value, keyed and not yet written (`answer_value_intern`, or the one-statement answer
    of `labeling.answer_write`, write it)."""
    return AnswerValue(task=task, key=value_key(value), value=value)


def answer_value_intern(*, task: Task, value: Any) -> AnswerValue:
    """The task's row for this value, made on first use, in one statement: an upsert that returns the row's id
    whether this call or an earlier (or a concurrent) one made it. Equal keys are equal values, so the no-op
    update of an existing row changes nothing."""
    row = answer_value_keyed(task=task, value=value)
    AnswerValue.objects.bulk_create([row], update_conflicts=True, unique_fields=["task", "key"], update_fields=["key"])
    return row


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
