"""Contradictions among pair answers (A = B, B = C, A != C) go to review, and leave it once the answers agree."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from labeling.kinds.matching.checks import _request, pair_conflicts_due_request
from labeling.kinds.matching.clustering import (
    clusters_summary,
    pair_conflicts_check_run,
    pair_conflicts_of,
    pair_conflicts_refresh,
)
from labeling.kinds.matching.models import PairConflict, PairConflictCheck
from labeling.models import Annotation, Task
from labeling.review import review_decide
from labeling.services import annotation_submit, annotation_undo
from tests.conftest import worker_sweep_once
from tests.factories import DatasetFactory, LabelFactory, MatchingDatasetFactory, ProductFactory, member, pair_task

pytestmark = pytest.mark.django_db


class Triangle:
    """Products A, B, C, D; one annotator said A = B, B = C, A != C and C != D."""

    def __init__(self) -> None:
        self.dataset = MatchingDatasetFactory(overlap=2)
        self.match = self.dataset.labels.get(code="1")
        self.no_match = self.dataset.labels.get(code="0")
        self.a, self.b, self.c, self.d = (
            ProductFactory(dataset=self.dataset, external_id=name, title=f"Offer {name}") for name in "ABCD"
        )
        self.ab = pair_task(self.dataset, self.a, self.b)
        self.bc = pair_task(self.dataset, self.c, self.b)  # sides in either order
        self.ac = pair_task(self.dataset, self.a, self.c)
        self.cd = pair_task(self.dataset, self.c, self.d)
        self.annotator = member(self.dataset, "ann")
        self.lead = member(self.dataset, "lead", role="lead")
        for task, label in ((self.ab, self.match), (self.bc, self.match), (self.ac, self.no_match),
                            (self.cd, self.no_match)):
            annotation_submit(task=task, user=self.annotator, label=label)

    def flagged(self) -> set[int]:
        return set(Task.objects.filter(dataset=self.dataset, needs_review=True).values_list("pk", flat=True))

    def open_rows(self):
        return PairConflict.objects.filter(dataset=self.dataset, resolved_at=None)


@pytest.fixture
def triangle(db) -> Triangle:
    return Triangle()


def test_a_contradiction_flags_every_task_of_its_chain(triangle):
    assert triangle.flagged() == set()  # one clean answer each: nothing disagrees yet
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 1
    assert triangle.flagged() == {triangle.ab.pk, triangle.bc.pk, triangle.ac.pk}
    rows = {row.task_id: row for row in triangle.open_rows()}
    assert set(rows) == {triangle.ab.pk, triangle.bc.pk, triangle.ac.pk}
    for row in rows.values():
        assert row.no_match_task_id == triangle.ac.pk
        assert row.path == [triangle.ab.pk, triangle.bc.pk]
        assert row.products == [triangle.a.pk, triangle.b.pk, triangle.c.pk]


def test_a_second_refresh_changes_nothing(triangle):
    pair_conflicts_refresh(dataset=triangle.dataset)
    before = list(triangle.open_rows().values_list("pk", "detected_at"))
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 1
    assert list(triangle.open_rows().values_list("pk", "detected_at")) == before


def test_answers_that_agree_do_not_unflag_a_task_in_an_open_conflict(triangle):
    pair_conflicts_refresh(dataset=triangle.dataset)
    # A second, agreeing answer recomputes the task's flag from its answers: the conflict keeps it flagged.
    annotation_submit(task=triangle.ab, user=member(triangle.dataset, "ann2"), label=triangle.match)
    assert triangle.ab.pk in triangle.flagged()


def test_the_review_page_shows_the_chain_with_links_to_the_other_tasks(triangle, client):
    pair_conflicts_refresh(dataset=triangle.dataset)
    client.force_login(triangle.lead)
    page = client.get(reverse("labeling:review", args=[triangle.dataset.pk]) + f"?task={triangle.ab.pk}")
    html = page.content.decode()
    assert 'id="pair-contradictions"' in html
    for other in (triangle.bc, triangle.ac):
        assert f"?task={other.pk}" in html
    assert f"this task ({triangle.ab.pk})" in html
    (conflict,) = pair_conflicts_of(task=triangle.ab)
    assert [(s["left"].external_id, s["right"].external_id, s["same"]) for s in conflict["steps"]] == [
        ("A", "B", True), ("B", "C", True), ("A", "C", False)
    ]


def test_a_task_without_conflicts_shows_none(triangle, client):
    pair_conflicts_refresh(dataset=triangle.dataset)
    client.force_login(triangle.lead)
    page = client.get(reverse("labeling:review", args=[triangle.dataset.pk]) + f"?task={triangle.cd.pk}")
    assert 'id="pair-contradictions"' not in page.content.decode()


def test_a_decision_that_settles_the_chain_closes_the_conflict_and_unflags_its_tasks(
    triangle, django_capture_on_commit_callbacks
):
    pair_conflicts_refresh(dataset=triangle.dataset)
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(task=triangle.ac, reviewer=triangle.lead, label=triangle.match)
    # The decision asked for a check; the worker's run is this one.
    assert PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at is not None
    assert pair_conflicts_check_run(dataset_id=triangle.dataset.pk) == 0
    assert PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at is None
    assert not triangle.open_rows().exists()
    assert PairConflict.objects.filter(dataset=triangle.dataset, resolved_at__isnull=False).count() == 3
    assert triangle.flagged() == set()


def test_confirming_the_no_match_keeps_the_rest_of_the_chain_in_review(triangle):
    pair_conflicts_refresh(dataset=triangle.dataset)
    review_decide(task=triangle.ac, reviewer=triangle.lead, label=triangle.no_match)
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 1
    # Decided: the reviewer's task is no longer waiting, the undecided matches still are.
    assert triangle.flagged() == {triangle.ab.pk, triangle.bc.pk}
    review_decide(task=triangle.bc, reviewer=triangle.lead, label=triangle.no_match)
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 0
    assert triangle.flagged() == set()


def test_an_undone_answer_clears_its_conflict(triangle):
    pair_conflicts_refresh(dataset=triangle.dataset)
    annotation_undo(dataset=triangle.dataset, user=triangle.annotator)  # the last answer, C != D: no change
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 1
    annotation_undo(dataset=triangle.dataset, user=triangle.annotator)  # A != C
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 0
    assert triangle.flagged() == set()


def test_another_chain_takes_its_place_when_one_breaks(triangle):
    e = ProductFactory(dataset=triangle.dataset, external_id="E")
    ae, ec = pair_task(triangle.dataset, triangle.a, e), pair_task(triangle.dataset, e, triangle.c)
    for task in (ae, ec):
        annotation_submit(task=task, user=triangle.annotator, label=triangle.match)
    pair_conflicts_refresh(dataset=triangle.dataset)
    assert triangle.open_rows().get(task=triangle.ac).path == [triangle.ab.pk, triangle.bc.pk]  # via B, the smaller
    review_decide(task=triangle.ab, reviewer=triangle.lead, label=triangle.no_match)
    # A != C now holds through E, and the decided A != B contradicts A = E = C = B.
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 2
    assert triangle.open_rows().get(task=triangle.ac).path == [ae.pk, ec.pk]
    assert triangle.open_rows().get(task=triangle.ab).path == [ae.pk, ec.pk, triangle.bc.pk]
    assert triangle.flagged() == {triangle.ac.pk, ae.pk, ec.pk, triangle.bc.pk}
    review_decide(task=ae, reviewer=triangle.lead, label=triangle.no_match)
    assert pair_conflicts_refresh(dataset=triangle.dataset) == 0
    assert not triangle.open_rows().exists()
    assert triangle.flagged() == set()


def test_a_submit_asks_for_no_check(triangle, django_capture_on_commit_callbacks):
    e = ProductFactory(dataset=triangle.dataset)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        annotation_submit(task=pair_task(triangle.dataset, e, triangle.a), user=triangle.annotator,
                          label=triangle.match)
    assert len(callbacks) == 1  # the answers_submitted signal only: the worker's sweep finds the answer
    assert not PairConflictCheck.objects.exists()


def test_the_sweep_queues_a_due_check_once(triangle, django_assert_num_queries):
    assert pair_conflicts_due_request() == [triangle.dataset.pk]  # never checked, and answered
    first = PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at
    assert first is not None
    with django_assert_num_queries(1):  # the due datasets in one query; none is
        assert pair_conflicts_due_request() == []  # the check waits: the next sweep does not send it again
    assert PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at == first


def answers_age(dataset, minutes: float = 1) -> None:
    """As if the dataset's answers were given `minutes` ago (well before a check that runs now)."""
    Annotation.objects.filter(dataset=dataset).update(updated_at=F("updated_at") - timedelta(minutes=minutes))


def test_a_check_is_not_due_when_no_answer_changed_since(triangle):
    answers_age(triangle.dataset)
    pair_conflicts_refresh(dataset=triangle.dataset)
    assert pair_conflicts_due_request() == []
    assert PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at is None


def test_an_answer_after_a_check_makes_the_next_due(triangle):
    answers_age(triangle.dataset)
    pair_conflicts_refresh(dataset=triangle.dataset)
    annotation_submit(task=triangle.cd, user=member(triangle.dataset, "ann2"), label=triangle.match)
    assert pair_conflicts_due_request() == [triangle.dataset.pk]


def test_an_answer_that_commits_just_after_a_check_began_makes_the_next_due(triangle):
    # Its time was taken before the check began reading, its transaction committed after: unseen by that check.
    pair_conflicts_refresh(dataset=triangle.dataset)
    assert pair_conflicts_due_request() == [triangle.dataset.pk]


def test_a_check_run_since_the_sweep_read_it_is_not_queued_again(triangle):
    answers_age(triangle.dataset)
    pair_conflicts_refresh(dataset=triangle.dataset)
    check = PairConflictCheck.objects.get(dataset=triangle.dataset)
    later = check.answers_seen_before + timedelta(minutes=1)  # what a check that ended meanwhile recorded
    assert not _request(triangle.dataset.pk, unchanged=Q(answers_seen_before=later))
    assert PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at is None


def test_an_undo_asks_for_a_check_at_once(triangle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        annotation_undo(dataset=triangle.dataset, user=triangle.annotator)
    assert PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at is not None


def test_a_request_waiting_too_long_is_sent_again_by_the_sweep(triangle):
    long_ago = timezone.now() - timedelta(minutes=11)  # its message may be lost
    PairConflictCheck.objects.update_or_create(dataset=triangle.dataset, defaults={"requested_at": long_ago})
    assert pair_conflicts_due_request() == [triangle.dataset.pk]
    assert PairConflictCheck.objects.get(dataset=triangle.dataset).requested_at > long_ago


def test_a_categorization_dataset_asks_for_no_check(db, django_capture_on_commit_callbacks):
    dataset = DatasetFactory()
    label = LabelFactory(dataset=dataset)
    from tests.factories import TaskFactory

    task = TaskFactory(dataset=dataset)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        annotation_submit(task=task, user=member(dataset, "ann"), label=label)
    assert pair_conflicts_due_request() == []
    assert not PairConflictCheck.objects.exists()
    assert len(callbacks) == 1  # the answers_submitted signal only


def test_the_dataset_page_summarizes_clusters_and_conflicts(triangle, client):
    client.force_login(triangle.lead)
    url = reverse("workspace:detail", args=[triangle.dataset.pk])
    assert "No answers checked yet" in client.get(url).content.decode()
    pair_conflicts_refresh(dataset=triangle.dataset)
    summary = clusters_summary(dataset=triangle.dataset)
    assert (summary["clusters"], summary["clustered_products"], summary["largest"], summary["conflicts"]) == (
        1, 3, 3, 1
    )
    html = client.get(url).content.decode()
    assert 'id="clusters-summary"' in html and "1</strong> open contradiction" in html


@pytest.mark.worker
def test_a_contradiction_is_found_by_the_worker_after_its_sweep(celery_worker):
    """The chain a worker runs: its sweeper's loop sends `swept`, labeling's receiver queues the check, a worker
    runs it."""
    triangle = Triangle()  # the answers commit one by one here (transactional test), and ask for no check
    worker_sweep_once()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not triangle.open_rows().exists():
        time.sleep(0.1)
    assert triangle.open_rows().count() == 3
    while time.monotonic() < deadline and triangle.flagged() != {triangle.ab.pk, triangle.bc.pk, triangle.ac.pk}:
        time.sleep(0.1)
    assert triangle.flagged() == {triangle.ab.pk, triangle.bc.pk, triangle.ac.pk}
    connection.close()


def test_the_codes_read_are_the_kinds_answers():
    from labeling.kinds.matching.clustering import MATCH_CODE, NO_MATCH_CODE
    from labeling.kinds.matching.kind import MATCH, NO_MATCH

    assert (MATCH.code, NO_MATCH.code) == (MATCH_CODE, NO_MATCH_CODE)
