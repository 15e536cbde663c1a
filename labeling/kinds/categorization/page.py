"""What the categorization partials need: the product, keys 1-9 and the roots of the taxonomy tree.

Keys 1-9 are the model's suggestions, then recent labels; when the taxonomy has at most nine leaves, every leaf
has a key: the suggestions, then the other leaves in path order (a fixed place each while there is no model).
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from datasets.models import Dataset, Label
from datasets.selectors import label_children, label_leaves_if_few
from labeling.models import Task
from labeling.selectors import recent_labels, task_suggestions

SHORTCUT_KEYS = 9


def item_context(*, task: Task) -> dict[str, Any]:
    return {"product": task.product}


def page_context(*, dataset: Dataset, task: Task, user: AbstractBaseUser) -> dict[str, Any]:
    suggestions = task_suggestions(dataset=dataset, task=task)
    leaves = label_leaves_if_few(dataset=dataset, at_most=SHORTCUT_KEYS)
    if leaves is not None:
        keys = all_labels(leaves=leaves, suggestions=suggestions)
    else:
        keys = shortcuts(suggestions=suggestions, recent=recent_labels(dataset=dataset, user=user))
    return {
        **item_context(task=task),
        "shortcuts": keys,
        "all_labels_shown": leaves is not None,
        "suggestions_shown": bool(suggestions),
        "tree_roots": label_children(dataset=dataset, parent_id=None),
    }


def shortcuts(*, suggestions: list[dict], recent: list[Label]) -> list[dict]:
    """Keys 1-9: the model's suggestions first, then recent labels not already offered."""
    offered = [{"label": s["label"], "probability": s["probability"], "kind": "suggestion"} for s in suggestions]
    seen = {s["label"].pk for s in offered}
    offered += [{"label": label, "probability": None, "kind": "recent"} for label in recent if label.pk not in seen]
    return [{"key": i + 1, **s} for i, s in enumerate(offered[:SHORTCUT_KEYS])]


def all_labels(*, leaves: list[Label], suggestions: list[dict]) -> list[dict]:
    """Keys 1-9 for a small label set: the model's suggestions first (key 1 is its best guess, as in a big
    taxonomy), then the other leaves in path order; recent labels are left out so that keys stay put between
    tasks when there is no model."""
    offered = [{"label": s["label"], "probability": s["probability"], "kind": "suggestion"} for s in suggestions]
    seen = {s["label"].pk for s in offered}
    offered += [{"label": label, "probability": None, "kind": "choice"} for label in leaves if label.pk not in seen]
    return [{"key": i + 1, **s} for i, s in enumerate(offered[:SHORTCUT_KEYS])]
