"""An annotator marks attribute spans through the real annotate page in headless Chromium: keys and a mouse drag
give spans that the server stores as the task's value, A accepts the pre-annotations, a refused answer keeps its
marks, and undo reopens a task with its spans to mend."""

import pytest

from labeling.models import Annotation
from tests.conftest import log_in
from tests.e2e.test_annotate_keyboard import wait_for_task
from tests.factories import member
from tests.labeling.kinds.spans.span_set import span_dataset, type_id

pytestmark = pytest.mark.browser


def token(page, i: int):
    return page.locator(f"#span-tokens .token[data-i='{i}']")


def stored(user) -> dict[str, list]:
    return {
        annotation.task.product.external_id: annotation.value.value if annotation.value_id else None
        for annotation in Annotation.objects.filter(user=user).select_related("task__product", "value")
    }


def open_page(page, dataset, username: str) -> str:
    member(dataset, username)
    log_in(page, username)
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    return wait_for_task(page)


def current_sku(page) -> str:
    return page.inner_text("#product-external-id").strip()


def test_keys_a_drag_and_accept_all_give_the_stored_spans(page, transactional_db):
    dataset = span_dataset()
    brand, model, color, capacity = (type_id(dataset, code) for code in ("BRAND", "MODEL", "COLOR", "CAPACITY"))
    task = open_page(page, dataset, "marker")
    done = {}
    for _ in range(3):
        sku = current_sku(page)
        if sku == "sku-1":  # "Sony WH-1000XM4 Wireless Headphones Black": Sony by keys, the model by a drag
            page.keyboard.press("1")
            box = token(page, 1).bounding_box()
            page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            end = token(page, 1).bounding_box()
            page.mouse.move(end["x"] + end["width"] - 2, end["y"] + end["height"] / 2)
            page.mouse.up()
            page.keyboard.press("2")
            done[sku] = [[0, 0, brand], [1, 1, model]]
        elif sku == "sku-2":  # "Apple iPhone 13 128GB Blue": its suggestions (Apple, 128 GB, Blue) accepted whole
            page.keyboard.press("a")
            done[sku] = [[0, 0, brand], [3, 4, capacity], [5, 5, color]]
        else:  # "Bosch Serie 4 Dishwasher Silver": nothing marked is an answer too
            done[sku] = []
        page.keyboard.press("Enter")
        task = wait_for_task(page, not_task=task)

    assert page.is_visible("#queue-empty")
    assert stored(dataset.memberships.get(user__username="marker").user) == done


def test_an_overlap_is_refused_in_the_page_and_undo_reopens_the_spans_to_mend(page, transactional_db):
    dataset = span_dataset()
    brand, model = type_id(dataset, "BRAND"), type_id(dataset, "MODEL")
    first = open_page(page, dataset, "mender")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("1")  # the first two words are BRAND
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("2")  # the cursor word is in that span: refused
    assert "already" in page.inner_text("#span-message")
    page.keyboard.press("Enter")
    second = wait_for_task(page, not_task=first)
    user = dataset.memberships.get(user__username="mender").user
    assert list(stored(user).values()) == [[[0, 1, brand]]]

    page.keyboard.press("u")
    assert wait_for_task(page, not_task=second) == first
    assert token(page, 0).get_attribute("data-span-label") == str(brand)  # the undone spans, back to mend
    page.keyboard.press("Backspace")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    wait_for_task(page, not_task=first)
    assert [[0, 0, model]] in stored(user).values()
