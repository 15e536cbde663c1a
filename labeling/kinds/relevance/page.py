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


def query_list_context(
    *,
    dataset: Dataset,
    tasks: list[Task],
    choices: tuple[Choice, ...],
    chosen: dict[int, int] | None = None,
    flagged: set[int] | None = None,
) -> dict[str, Any]:
    """The list mode's page: one query over its products (the tasks `query_lease_next` leased), each with the
    grade and flag the judge gave it when a confirm is refused and the list shown again. No suggestions: a
    grid of ten products with the model's odds under each would anchor every grade of the query."""
    chosen, flagged = chosen or {}, flagged or set()
    grades = choice_buttons(dataset=dataset, choices=choices, suggestions=[])
    return {
        "query": tasks[0].query if tasks else None,
        "items": [
            {"task": task, "product": task.product, "chosen": chosen.get(task.pk), "flagged": task.pk in flagged}
            for task in tasks
        ],
        "grades": grades,
    }
