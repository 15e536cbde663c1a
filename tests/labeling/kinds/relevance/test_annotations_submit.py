"""Many answers at once (a query confirmed in the list mode): recorded as single answers are, or not at all; a
query skipped whole; the last query undone whole."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from config.errors import ApplicationError
from labeling.answers import task_answers_clean
from labeling.models import Annotation, AnnotationStatus, EventAction, LabelEvent, Lease, Task
from labeling.queue import query_lease_next
from labeling.services import TaskAnswer, annotation_submit, annotations_skip, annotations_submit, query_undo
from tests.factories import LabelFactory, member
from tests.labeling.kinds.relevance.judging import search_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def judging():
    dataset = search_dataset(queries=2)
    judge = member(dataset, "judge")
    return dataset, judge, query_lease_next(dataset=dataset, user=judge)


def graded(dataset, tasks, codes="ESCI"):
    labels = {label.code: label for label in dataset.labels.all()}
    return [TaskAnswer(task=task, label=labels[codes[i % len(codes)]]) for i, task in enumerate(tasks)]


def test_a_query_confirmed_whole_stores_each_answer_with_counts_history_and_shared_time(judging):
    dataset, judge, tasks = judging
    annotations = annotations_submit(dataset=dataset, user=judge, answers=graded(dataset, tasks), active_seconds=20)
    assert [a.task_id for a in annotations] == [task.pk for task in tasks]
    stored = Annotation.objects.filter(user=judge).order_by("task_id")
    assert [a.label.code for a in Annotation.objects.filter(user=judge).order_by("task__random_key")] == list(
        "ESCIESCIES"
    )
    assert {a.active_seconds for a in stored} == {2.0}
    assert set(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("annotation_count", "is_complete")) == {
        (1, True)
    }
    assert LabelEvent.objects.filter(user=judge, action=EventAction.CREATE).count() == 10
    assert not Lease.objects.filter(user=judge).exists()


def test_a_bad_answer_among_them_leaves_nothing_written(judging):
    dataset, judge, tasks = judging
    other = search_dataset(name="Other", queries=1)
    answers = graded(dataset, tasks)
    answers[7] = TaskAnswer(task=tasks[7], label=other.labels.get(code="E"))
    with pytest.raises(ApplicationError, match="another dataset"):
        annotations_submit(dataset=dataset, user=judge, answers=answers)
    assert not Annotation.objects.filter(user=judge).exists()
    assert not LabelEvent.objects.filter(user=judge).exists()
    assert set(Task.objects.filter(dataset=dataset).values_list("annotation_count", flat=True)) == {0}


def test_a_refusal_while_writing_rolls_back_the_answers_already_written(judging):
    dataset, judge, tasks = judging
    rival = member(dataset, "rival")
    # The rival answers the task written last (in id order) after the judge's leases expired: no slot is left.
    last = max(tasks, key=lambda task: task.pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=dataset.lease_minutes, seconds=1)):
        annotation_submit(task=last, user=rival, label=dataset.labels.get(code="I"))
        with pytest.raises(ApplicationError, match="no longer yours"):
            annotations_submit(dataset=dataset, user=judge, answers=graded(dataset, tasks))
    assert not Annotation.objects.filter(user=judge).exists()
    assert Lease.objects.filter(user=judge).count() == 10  # the nine given back while writing, back again


def test_ungraded_products_are_refused_with_their_count_unless_flagged(judging):
    dataset, judge, tasks = judging
    answers = graded(dataset, tasks[:7]) + [TaskAnswer(task=task, label=None) for task in tasks[7:]]
    with pytest.raises(ApplicationError, match="3 of the 10 answers have neither a label nor a flag"):
        annotations_submit(dataset=dataset, user=judge, answers=answers)
    answers[7:] = [TaskAnswer(task=task, label=None, flagged=True) for task in tasks[7:]]
    annotations_submit(dataset=dataset, user=judge, answers=answers)
    assert Annotation.objects.filter(user=judge, flagged=True, label=None).count() == 3


def test_a_grade_not_on_the_datasets_scale_is_refused():
    dataset = search_dataset(queries=1, grade_scale="binary")
    task = Task.objects.filter(dataset=dataset).first()
    by_hand = LabelFactory(dataset=dataset, name="perfect", path="perfect", code="3")
    with pytest.raises(ApplicationError, match="'perfect' is not a grade of the binary scale"):
        task_answers_clean(dataset=dataset, rows=[(task, by_hand.pk, None, False)])
    with pytest.raises(ApplicationError, match="Unknown answer 'E'"):
        task_answers_clean(dataset=dataset, rows=[(task, None, "E", False)])
    assert task_answers_clean(dataset=dataset, rows=[(task, None, "yes", False)])[0].label.code == "1"


def test_a_task_twice_or_of_another_dataset_is_refused(judging):
    dataset, judge, tasks = judging
    with pytest.raises(ApplicationError, match="answered twice"):
        annotations_submit(dataset=dataset, user=judge, answers=graded(dataset, [tasks[0], tasks[0]]))
    other = search_dataset(name="Other", queries=1)
    foreign = Task.objects.filter(dataset=other).first()
    with pytest.raises(ApplicationError, match="belong to another dataset"):
        annotations_submit(dataset=dataset, user=judge, answers=graded(other, [foreign]))


def test_a_query_skipped_whole_never_comes_back(judging):
    dataset, judge, tasks = judging
    annotations_skip(dataset=dataset, user=judge, tasks=tasks, active_seconds=5)
    assert Annotation.objects.filter(user=judge, status=AnnotationStatus.SKIPPED).count() == 10
    assert not set(query_lease_next(dataset=dataset, user=judge)) & set(tasks)


def test_undo_reopens_the_last_query_whole_and_leases_it_back(judging):
    dataset, judge, tasks = judging
    annotations_submit(dataset=dataset, user=judge, answers=graded(dataset, tasks))
    second = query_lease_next(dataset=dataset, user=judge)
    annotations_submit(dataset=dataset, user=judge, answers=graded(dataset, second, "I"))
    reopened = query_undo(dataset=dataset, user=judge)
    assert {task.pk for task in reopened} == {task.pk for task in second}
    assert Annotation.objects.filter(user=judge).count() == 10
    assert LabelEvent.objects.filter(user=judge, action=EventAction.UNDO).count() == 10
    assert set(Task.objects.filter(pk__in=[t.pk for t in second]).values_list("annotation_count", flat=True)) == {0}
    assert query_lease_next(dataset=dataset, user=judge) == second


def test_undo_with_nothing_answered_says_so(judging):
    dataset, judge, _tasks = judging
    with pytest.raises(ApplicationError, match="Nothing to undo"):
        query_undo(dataset=dataset, user=judge)
