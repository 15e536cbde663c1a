"""Answers that are values, not labels (a title's spans): stored once per task and distinct value, so equal
answers share an id (`AnswerValue`)."""

import hashlib
import json
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
