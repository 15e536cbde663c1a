"""A small team whose answers we chose, shared by the quality dashboard's page, API and worker tests."""

from types import SimpleNamespace

from datasets.models import Role
from labeling.services import annotation_skip, annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

LEAVES = {"Home": ("Kettles", "Lamps", "Rugs"), "Tech": ("Audio", "Phones", "Cables")}


def quality_team() -> SimpleNamespace:
    """Two levels of taxonomy, 24 products answered by four people, the first four products gold.

    ann1 and ann2 always give the true label (5 and 6 seconds); ann3 does too except on three products
    (7 seconds); "lazy" says "Home > Kettles" to everything in a second, and skipped one product.
    """
    dataset = DatasetFactory(overlap=4)
    leaves = []
    for root_name, names in LEAVES.items():
        root = LabelFactory(dataset=dataset, name=root_name, path=root_name)
        leaves += [
            LabelFactory(dataset=dataset, parent=root, name=name, path=f"{root_name} > {name}", depth=1)
            for name in names
        ]
    ann1, ann2, ann3, lazy = (member(dataset, name) for name in ("ann1", "ann2", "ann3", "lazy"))
    lead = member(dataset, "lead", Role.LEAD)
    tasks = TaskFactory.create_batch(24, dataset=dataset)
    for n, task in enumerate(tasks):
        truth = leaves[n % 6]
        if n < 4:
            task.is_gold, task.gold_label = True, truth
            task.save()
        annotation_submit(task=task, user=ann1, label=truth, active_seconds=5)
        annotation_submit(task=task, user=ann2, label=truth, active_seconds=6)
        annotation_submit(task=task, user=ann3, label=leaves[(n + 1) % 6] if n % 8 == 7 else truth, active_seconds=7)
        annotation_submit(task=task, user=lazy, label=leaves[0], active_seconds=1)
    annotation_skip(task=TaskFactory(dataset=dataset), user=lazy)
    return SimpleNamespace(dataset=dataset, leaves=leaves, tasks=tasks, lead=lead, annotator=ann1, lazy=lazy)
