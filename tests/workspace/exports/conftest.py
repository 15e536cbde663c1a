import pytest

from datasets.models import Dataset
from labeling.models import Annotation, Review, Task
from labeling.review import review_decide
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member


def answer(task: Task, username: str, label_name: str | None, flagged: bool = False) -> Annotation:
    user = member(task.dataset, username) if not task.dataset.memberships.filter(user__username=username) else None
    user = user or task.dataset.memberships.get(user__username=username).user
    label = task.dataset.labels.get(name=label_name) if label_name else None
    return annotation_submit(task=task, user=user, label=label, flagged=flagged)


def review(task: Task, label_name: str) -> Review:
    """A lead's decision through the review service."""
    lead = member(task.dataset, "lead", role="lead")
    return review_decide(task=task, reviewer=lead, label=task.dataset.labels.get(name=label_name))


@pytest.fixture
def voted(db: None) -> Dataset:
    """Overlap 2, five products covering every case a label policy decides:

    P1 agreed (A, A); P2 disagreed (A, B) then reviewed as B; P3 half done (A); P4 agreed (B, B) but
    one answer flagged; P5 a gold item (C) nobody answered; P6 disagreed (A, C) and not reviewed.
    """
    dataset = DatasetFactory(overlap=2)
    for name in ("A", "B", "C"):
        LabelFactory(dataset=dataset, name=name, path=f"Root > {name}", code=f"c-{name}")
    tasks = [
        TaskFactory(dataset=dataset, product__external_id=f"P{n}", product__title=f"Product {n}")
        for n in range(1, 7)
    ]
    answer(tasks[0], "ann1", "A")
    answer(tasks[0], "ann2", "A")
    answer(tasks[1], "ann1", "A")
    answer(tasks[1], "ann2", "B")
    review(tasks[1], "B")
    answer(tasks[2], "ann1", "A")
    answer(tasks[3], "ann1", "B")
    answer(tasks[3], "ann2", "B", flagged=True)
    tasks[4].is_gold = True
    tasks[4].gold_label = dataset.labels.get(name="C")
    tasks[4].save()
    answer(tasks[5], "ann1", "A")
    answer(tasks[5], "ann2", "C")
    return dataset
