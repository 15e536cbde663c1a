"""How matching tasks are made: one task per pair of products, whatever order the pair comes in."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from config.errors import ApplicationError
from datasets.models import Dataset
from labeling.models import Task, TaskItem
from labeling.queue import random_key


@dataclass(frozen=True)
class PairSpec:
    left_id: int
    right_id: int
    attributes: dict[str, Any] = field(default_factory=dict)  # the pair's own columns (a benchmark's split)


def pair_item_key(left_id: int, right_id: int) -> str:
    """The order-free identity of a pair: 'a:b' with a < b."""
    low, high = sorted((left_id, right_id))
    return f"{low}:{high}"


def pair_tasks_upsert(*, dataset: Dataset, pairs: Sequence[PairSpec]) -> tuple[dict[str, int], int]:
    """Tasks for pairs of products, a few statements for the whole batch.

    A pair the dataset already holds, in either order, keeps its task and its sides; its attributes are
    replaced by the new ones when it brings any (a re-import, as for products). Returns each pair's task id
    by `pair_item_key`, and how many tasks are new.
    """
    wanted: dict[str, PairSpec] = {}
    for pair in pairs:
        if pair.left_id == pair.right_id:
            raise ApplicationError("A product cannot be paired with itself.", extra={"product": pair.left_id})
        wanted[pair_item_key(pair.left_id, pair.right_id)] = pair
    with transaction.atomic():
        existing = dict(Task.objects.filter(dataset=dataset, item_key__in=list(wanted)).values_list("item_key", "pk"))
        new_keys = [key for key in wanted if key not in existing]
        Task.objects.bulk_update(
            [Task(pk=pk, attributes=wanted[key].attributes) for key, pk in existing.items() if wanted[key].attributes],
            ["attributes"],
            batch_size=2000,
        )
        # Conflicts are ignored, not raised: a concurrent import of the same pair keeps the task it made.
        Task.objects.bulk_create(
            [
                Task(
                    dataset=dataset,
                    item_key=key,
                    attributes=wanted[key].attributes or None,
                    random_key=random_key(seed=dataset.seed, external_id=f"pair:{key}"),
                )
                for key in new_keys
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        created = dict(Task.objects.filter(dataset=dataset, item_key__in=new_keys).values_list("item_key", "pk"))
        TaskItem.objects.bulk_create(
            [
                TaskItem(task_id=created[key], product_id=product_id, role=role)
                for key in new_keys
                for role, product_id in (("left", wanted[key].left_id), ("right", wanted[key].right_id))
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
    return existing | created, len(new_keys)
