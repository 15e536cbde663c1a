"""Training learns the resolved labels (labeling.resolve): no tie and no unreviewed flag becomes an example."""

import pytest

from labeling.models import Annotation, Review, Task
from models_app.services.examples import training_examples
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    dataset = DatasetFactory(overlap=2)
    for name in ("A", "B"):
        LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}")
    return dataset


def task_with(dataset, title: str, *answers: tuple[str, bool]) -> Task:
    task = TaskFactory(dataset=dataset, product=ProductFactory(dataset=dataset, title=title))
    for n, (name, flagged) in enumerate(answers):
        Annotation.objects.create(
            dataset=dataset,
            task=task,
            user=member(dataset, f"{title}-{n}"),
            label=dataset.labels.get(name=name),
            flagged=flagged,
        )
    return task


def examples_of(dataset) -> dict[str, str]:
    examples = training_examples(dataset=dataset, fields=["title"])
    names = {str(pk): name for pk, name in dataset.labels.values_list("pk", "name")}
    return {text: names[label] for text, label in zip(examples.texts, examples.labels, strict=True)}


def test_a_tie_is_not_trained_on_until_a_reviewer_decides(dataset):
    tied = task_with(dataset, "kettle", ("A", False), ("B", False))
    task_with(dataset, "toaster", ("B", False), ("B", False))
    assert examples_of(dataset) == {"toaster": "B"}
    Review.objects.create(dataset=dataset, task=tied, label=dataset.labels.get(name="A"))
    assert examples_of(dataset) == {"kettle": "A", "toaster": "B"}


def test_a_flagged_task_is_not_trained_on(dataset):
    task_with(dataset, "kettle", ("A", True))
    task_with(dataset, "toaster", ("B", False))
    assert examples_of(dataset) == {"toaster": "B"}


def test_the_run_records_the_newest_answer_it_saw(dataset):
    task_with(dataset, "kettle", ("A", False), ("A", False))
    newest = Annotation.objects.filter(dataset=dataset).order_by("-pk").first()
    examples = training_examples(dataset=dataset, fields=["title"])
    assert (examples.last_annotation_id, examples.label_paths[str(newest.label_id)]) == (newest.pk, ["Shop", "A"])
