"""A matching dataset in headless Chromium, role by role: an annotator labels pairs and is kept out of the lead's
pages, a lead settles a disagreement side by side, an admin reads the two-class agreement of the quality page."""

import re

import pytest

from datasets.models import Role
from labeling.models import Annotation, EventAction, LabelEvent, Review
from labeling.quality.report import quality_report_request, quality_report_run
from labeling.services import annotation_submit
from tests.conftest import log_in
from tests.e2e.test_annotate_keyboard import wait_for_task
from tests.e2e.test_matching_keyboard import side_by_side
from tests.factories import MatchingDatasetFactory, ProductFactory, UserFactory, member, pair_task


def pairs_of(dataset, count: int) -> list:
    return [
        pair_task(
            dataset,
            ProductFactory(dataset=dataset, title=f"Acme phone {n} 16GB black"),
            ProductFactory(dataset=dataset, title=f"ACME phone {n} 16 GB blue"),
        )
        for n in range(count)
    ]


def labels_of(dataset) -> dict:
    return {label.name: label for label in dataset.labels.all()}


@pytest.mark.browser
def test_an_annotator_labels_pairs_and_cannot_open_the_leads_pages(page, transactional_db):
    dataset = MatchingDatasetFactory(name="Pair shop", overlap=1)
    tasks = pairs_of(dataset, 3)
    annotator = member(dataset, "ann")
    labels = labels_of(dataset)

    log_in(page, "ann")
    page.goto(f"/datasets/{dataset.pk}/")
    assert page.locator("#review-link").count() == 0
    page.click("text=Start labeling")
    first = wait_for_task(page)
    assert side_by_side(page)
    page.keyboard.press("1")
    second = wait_for_task(page, not_task=first)
    page.keyboard.press("2")
    wait_for_task(page, not_task=second)
    assert page.inner_text("#count-submitted").strip() == "2"
    answers = {a.task_id: a.label for a in Annotation.objects.filter(user=annotator)}
    assert answers == {int(first): labels["match"], int(second): labels["no match"]}

    for path in (
        f"/datasets/{dataset.pk}/review/",
        f"/datasets/{dataset.pk}/exports/",
        f"/datasets/{dataset.pk}/quality/",
        f"/datasets/{dataset.pk}/tasks/{tasks[0].pk}/history/",
    ):
        assert page.goto(path).status == 403, path


@pytest.mark.browser
def test_a_lead_decides_a_disagreement_on_a_pair_side_by_side(page, transactional_db):
    dataset = MatchingDatasetFactory(name="Pair shop", overlap=2)
    disputed, agreed = pairs_of(dataset, 2)
    labels = labels_of(dataset)
    ann1, ann2 = member(dataset, "ann1"), member(dataset, "ann2")
    member(dataset, "lead", Role.LEAD)
    annotation_submit(task=disputed, user=ann1, label=labels["match"])
    annotation_submit(task=disputed, user=ann2, label=labels["no match"])
    annotation_submit(task=agreed, user=ann1, label=labels["no match"])
    annotation_submit(task=agreed, user=ann2, label=labels["no match"])

    log_in(page, "lead")
    page.goto(f"/datasets/{dataset.pk}/")
    page.click("#review-link:has-text('Review (1)')")
    page.wait_for_selector(f"#review-panel[data-ready='true'][data-task-id='{disputed.pk}']")
    assert side_by_side(page)
    answers = page.inner_text("#answers")
    assert "ann1" in answers and "ann2" in answers and "no match" in answers
    page.keyboard.press("1")
    assert page.is_checked(f"#review-options input[value='{labels['match'].pk}']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#review-empty")
    decided = page.inner_text("#review-decided")
    assert "Acme phone 0 16GB black ↔ ACME phone 0 16 GB blue" in decided and "match" in decided

    review = Review.objects.get(task=disputed)
    assert (review.label, review.reviewer.username) == (labels["match"], "lead")
    assert LabelEvent.objects.filter(task=disputed, action=EventAction.REVIEW, new_label=labels["match"]).exists()

    page.goto(f"/datasets/{dataset.pk}/tasks/{disputed.pk}/history/")
    assert side_by_side(page)
    history = page.inner_text("#history")
    assert "→ match" in history and "→ no match" in history
    assert "decided by lead" in page.inner_text("#review")


@pytest.mark.browser
def test_an_admin_reads_the_two_class_agreement_of_a_matching_dataset(page, transactional_db):
    dataset = MatchingDatasetFactory(name="Pair shop", overlap=3)
    labels = labels_of(dataset)
    tasks = pairs_of(dataset, 10)  # Cohen's kappa needs ten pairs two annotators both answered
    users = [member(dataset, f"ann{n}") for n in (1, 2, 3)]
    for n, task in enumerate(tasks):
        for user in users:
            differs = user.username == "ann3" and n < 3
            annotation_submit(task=task, user=user, label=labels["no match" if differs or n >= 6 else "match"])
    UserFactory(username="root", is_superuser=True, is_staff=True)
    # Computed here, as the worker would: a report sent to the broker could be taken by another test's worker.
    report = quality_report_run(report_id=quality_report_request(dataset=dataset, user=None, enqueue=False).pk)
    figures = report.figures

    log_in(page, "root")
    page.goto(f"/datasets/{dataset.pk}/quality/")
    summary = page.inner_text("#summary")
    assert re.search(r"Pairs\s+10\b", summary) and re.search(r"Pairs with 2\+ answers\s+10\b", summary)
    assert f"{figures['percent_agreement'] * 100:.1f}%" in summary
    assert f"{figures['fleiss']['kappa']:.3f}" in summary and "10 pairs with 3 answers each" in summary
    assert f"{figures['alpha']:.3f}" in summary
    kappas = page.inner_text("#pairs")
    assert "Pairs both answered" in kappas and "ann3" in kappas
    assert page.locator("#confusion th[scope='col']").all_inner_texts() == ["answer ↓ other →", "match", "no match"]
    assert {row["name"] for row in figures["annotators"]} <= set(page.inner_text("#annotators").split())
