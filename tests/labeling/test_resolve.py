"""The one rule that makes a task's answers a final label (exports and training), on SQLite and PostgreSQL."""

import pytest
from django.db import connection

from config.errors import ApplicationError
from labeling import resolve
from labeling.models import Annotation, Review, Task
from labeling.resolve import RESOLVED_CTE, LabelPolicy, resolve_params, resolved_labels
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory, UserFactory, pair_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    dataset = DatasetFactory(overlap=3)
    for name in ("A", "B", "C"):
        LabelFactory(dataset=dataset, name=name, path=name)
    return dataset


def label(dataset, name: str):
    return dataset.labels.get(name=name)


def answered(dataset, *answers: str, complete: bool = True, task: Task | None = None) -> Task:
    """A task with one answer per name ("A", or "A!" for a flagged A, or "!" for a flag alone)."""
    task = task or TaskFactory(dataset=dataset)
    for n, answer in enumerate(answers):
        name = answer.rstrip("!")
        Annotation.objects.create(
            dataset=dataset,
            task=task,
            user=UserFactory(username=f"u{task.pk}-{n}"),
            label=label(dataset, name) if name else None,
            flagged=answer.endswith("!"),
        )
    Task.objects.filter(pk=task.pk).update(annotation_count=len(answers), is_complete=complete)
    return task


def resolved(dataset, **options) -> dict[int, str]:
    names = dict(dataset.labels.values_list("pk", "name"))
    return {task_id: names[label_id] for task_id, label_id in resolved_labels(dataset=dataset, **options)}


def test_gold_beats_a_decision_and_a_decision_beats_the_votes(dataset):
    reviewed = answered(dataset, "A", "A", "A")
    Review.objects.create(dataset=dataset, task=reviewed, label=label(dataset, "B"))
    gold_task = TaskFactory(dataset=dataset, is_gold=True, gold_label=label(dataset, "C"))
    gold = answered(dataset, "B", "B", "B", task=gold_task)
    Review.objects.create(dataset=dataset, task=gold, label=label(dataset, "B"))
    voted = answered(dataset, "A", "A", "B")
    assert resolved(dataset) == {reviewed.pk: "B", gold.pk: "C", voted.pk: "A"}


def test_a_tie_is_never_resolved(dataset):
    tied = answered(dataset, "A", "B")
    also_tied = answered(dataset, "C", "A", "C", "A")
    strict = answered(dataset, "C", "B", "B")
    assert resolved(dataset) == {strict.pk: "B"}
    assert tied.pk not in resolved(dataset, min_agreement=0.5) and also_tied.pk not in resolved(dataset)


def test_a_flagged_task_is_left_out_unless_flags_are_included(dataset):
    flagged = answered(dataset, "A", "A!", "A")
    flag_alone = answered(dataset, "!")
    assert resolved(dataset) == {}
    assert resolved(dataset, include_flagged=True) == {flagged.pk: "A"}
    assert flag_alone.pk not in resolved(dataset, include_flagged=True)


def test_a_decision_or_a_gold_label_clears_the_flag(dataset):
    reviewed = answered(dataset, "A!")
    Review.objects.create(dataset=dataset, task=reviewed, label=label(dataset, "A"))
    gold = answered(dataset, "!", task=TaskFactory(dataset=dataset, is_gold=True, gold_label=label(dataset, "B")))
    assert resolved(dataset) == {reviewed.pk: "A", gold.pk: "B"}


def test_final_needs_every_answer_to_agree_and_the_task_complete(dataset):
    agreed = answered(dataset, "A", "A", "A")
    split = answered(dataset, "B", "B", "C")
    waiting = answered(dataset, "C", complete=False)
    assert resolved(dataset, policy=LabelPolicy.FINAL) == {agreed.pk: "A"}
    assert resolved(dataset, policy=LabelPolicy.MAJORITY) == {agreed.pk: "A", split.pk: "B", waiting.pk: "C"}


def test_majority_needs_its_minimum_votes_and_agreement(dataset):
    two_of_three = answered(dataset, "B", "B", "C")
    assert resolved(dataset, min_votes=3) == {}
    assert resolved(dataset, min_agreement=0.7) == {}
    assert resolved(dataset, min_votes=2, min_agreement=0.6) == {two_of_three.pk: "B"}


def test_only_answers_up_to_the_bound_count(dataset):
    task = answered(dataset, "A", "B", "B")
    first, second, _ = Annotation.objects.filter(task=task).order_by("pk").values_list("pk", flat=True)
    assert resolved(dataset, upto_annotation_id=first) == {task.pk: "A"}
    assert resolved(dataset, upto_annotation_id=second) == {}  # a tie, then
    assert resolved(dataset) == {task.pk: "B"}


def test_a_pair_task_is_resolved_too(dataset):
    pair = pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset))
    answered(dataset, "A", "A", task=pair)
    assert resolved(dataset) == {pair.pk: "A"}


def test_answers_of_another_dataset_do_not_count(dataset):
    mine = answered(dataset, "A")
    other = DatasetFactory()
    LabelFactory(dataset=other, name="A", path="A")
    answered(other, "A", "A")
    assert resolved(dataset) == {mine.pk: "A"}


def test_labels_stream_in_task_order_across_batches(dataset, monkeypatch):
    monkeypatch.setattr(resolve, "FETCH_ROWS", 2)
    tasks = [answered(dataset, "A").pk for _ in range(5)]
    assert [task_id for task_id, _ in resolved_labels(dataset=dataset)] == sorted(tasks)


def test_raw_resolves_nothing_and_says_so(dataset):
    with pytest.raises(ApplicationError, match="no single label"):
        resolve_params(dataset=dataset, policy=LabelPolicy.RAW)


def test_the_cte_gives_the_columns_an_export_selects(dataset):
    task = answered(dataset, "A", "A!", "B")
    Review.objects.create(dataset=dataset, task=task, label=label(dataset, "C"))
    sql = f"WITH {RESOLVED_CTE} SELECT id, product_id, is_gold, votes, total, label_id, flagged FROM chosen"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, resolve_params(dataset=dataset, policy=LabelPolicy.MAJORITY))
        rows = cursor.fetchall()
    assert [(i, p, bool(g), v, t, lab, f) for i, p, g, v, t, lab, f in rows] == [
        (task.pk, task.product_id, False, 2, 3, label(dataset, "C").pk, 0)
    ]
