"""Quality reports through the real services: figures of a small team whose answers we chose."""

import math

import numpy as np
import pytest

from labeling.models import Annotation, QualityStatus
from labeling.quality import agreement
from labeling.quality.annotators import annotator_confusion, annotator_stats
from labeling.quality.report import quality_report_latest, quality_report_request, quality_report_run
from labeling.services import annotation_skip, annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


def test_majority_agreement_leaves_the_rater_out():
    # item 1: A A A B -> for rater 1 the others say A, A, B: agrees; for rater 4 they say A, A, A: disagrees.
    # item 2: A B -> each one's "others" is a single different answer: both disagree.
    # item 3: A B C -> the others tie for everyone: not counted.
    ratings = np.array([
        (1, 1, 10), (1, 2, 10), (1, 3, 10), (1, 4, 11),
        (2, 1, 10), (2, 2, 11),
        (3, 1, 10), (3, 2, 11), (3, 3, 12),
    ])
    rows = {row["rater"]: row for row in annotator_stats(ratings, np.full(len(ratings), np.nan), gold={})}
    assert (rows[1]["majority_agreement"], rows[1]["majority_items"]) == (0.5, 2)
    assert (rows[4]["majority_agreement"], rows[4]["majority_items"]) == (0.0, 1)
    assert rows[1]["labels_per_hour"] is None and rows[1]["median_seconds"] is None


def test_gold_accuracy_comes_with_a_wilson_interval():
    ratings = np.array([(item, 1, 10 if item < 8 else 11) for item in range(10)])
    row = annotator_stats(ratings, np.full(10, 3.0), gold=dict.fromkeys(range(10), 10))[0]
    assert (row["gold_items"], row["gold_correct"], row["gold_accuracy"]) == (10, 8, 0.8)
    assert row["gold_interval"] == pytest.approx(list(agreement.wilson_interval(8, 10)))
    assert row["labels_per_hour"] == 1200.0 and row["median_seconds"] == 3.0


def test_an_annotator_who_always_picks_one_label_fast_stands_out():
    rng = np.random.default_rng(1)
    honest = [(item, rater, int(rng.integers(0, 5))) for item in range(100) for rater in (1, 2)]
    lazy = [(item, 3, 0) for item in range(100)]
    ratings = np.array(honest + lazy)
    seconds = np.array([8.0] * len(honest) + [1.0] * len(lazy))
    rows = {row["rater"]: row for row in annotator_stats(ratings, seconds, gold={})}
    assert {"same label", "fast", "unusual labels"} <= set(rows[3]["flags"])
    assert rows[1]["flags"] == [] and rows[2]["flags"] == []


def test_confusion_counts_each_pair_of_answers_both_ways():
    ratings = np.array([(1, 1, 10), (1, 2, 11), (2, 1, 10), (2, 2, 10), (2, 3, 11)])
    confusion = annotator_confusion(ratings)
    matrix = dict(zip(confusion["labels"], confusion["matrix"], strict=True))
    # item 1: one A-B pair; item 2: one A-A pair (twice on the diagonal) and two A-B pairs.
    assert matrix[10] == [2, 3] and matrix[11] == [3, 0]


@pytest.fixture
def team(db):
    """Overlap 3 over 12 products: ann1 and ann2 always agree, ann3 always says A; two gold items."""
    dataset = DatasetFactory(overlap=3)
    labels = [LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}") for name in ("A", "B", "C")]
    users = [member(dataset, f"ann{n}") for n in (1, 2, 3)]
    tasks = TaskFactory.create_batch(12, dataset=dataset)
    for n, task in enumerate(tasks):
        truth = labels[n % 3]
        if n < 2:
            task.is_gold, task.gold_label = True, truth
            task.save()
        annotation_submit(task=task, user=users[0], label=truth, active_seconds=5)
        annotation_submit(task=task, user=users[1], label=truth, active_seconds=7)
        annotation_submit(task=task, user=users[2], label=labels[0], active_seconds=1)
    annotation_skip(task=TaskFactory(dataset=dataset), user=users[2])
    return dataset


def test_a_report_holds_the_figures_of_the_answers(team):
    report = quality_report_run(report_id=quality_report_request(dataset=team, user=None).pk)
    assert report.status == QualityStatus.SUCCEEDED and quality_report_latest(dataset=team) == report
    figures = report.figures
    triples = np.array(list(
        Annotation.objects.filter(dataset=team, label__isnull=False).values_list("task_id", "user_id", "label_id")
    ))
    assert figures["answers"] == 36 and figures["items_with_overlap"] == 12
    assert figures["percent_agreement"] == pytest.approx(agreement.percent_agreement(triples))
    assert figures["alpha"] == pytest.approx(agreement.krippendorff_alpha(triples))
    assert figures["fleiss"]["kappa"] == pytest.approx(agreement.fleiss_kappa(triples)["kappa"])
    by_name = {row["name"]: row for row in figures["annotators"]}
    assert by_name["ann1"]["majority_agreement"] == 1.0
    assert by_name["ann3"]["majority_agreement"] == pytest.approx(4 / 12)
    assert by_name["ann3"]["gold_correct"] == 1 and by_name["ann1"]["gold_correct"] == 2
    assert by_name["ann3"]["skips"] == 1
    assert {pair["name_a"] for pair in figures["pairs"]} <= {"ann1", "ann2"}
    assert [level["depth"] for level in figures["levels"]] == [1]
    assert {row["path"] for row in figures["per_label"]} == {"Shop > A", "Shop > B", "Shop > C"}
    assert sum(day["answers"] for day in figures["activity"]) == 36
    assert figures["activity"][-1]["labeled_total"] == 12
    assert all(not isinstance(value, float) or math.isfinite(value) for value in _numbers(figures))


def _numbers(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def test_requests_made_while_one_waits_join_it(team):
    first = quality_report_request(dataset=team, user=None)
    assert quality_report_request(dataset=team, user=None) == first
    quality_report_run(report_id=first.pk)
    assert quality_report_request(dataset=team, user=None) != first


def test_a_dataset_without_answers_gets_an_empty_report(db):
    report = quality_report_run(report_id=quality_report_request(dataset=DatasetFactory(), user=None).pk)
    assert report.status == QualityStatus.SUCCEEDED
    assert report.figures["answers"] == 0 and report.figures["percent_agreement"] is None


def test_a_report_whose_worker_died_is_failed_by_the_sweeper_when_a_newer_one_waits(team):
    from datetime import timedelta

    from django.utils import timezone

    from config.jobs.sweeper import jobs_sweep
    from labeling.models import QualityReport

    long_ago = timezone.now() - timedelta(hours=1)
    stuck = QualityReport.objects.create(
        dataset=team, status=QualityStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago, attempts=1
    )
    fresh = quality_report_request(dataset=team, user=None)
    jobs_sweep()
    stuck.refresh_from_db()
    assert stuck.status == QualityStatus.FAILED and "newer request was already waiting" in stuck.message
    assert fresh.status == QualityStatus.QUEUED
