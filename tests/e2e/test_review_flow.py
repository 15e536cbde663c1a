"""A lead settles a disagreement from the keyboard; the decision is the product's label in the next export."""

import io
import json

import pytest

from datasets.models import Role
from labeling.models import EventAction, LabelEvent
from labeling.services import annotation_submit
from tests.conftest import log_in
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory, member
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_write


@pytest.mark.browser
def test_a_lead_reviews_from_the_keyboard_and_the_export_carries_the_decision(page, transactional_db):
    dataset = DatasetFactory(name="Review shop", overlap=2)
    shop = LabelFactory(dataset=dataset, name="Shop", path="Shop")
    labels = {
        name: LabelFactory(dataset=dataset, parent=shop, depth=1, name=name, path=f"Shop > {name}")
        for name in ("Audio", "Phones")
    }
    split, flagged = (
        TaskFactory(dataset=dataset, product=ProductFactory(dataset=dataset, title=title))
        for title in ("Acme earphone case", "Blurry photo, no title")
    )
    ann1, ann2 = member(dataset, "ann1"), member(dataset, "ann2")
    member(dataset, "lead", Role.LEAD)
    annotation_submit(task=split, user=ann1, label=labels["Audio"])
    annotation_submit(task=split, user=ann2, label=labels["Phones"])
    annotation_submit(task=flagged, user=ann1, label=None, flagged=True)

    log_in(page, "lead")
    page.goto(f"/datasets/{dataset.pk}/")
    page.click("#review-link:has-text('Review (2)')")
    page.wait_for_selector(f"#review-panel[data-ready='true'][data-task-id='{split.pk}']")
    answers = page.inner_text("#answers")
    assert "ann1" in answers and "ann2" in answers
    assert "Shop > Audio" in answers and "Shop > Phones" in answers

    # Equal votes are listed by path: Audio on 1, Phones on 2.
    page.keyboard.press("2")
    assert page.is_checked(f"#review-options input[value='{labels['Phones'].pk}']")
    page.keyboard.press("g")
    assert page.is_checked("#review-gold")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#review-panel[data-ready='true'][data-task-id='{flagged.pk}']")
    assert page.inner_text("#review-remaining") == "1"
    assert "Shop > Phones" in page.inner_text("#review-decided")

    event = LabelEvent.objects.get(task=split, action=EventAction.REVIEW)
    assert (event.new_label_id, event.user.username) == (labels["Phones"].pk, "lead")
    out = io.BytesIO()
    export_write(dataset=dataset, params=export_params_clean(fmt="jsonl", policy="final"), out=out)
    rows = {row["external_id"]: row for row in map(json.loads, out.getvalue().splitlines())}
    reviewed = rows[split.product.external_id]
    assert (reviewed["label"], reviewed["gold"]) == ("Shop > Phones", True)
    assert flagged.product.external_id not in rows  # still waiting: a flag alone is no label


@pytest.mark.browser
def test_a_label_found_by_search_becomes_the_decision(page, transactional_db):
    dataset = DatasetFactory(name="Search shop", overlap=2)
    labels = {name: LabelFactory(dataset=dataset, name=name, path=name) for name in ("Audio", "Phones", "Shoes")}
    task = TaskFactory(dataset=dataset)
    annotation_submit(task=task, user=member(dataset, "ann1"), label=labels["Audio"])
    annotation_submit(task=task, user=member(dataset, "ann2"), label=labels["Phones"])
    member(dataset, "lead", Role.LEAD)

    log_in(page, "lead")
    page.goto(f"/datasets/{dataset.pk}/review/")
    page.wait_for_selector(f"#review-panel[data-ready='true'][data-task-id='{task.pk}']")
    page.keyboard.press("/")
    page.keyboard.type("sho")
    page.wait_for_selector(f"#label-option-{labels['Shoes'].pk}.highlighted")
    page.keyboard.press("Enter")
    assert page.is_checked(f"#review-options input[value='{labels['Shoes'].pk}']")
    page.keyboard.press("n")
    page.keyboard.type("sneakers, per the photo")
    page.keyboard.press("Enter")
    page.wait_for_selector("#review-empty")

    event = LabelEvent.objects.get(task=task, action=EventAction.REVIEW)
    assert event.new_label_id == labels["Shoes"].pk
    assert task.review.note == "sneakers, per the photo"
