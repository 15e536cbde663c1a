"""The annotator's figures: open tasks, answers today and this session, and pace."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from labeling import progress
from labeling.models import Annotation, Task
from labeling.progress import annotator_progress, open_tasks_count, session_figures
from labeling.services import annotation_skip, annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_a_session_ends_at_a_pause_of_more_than_thirty_minutes():
    figures = session_figures(minutes_ago(1, 5, 20, 45, 90), now=NOW)
    assert figures["session"] == 4 and figures["session_start"] == NOW - timedelta(minutes=45)


def test_pace_is_answers_per_hour_between_the_first_and_last_answer_of_the_session():
    assert session_figures(minutes_ago(0, 10, 20, 30), now=NOW)["pace"] == 6


def test_one_answer_has_no_pace_and_a_long_break_starts_a_new_session_at_zero():
    assert session_figures(minutes_ago(2), now=NOW) == {
        "session": 1,
        "session_start": NOW - timedelta(minutes=2),
        "pace": None,
    }
    assert session_figures(minutes_ago(31, 32), now=NOW) == {"session": 0, "session_start": None, "pace": None}
    assert session_figures([], now=NOW)["session"] == 0


@pytest.fixture
def labeled():
    dataset = DatasetFactory()
    label = LabelFactory(dataset=dataset)
    tasks = TaskFactory.create_batch(6, dataset=dataset)
    user = member(dataset, "ann")
    for task in tasks[:4]:
        annotation_submit(task=task, user=user, label=label)
    annotation_skip(task=tasks[4], user=user)
    return dataset, user, tasks


def at(task, moment: datetime) -> None:
    Annotation.objects.filter(task=task).update(updated_at=moment)


def test_progress_counts_open_tasks_today_and_the_session(labeled):
    dataset, user, tasks = labeled
    at(tasks[0], NOW - timedelta(days=1))  # yesterday: only in the total
    at(tasks[1], NOW - timedelta(hours=2))  # today, an earlier session
    at(tasks[2], NOW - timedelta(minutes=20))
    at(tasks[3], NOW - timedelta(minutes=5))
    progress = annotator_progress(dataset=dataset, user=user, now=NOW)
    assert progress["submitted"] == 4 and progress["skipped"] == 1
    assert progress["remaining"] == 2  # one answer completes a task (overlap 1); a skip leaves it open
    assert progress["today"] == 3
    assert progress["session"] == 2 and progress["pace"] == 4


def test_a_session_that_began_before_midnight_is_counted_whole(labeled):
    dataset, user, tasks = labeled
    just_after_midnight = datetime(2025, 3, 5, 0, 10, tzinfo=UTC)
    for task, minutes in zip(tasks[:4], (5, 15, 25, 35), strict=True):
        at(task, just_after_midnight - timedelta(minutes=minutes))
    progress = annotator_progress(dataset=dataset, user=user, now=just_after_midnight)
    assert progress["today"] == 1 and progress["session"] == 4


def test_the_progress_costs_three_queries(labeled, django_assert_num_queries):
    dataset, user, _ = labeled
    with django_assert_num_queries(3):
        annotator_progress(dataset=dataset, user=user)


def test_the_annotate_page_shows_the_figures(labeled, client):
    dataset, user, _ = labeled
    client.force_login(user)
    html = client.get(reverse("labeling:annotate", args=[dataset.pk])).content.decode()
    assert '<strong id="count-submitted">4</strong>' in html
    assert '<strong id="count-remaining">2</strong>' in html and '<strong id="count-today">4</strong>' in html
    assert '<strong id="count-session">4</strong>' in html and 'id="pace">' in html


def test_a_large_open_count_is_counted_once_in_a_while_and_a_small_one_exactly(labeled, monkeypatch):
    dataset, _, _ = labeled
    assert open_tasks_count(dataset=dataset) == 2  # under EXACT_OPEN: the bounded count is the answer
    monkeypatch.setattr(progress, "EXACT_OPEN", 0)
    monkeypatch.setattr(progress, "_open_counts", {})
    assert open_tasks_count(dataset=dataset) == 2
    Task.objects.filter(pk=Task.objects.filter(dataset=dataset, is_complete=False).first().pk).update(is_complete=True)
    assert open_tasks_count(dataset=dataset) == 2  # counted seconds ago: not again
    monkeypatch.setattr(progress, "OPEN_COUNT_SECONDS", 0.0)
    assert open_tasks_count(dataset=dataset) == 1
    Task.objects.filter(dataset=dataset).update(is_complete=True)
    assert open_tasks_count(dataset=dataset) == 0  # none left is always exact
