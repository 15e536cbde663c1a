"""An annotator matches pairs with one key press each in headless Chromium, undoes one, and a lead settles the
unsure pair with the mouse on the same side-by-side view."""

import pytest

from datasets.models import Role
from labeling.models import Annotation, EventAction, LabelEvent, Review
from tests.conftest import log_in
from tests.e2e.test_annotate_keyboard import wait_for_task
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task

# Each pair differs on both sides, whichever the queue serves third.
TITLES = [
    ("Acme phone 16GB black", "ACME phone 16 GB blue"),
    ("Acme phone 16GB", "Acme phone 32GB"),
    ("Sony WH-1000XM4", "Sony WH-1000XM5"),
    ("Bose QC45 black", "Bose QC45 headphones"),
]


def side_by_side(page) -> bool:
    left, right = page.locator("#left-title").bounding_box(), page.locator("#right-title").bounding_box()
    return abs(left["y"] - right["y"]) < 2 and left["x"] + left["width"] <= right["x"]


@pytest.mark.browser
def test_one_key_answers_a_pair_and_a_lead_decides_the_unsure_one_with_the_mouse(page, transactional_db):
    dataset = MatchingDatasetFactory(name="Pair shop", overlap=1)
    for left, right in TITLES:
        pair_task(dataset, ProductFactory(dataset=dataset, title=left), ProductFactory(dataset=dataset, title=right))
    annotator = member(dataset, "ann")
    member(dataset, "lead", Role.LEAD)
    labels = {label.code: label for label in dataset.labels.all()}

    log_in(page, "ann")
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    first = wait_for_task(page)
    assert side_by_side(page)

    page.keyboard.press("1")
    second = wait_for_task(page, not_task=first)
    page.keyboard.press("2")
    third = wait_for_task(page, not_task=second)
    page.keyboard.press("3")
    fourth = wait_for_task(page, not_task=third)
    assert page.inner_text("#count-submitted").strip() == "3"

    page.keyboard.press("u")
    assert wait_for_task(page, not_task=fourth) == third
    assert page.inner_text("#count-submitted").strip() == "2"
    page.click("#answer-3")  # unsure, with the mouse this time
    wait_for_task(page, not_task=third)

    answers = {a.task_id: a for a in Annotation.objects.filter(user=annotator)}
    assert answers[int(first)].label == labels["1"]
    assert answers[int(second)].label == labels["0"]
    assert (answers[int(third)].label, answers[int(third)].flagged) == (None, True)
    assert LabelEvent.objects.filter(user=annotator, action=EventAction.UNDO).count() == 1
    assert all(a.active_seconds is not None for a in answers.values())

    page.context.clear_cookies()
    log_in(page, "lead")
    page.goto(f"/datasets/{dataset.pk}/review/")
    page.wait_for_selector(f"#review-panel[data-ready='true'][data-task-id='{third}']")
    assert side_by_side(page)
    assert page.locator("#left-title mark.diff").count() >= 1 and page.locator("#right-title mark.diff").count() >= 1
    page.click(f"#review-options label:has(input[value='{labels['0'].pk}'])")
    page.click("#review-submit")
    page.wait_for_selector("#review-empty")

    review = Review.objects.get(task_id=int(third))
    assert (review.label, review.reviewer.username) == (labels["0"], "lead")
