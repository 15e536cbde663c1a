"""A lead reviews two annotators' different spans in headless Chromium: both answers over the same tokens, one
chosen with its digit, mended in the span editor (where digits give types), decided with Enter."""

import json

import pytest

from datasets.models import Role
from labeling.models import Review
from labeling.services import annotation_submit
from tests.conftest import log_in
from tests.factories import member
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id

pytestmark = pytest.mark.browser


def test_a_lead_picks_an_answer_mends_it_and_decides(page, transactional_db):
    dataset = span_dataset(overlap=2)
    brand, model, color = (type_id(dataset, code) for code in ("BRAND", "MODEL", "COLOR"))
    task = span_task(dataset, "sku-1")  # "Sony WH-1000XM4 Wireless Headphones Black"
    ann1, ann2 = member(dataset, "ann1"), member(dataset, "ann2")
    member(dataset, "lead", Role.LEAD)
    annotation_submit(task=task, user=ann1, label=None, value=[[0, 1, brand]])
    annotation_submit(task=task, user=ann2, label=None, value=[[0, 0, brand], [4, 4, color]])

    log_in(page, "lead")
    page.goto(f"/datasets/{dataset.pk}/review/")
    page.wait_for_selector(f"#review-panel[data-ready='true'][data-task-id='{task.pk}']")

    # Both answers, one under the other, over the same words; the words they mark differently are underlined.
    rows = page.locator("#span-answers .span-answer")
    assert rows.count() == 2
    assert "ann1" in rows.nth(0).inner_text() and "ann2" in rows.nth(1).inner_text()
    words = ["Sony", "WH-1000XM4", "Wireless", "Headphones", "Black"]
    for n in (0, 1):
        assert rows.nth(n).locator(".token").all_inner_texts() == words
    first_x = [box["x"] for box in (rows.nth(0).locator(f".token[data-i='{i}']").bounding_box() for i in range(5))]
    second_x = [box["x"] for box in (rows.nth(1).locator(f".token[data-i='{i}']").bounding_box() for i in range(5))]
    assert all(abs(a - b) < 1 for a, b in zip(first_x, second_x, strict=True))  # the same words line up
    assert rows.nth(1).locator(".token.differs").all_inner_texts() == ["Sony", "WH-1000XM4", "Black"]
    assert rows.nth(1).locator(f".token[data-i='4'][data-span-label='{color}']").count() == 1
    # The editor starts from answer 1.
    assert json.loads(page.input_value("#answer-spans")) == [[0, 1, brand]]

    # 2 chooses ann2's answer into the editor.
    page.keyboard.press("2")
    assert page.is_checked("#span-answers input[data-key='2']")
    assert json.loads(page.input_value("#answer-spans")) == [[0, 0, brand], [4, 4, color]]
    assert page.locator("#span-tokens .token[data-i='4']").get_attribute("data-span-label") == str(color)

    # An arrow enters the editor: there 2 gives the type MODEL to the word under the cursor, not answer 2.
    page.keyboard.press("ArrowRight")
    assert page.locator("#span-editor.editing").count() == 1
    page.keyboard.press("2")
    assert json.loads(page.input_value("#answer-spans")) == [[0, 0, brand], [1, 1, model], [4, 4, color]]
    assert page.is_checked("#span-answers input[data-key='2']")
    # Esc gives the digits back to the answers (and 1 would choose answer 1); back in the editor to decide.
    page.keyboard.press("Escape")
    assert page.locator("#span-editor.editing").count() == 0
    page.keyboard.press("Enter")

    page.wait_for_selector("#review-panel[data-ready='true'][data-task-id='']")
    assert page.is_visible("#review-empty")
    decided = page.inner_text("#review-decided")
    assert "has Sony (BRAND), WH-1000XM4 (MODEL), Black (COLOR)" in decided
    review = Review.objects.select_related("value", "reviewer").get(task=task)
    assert (review.label_id, review.reviewer.username) == (None, "lead")
    assert review.value.value == [[0, 0, brand], [1, 1, model], [4, 4, color]]
