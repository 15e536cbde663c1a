"""Review through the real services: which tasks wait for a reviewer, and what a decision changes."""

import pytest

from config.errors import ApplicationError
from labeling.models import EventAction, LabelEvent, LabelSource, Review, Task
from labeling.review import review_decide
from labeling.services import annotation_skip, annotation_submit, annotation_undo
from models_app.services.examples import training_examples
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(db):
    """Overlap 2, labels A and B, one task, two annotators and a lead."""
    dataset = DatasetFactory(overlap=2)
    labels = {name: LabelFactory(dataset=dataset, name=name, path=name) for name in ("A", "B")}
    task = TaskFactory(dataset=dataset)
    return dataset, labels, task, member(dataset, "ann1"), member(dataset, "ann2"), member(dataset, "lead", "lead")


def needs_review(task) -> bool:
    task.refresh_from_db()
    return task.needs_review


def test_agreeing_answers_need_no_review(pair):
    _, labels, task, ann1, ann2, _ = pair
    annotation_submit(task=task, user=ann1, label=labels["A"])
    annotation_submit(task=task, user=ann2, label=labels["A"])
    assert not needs_review(task)


def test_a_disagreement_waits_for_review_until_an_answer_changes(pair):
    _, labels, task, ann1, ann2, _ = pair
    annotation_submit(task=task, user=ann1, label=labels["A"])
    annotation_submit(task=task, user=ann2, label=labels["B"])
    assert needs_review(task)
    annotation_submit(task=task, user=ann2, label=labels["A"])
    assert not needs_review(task)


def test_a_flag_alone_waits_for_review(pair):
    _, _, task, ann1, _, _ = pair
    annotation_submit(task=task, user=ann1, label=None, flagged=True)
    assert needs_review(task)


def test_skip_and_undo_settle_a_disagreement(pair):
    dataset, labels, task, ann1, ann2, _ = pair
    annotation_submit(task=task, user=ann1, label=labels["A"])
    annotation_submit(task=task, user=ann2, label=labels["B"])
    annotation_skip(task=task, user=ann2)
    assert not needs_review(task)
    annotation_submit(task=task, user=ann2, label=labels["B"])
    assert needs_review(task)
    annotation_undo(dataset=dataset, user=ann2)
    assert not needs_review(task)


def test_a_decision_is_the_final_label_and_part_of_the_history(pair):
    _, labels, task, ann1, ann2, lead = pair
    annotation_submit(task=task, user=ann1, label=labels["A"])
    annotation_submit(task=task, user=ann2, label=labels["B"])
    review_decide(task=task, reviewer=lead, label=labels["B"], note="B per the brand site")
    review_decide(task=task, reviewer=lead, label=labels["A"])
    task.refresh_from_db()
    assert (task.needs_review, task.is_complete, task.is_gold) == (False, True, False)
    assert Review.objects.get(task=task).label == labels["A"]
    events = list(LabelEvent.objects.filter(task=task, action=EventAction.REVIEW).order_by("id"))
    assert [(e.old_label_id, e.new_label_id, e.user, e.source) for e in events] == [
        (None, labels["B"].pk, lead, LabelSource.REVIEW),
        (labels["B"].pk, labels["A"].pk, lead, LabelSource.REVIEW),
    ]
    annotation_submit(task=task, user=ann2, label=labels["B"])  # a later change does not reopen a decided task
    assert not needs_review(task)


def test_a_decision_can_make_the_task_gold(pair):
    _, labels, task, _, _, lead = pair
    review_decide(task=task, reviewer=lead, label=labels["B"], gold=True)
    task.refresh_from_db()
    assert (task.is_gold, task.gold_label) == (True, labels["B"])


def test_a_label_of_another_dataset_is_refused(pair):
    _, _, task, _, _, lead = pair
    with pytest.raises(ApplicationError, match="another dataset"):
        review_decide(task=task, reviewer=lead, label=LabelFactory(dataset=DatasetFactory()))


def test_training_takes_gold_then_review_then_majority(pair):
    dataset, labels, task, ann1, ann2, lead = pair
    annotation_submit(task=task, user=ann1, label=labels["A"])
    annotation_submit(task=task, user=ann2, label=labels["A"])
    reviewed = TaskFactory(dataset=dataset)
    annotation_submit(task=reviewed, user=ann1, label=labels["A"])
    review_decide(task=reviewed, reviewer=lead, label=labels["B"])
    gold = TaskFactory(dataset=dataset, is_gold=True, gold_label=labels["B"])
    examples = training_examples(dataset=dataset, fields=["title"])
    by_text = dict(zip(examples.texts, examples.labels, strict=True))
    titles = dict(Task.objects.filter(dataset=dataset).values_list("pk", "product__title"))
    assert by_text[titles[task.pk]] == str(labels["A"].pk)
    assert by_text[titles[reviewed.pk]] == str(labels["B"].pk)
    assert by_text[titles[gold.pk]] == str(labels["B"].pk)


def test_a_new_decision_on_a_gold_task_moves_its_gold_label(pair):
    _, labels, task, _, _, lead = pair
    review_decide(task=task, reviewer=lead, label=labels["A"], gold=True)
    review_decide(task=task, reviewer=lead, label=labels["B"])
    task.refresh_from_db()
    assert (task.is_gold, task.gold_label) == (True, labels["B"])


def test_a_decision_ends_the_leases_on_the_task(pair):
    from labeling.models import Lease
    from labeling.queue import task_lease_next

    dataset, labels, task, ann1, _, lead = pair
    assert task_lease_next(dataset=dataset, user=ann1) == task
    review_decide(task=task, reviewer=lead, label=labels["A"])
    assert not Lease.objects.filter(task=task).exists()


def test_a_long_note_is_refused_not_cut(pair):
    _, labels, task, _, _, lead = pair
    with pytest.raises(ApplicationError, match="at most 500"):
        review_decide(task=task, reviewer=lead, label=labels["A"], note="x" * 501)


def test_answers_given_before_a_task_became_gold_do_not_measure_accuracy(pair):
    from labeling.quality.report import quality_figures

    dataset, labels, task, ann1, ann2, lead = pair
    annotation_submit(task=task, user=ann1, label=labels["A"])
    annotation_submit(task=task, user=ann2, label=labels["B"])
    review_decide(task=task, reviewer=lead, label=labels["B"], gold=True)
    later = member(dataset, "ann3")
    annotation_submit(task=task, user=later, label=labels["B"])
    _, figures = quality_figures(dataset=dataset)
    gold = {row["name"]: row["gold_items"] for row in figures["annotators"]}
    assert gold == {"ann1": 0, "ann2": 0, "ann3": 1}
