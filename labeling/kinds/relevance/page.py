"""What the relevance partials need: the query over the product, and the grades with the model's odds."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from datasets.models import Dataset
from labeling.kinds.base import Choice, choice_buttons
from labeling.models import Task
from labeling.selectors import task_suggestions


def item_context(*, task: Task) -> dict[str, Any]:
    return {"query": task.query, "product": task.product}


def page_context(
    *, dataset: Dataset, task: Task, user: AbstractBaseUser, choices: tuple[Choice, ...]
) -> dict[str, Any]:
    suggestions = task_suggestions(dataset=dataset, task=task)
    return {
        **item_context(task=task),
        "grades": choice_buttons(dataset=dataset, choices=choices, suggestions=suggestions),
        "suggestions_shown": bool(suggestions),
    }
