"""Agreement on ordered grades: a relevance dataset's quality report weighs near misses (ordinal and interval
alpha, quadratic weighted kappa), computed from the judges' answers and shown on the Quality page."""

import re

import pytest
from django.urls import reverse
from sklearn.metrics import cohen_kappa_score

from datasets.models import Query, Role
from labeling.models import Task
from labeling.quality import agreement
from labeling.quality.report import quality_report_request, quality_report_run
from labeling.quality_display import decimal
from labeling.services import annotation_submit
from tests.factories import ProductFactory, UserFactory, member
from workspace.services.datasets import dataset_create

pytestmark = pytest.mark.django_db

# Two judges over 12 results: mostly agreeing, their misses one grade apart but for one (E against I).
FIRST = "EEESSSCCCIIE"
SECOND = "EESSSCCCIIII"


@pytest.fixture
def judged():
    dataset = dataset_create(user=UserFactory(), name="Search", task_type="relevance", overlap=2)
    query = Query.objects.create(dataset=dataset, external_id="q1", text="running shoes")
    tasks = [
        Task.objects.create(dataset=dataset, query=query, random_key=n,
                            product=ProductFactory(dataset=dataset, external_id=f"p{n}", title=f"Shoe {n}"))
        for n in range(len(FIRST))
    ]
    grades = {label.code: label for label in dataset.labels.all()}
    for username, answers in (("ann", FIRST), ("bob", SECOND)):
        judge = member(dataset, username)
        for task, code in zip(tasks, answers, strict=True):
            annotation_submit(task=task, user=judge, label=grades[code], flagged=False)
    return dataset


def test_the_report_weighs_near_misses_on_the_grades_order(judged):
    figures = quality_report_run(report_id=quality_report_request(dataset=judged, user=None).pk).figures
    values = {"E": 3, "S": 2, "C": 1, "I": 0}
    first, second = [values[c] for c in FIRST], [values[c] for c in SECOND]
    (pair,) = figures["pairs"]
    assert pair["weighted_kappa"] == pytest.approx(cohen_kappa_score(first, second, weights="quadratic"))
    assert pair["kappa"] == pytest.approx(cohen_kappa_score(first, second))
    # Near misses cost less when the order counts: ordinal and interval alpha above nominal.
    assert figures["alpha_ordinal"] > figures["alpha"] and figures["alpha_interval"] > figures["alpha"]
    ratings = [(n, rater, values[c]) for rater, answers in ((1, FIRST), (2, SECOND)) for n, c in enumerate(answers)]
    grades = {value: float(value) for value in values.values()}
    assert figures["alpha_interval"] == pytest.approx(
        agreement.krippendorff_alpha(ratings, level="interval", grades=grades)
    )


def test_the_quality_page_shows_the_ordered_figures(judged, client):
    figures = quality_report_run(report_id=quality_report_request(dataset=judged, user=None).pk).figures
    client.force_login(member(judged, "lead", role=Role.LEAD))
    html = re.sub(r">\s+<", "><", client.get(reverse("labeling:quality", args=[judged.pk])).content.decode())
    assert f"<dt>Alpha, ordinal</dt><dd>{decimal(figures['alpha_ordinal'])}<small>by grade order</small>" in html
    assert "Weighted kappa" in html and decimal(figures["pairs"][0]["weighted_kappa"]) in html


def test_a_categorization_report_has_no_ordered_figures():
    dataset = dataset_create(user=UserFactory(), name="Cats", task_type="categorization")
    figures = quality_report_run(report_id=quality_report_request(dataset=dataset, user=None).pk).figures
    assert "alpha_ordinal" not in figures
