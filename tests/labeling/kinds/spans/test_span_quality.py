"""A span dataset's quality report: whole answers equal, span F1 (exact and overlapping) per type and per pair,
token kappa, and accuracy on gold spans; the dashboard shows them."""

import pytest
from django.urls import reverse

from labeling.quality.report import quality_report_request, quality_report_run
from labeling.review import review_decide
from labeling.services import annotation_submit
from tests.factories import member
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def marked():
    """Two annotators over the three titles: the same on sku-3, a wider MODEL on sku-1, a missed COLOR on sku-2."""
    dataset = span_dataset(overlap=2)
    brand, model, color = (type_id(dataset, code) for code in ("BRAND", "MODEL", "COLOR"))
    ann, bob = member(dataset, "ann"), member(dataset, "bob")
    answers = {
        "sku-1": ([[0, 0, brand], [1, 1, model]], [[0, 0, brand], [1, 2, model]]),
        "sku-2": ([[0, 0, brand], [5, 5, color]], [[0, 0, brand]]),
        "sku-3": ([[0, 0, brand]], [[0, 0, brand]]),
    }
    for sku, (mine, theirs) in answers.items():
        task = span_task(dataset, sku)
        annotation_submit(task=task, user=ann, label=None, value=mine)
        annotation_submit(task=task, user=bob, label=None, value=theirs)
    return dataset


def test_the_report_holds_span_f1_token_kappa_and_whole_answer_agreement(marked):
    report = quality_report_run(report_id=quality_report_request(dataset=marked, user=None).pk)
    figures = report.figures

    assert (figures["answers"], figures["items_with_overlap"]) == (6, 3)
    assert figures["percent_agreement"] == pytest.approx(1 / 3)  # only sku-3's answers are equal
    spans = figures["spans"]
    # ann's 5 spans, bob's 4; exact matches: 3 brands. Overlapping: the MODELs too.
    assert (spans["exact"]["precision"], spans["exact"]["recall"]) == (pytest.approx(3 / 5), pytest.approx(3 / 4))
    assert (spans["overlap"]["precision"], spans["overlap"]["recall"]) == (pytest.approx(4 / 5), 1.0)
    assert spans["per_label"]["BRAND"] == {"exact": 1.0, "overlap": 1.0}
    assert spans["per_label"]["COLOR"]["exact"] is None  # bob marked no COLOR: recall is undefined
    assert [(pair["annotator_a"], pair["annotator_b"]) for pair in spans["pairs"]] == [("ann", "bob")]
    assert 0 < spans["tokens"]["kappa"] < 1  # 16 tokens, 2 of them differ


def test_gold_spans_measure_each_annotator(marked):
    task = span_task(marked, "sku-1")
    brand, model = type_id(marked, "BRAND"), type_id(marked, "MODEL")
    review_decide(task=task, reviewer=member(marked, "lead", role="lead"), label=None,
                  value=[[0, 0, brand], [1, 1, model]], gold=True)
    report = quality_report_run(report_id=quality_report_request(dataset=marked, user=None).pk)
    # Answers given before the task became gold do not count: none are blind tests yet.
    assert report.figures["gold_items"] == 1


def test_the_dashboard_shows_the_span_figures(marked, client):
    quality_report_run(report_id=quality_report_request(dataset=marked, user=None).pk)
    client.force_login(member(marked, "lead", role="lead"))
    page = client.get(reverse("labeling:quality", args=[marked.pk])).content.decode()
    assert 'id="span-agreement"' in page and "Span F1, exact" in page and "Whole answers equal" in page
    assert "Fleiss" not in page


def test_the_report_says_how_far_the_preannotation_is_kept(marked):
    figures = quality_report_run(report_id=quality_report_request(dataset=marked, user=None).pk).figures
    rows = {row["label"]: row for row in figures["spans"]["preannotation"]["types"]}
    # Each product's brand is in its title and suggested; ann and bob both kept every brand (a tie resolves
    # nothing: sku-3's brand alone is resolved, the answers elsewhere differ).
    assert (rows["BRAND"]["products"], rows["BRAND"]["found"], rows["BRAND"]["hit_rate"]) == (3, 3, 1.0)
    assert figures["spans"]["preannotation"]["answered_tasks"] == 1
    assert (rows["BRAND"]["precision"], rows["BRAND"]["recall"]) == (1.0, 1.0)
    # Bosch's material "steel" is not in its title.
    assert (rows["MATERIAL"]["products"], rows["MATERIAL"]["found"]) == (1, 0)
