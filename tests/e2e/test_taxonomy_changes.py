"""A lead renames and merges labels on the Taxonomy page; the history and the next export follow (issue 15)."""

import io
import json

import pytest
from django.core.management import call_command

from datasets.models import Label, Role
from labeling.models import EventAction, LabelEvent
from labeling.services import annotation_submit
from tests.conftest import log_in
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member


@pytest.mark.browser
def test_a_lead_renames_and_merges_on_the_taxonomy_page(page, transactional_db, tmp_path):
    dataset = DatasetFactory(name="Taxonomy shop")
    shoes = LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    boots, sneakers = (
        LabelFactory(dataset=dataset, parent=shoes, depth=1, name=name, path=f"Shoes > {name}")
        for name in ("Boots", "Sneakers")
    )
    tasks = TaskFactory.create_batch(2, dataset=dataset)
    ann = member(dataset, "ann")
    annotation_submit(task=tasks[0], user=ann, label=boots)
    annotation_submit(task=tasks[1], user=ann, label=sneakers)
    member(dataset, "lead", Role.LEAD)

    log_in(page, "lead")
    page.goto(f"/datasets/{dataset.pk}/")
    page.click("#taxonomy-link")
    assert page.locator('tr[data-path="Shoes > Boots"] td.number').first.inner_text() == "1"

    page.fill("#form-rename input[name=label]", "Shoes")
    page.fill("#form-rename input[name=name]", "Footwear")
    page.click("#form-rename button[type=submit]")
    page.wait_for_selector("#taxonomy-notice")
    assert "Footwear" in page.inner_text("#taxonomy-notice")
    assert page.locator('tr[data-path="Footwear > Sneakers"]').count() == 1

    page.fill("#form-merge input[name=label]", "Footwear > Boots")
    page.fill("#form-merge input[name=target]", "Footwear > Sneakers")
    page.click("#form-merge button[type=submit]")
    page.click("#merge-confirm-button")
    page.wait_for_selector("#taxonomy-notice")
    assert "moved 1 answers" in page.inner_text("#taxonomy-notice")
    assert "merged into Footwear > Sneakers" in page.inner_text('tr[data-path="Footwear > Boots"]')
    assert page.locator("#taxonomy-changes tbody tr").count() == 2

    event = LabelEvent.objects.get(action=EventAction.TAXONOMY)
    assert (event.task_id, event.old_label_id, event.new_label_id) == (tasks[0].pk, boots.pk, sneakers.pk)
    page.goto(f"/datasets/{dataset.pk}/tasks/{tasks[0].pk}/history/")
    assert "Taxonomy change" in page.inner_text("#history")
    assert Label.objects.get(pk=boots.pk).deprecated

    out = tmp_path / "export.jsonl"
    call_command("export_dataset", dataset=str(dataset.pk), format="jsonl", out=str(out), stdout=io.StringIO())
    labels = sorted(json.loads(line)["label"] for line in out.read_text().splitlines())
    assert labels == ["Footwear > Sneakers", "Footwear > Sneakers"]
