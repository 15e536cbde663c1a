"""What the matching partials need: the pair with what differs marked, and the three answers with the model's odds."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from datasets.models import Dataset
from labeling.kinds.base import Choice, choice_buttons
from labeling.kinds.matching.compare import offers_compare
from labeling.models import Task
from labeling.selectors import task_items, task_suggestions


def item_context(*, task: Task) -> dict[str, Any]:
    left, right = task_items(task=task) or (None, None)
    comparison = offers_compare(left, right) if left is not None else None
    return {"left": left, "right": right, "comparison": comparison}


def page_context(
    *, dataset: Dataset, task: Task, user: AbstractBaseUser, choices: tuple[Choice, ...]
) -> dict[str, Any]:
    suggestions = task_suggestions(dataset=dataset, task=task)
    return {
        **item_context(task=task),
        "answers": choice_buttons(dataset=dataset, choices=choices, suggestions=suggestions),
        "suggestions_shown": bool(suggestions),
    }
