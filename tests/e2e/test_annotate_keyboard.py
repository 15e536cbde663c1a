"""An annotator labels three products with the keyboard in headless Chromium, undoes one, and sees the counts."""

import pytest

from labeling.models import Annotation, EventAction, LabelEvent
from tests.conftest import log_in
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member


def wait_for_task(page, *, not_task: str | None = None) -> str:
    """Wait until a fresh task panel is ready for keys; return its task id."""
    if not_task is None:
        page.wait_for_selector("#task-panel[data-ready='true']")
    else:
        page.wait_for_selector(f"#task-panel[data-ready='true']:not([data-task-id='{not_task}'])")
    return page.get_attribute("#task-panel", "data-task-id")


@pytest.mark.browser
def test_label_three_products_with_the_keyboard_and_undo_one(page, transactional_db):
    dataset = DatasetFactory(name="Keyboard shop")
    # More than nine leaves: keys 1-9 are recent labels (a smaller set has every label on a key).
    for name in ("Audio", "Phones", "Shoes", "Bags", "Books", "Games", "Lamps", "Rugs", "Toys", "Watches"):
        LabelFactory(dataset=dataset, name=name, path=f"Electronics > {name}")
    TaskFactory.create_batch(5, dataset=dataset)
    annotator = member(dataset, "ann")

    log_in(page, "ann")
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    first = wait_for_task(page)

    page.keyboard.press("/")
    page.keyboard.type("phon")
    page.wait_for_selector(".label-option.highlighted[data-label-path='Electronics > Phones']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#selected-label[data-label-id]:not(.none)")
    page.keyboard.press("Enter")
    second = wait_for_task(page, not_task=first)

    page.keyboard.press("1")
    page.keyboard.press("Enter")
    third = wait_for_task(page, not_task=second)

    page.keyboard.press("1")
    page.keyboard.press("1")
    fourth = wait_for_task(page, not_task=third)
    assert page.inner_text("#count-submitted").strip() == "3"

    page.keyboard.press("u")
    assert wait_for_task(page, not_task=fourth) == third
    assert page.inner_text("#count-submitted").strip() == "2"

    labels = set(Annotation.objects.filter(user=annotator).values_list("label__name", flat=True))
    assert labels == {"Phones"}
    assert Annotation.objects.filter(user=annotator).count() == 2
    assert LabelEvent.objects.filter(user=annotator, action=EventAction.UNDO).count() == 1
    assert all(a.active_seconds is not None for a in Annotation.objects.filter(user=annotator))
