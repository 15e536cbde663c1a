"""What the categorization partials need: the product, and keys 1-9 (the model's suggestions, then recent labels)."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from datasets.models import Dataset, Label
from labeling.models import Task
from labeling.selectors import recent_labels, task_suggestions

SHORTCUT_KEYS = 9


def item_context(*, task: Task) -> dict[str, Any]:
    return {"product": task.product}


def page_context(*, dataset: Dataset, task: Task, user: AbstractBaseUser) -> dict[str, Any]:
    suggestions = task_suggestions(dataset=dataset, task=task)
    return {
        **item_context(task=task),
        "shortcuts": shortcuts(suggestions=suggestions, recent=recent_labels(dataset=dataset, user=user)),
        "suggestions_shown": bool(suggestions),
    }


def shortcuts(*, suggestions: list[dict], recent: list[Label]) -> list[dict]:
    """Keys 1-9: the model's suggestions first, then recent labels not already offered."""
    offered = [{"label": s["label"], "probability": s["probability"], "kind": "suggestion"} for s in suggestions]
    seen = {s["label"].pk for s in offered}
    offered += [{"label": label, "probability": None, "kind": "recent"} for label in recent if label.pk not in seen]
    return [{"key": i + 1, **s} for i, s in enumerate(offered[:SHORTCUT_KEYS])]
