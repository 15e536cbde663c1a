"""A lead asks for a snapshot on the Exports page, watches it build in the worker and downloads it."""

import hashlib
import json

import pytest

from labeling.models import Annotation, Task
from tests.conftest import log_in
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member
from workspace.models import Export


@pytest.mark.browser
@pytest.mark.worker
def test_a_lead_exports_and_downloads_the_stored_bytes(page, celery_worker, tmp_path):
    dataset = DatasetFactory(name="Export shop")
    for name in ("Audio", "Shoes"):
        label = LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}")
        for task in TaskFactory.create_batch(4, dataset=dataset):
            Annotation.objects.create(dataset=dataset, task=task, label=label, source="import", source_name="seed")
    Task.objects.filter(dataset=dataset).update(annotation_count=1, is_complete=True)
    member(dataset, "lead", role="lead")

    log_in(page, "lead")
    page.goto(f"/datasets/{dataset.pk}/")
    page.click("text=Exports")
    page.select_option("#id_format", "jsonl")
    page.fill("#id_split", "0.5,0.25,0.25")
    page.fill("#id_seed", "4")
    page.click("button:has-text('Export')")
    # The table polls while the worker builds the snapshot, then offers the download.
    export = Export.objects.get(dataset=dataset)
    page.wait_for_selector(f"#export-{export.pk} [data-status='succeeded']", timeout=60_000)
    # The banner that said "queued" follows the export to the end.
    assert f"Export {export.pk} is ready: 8 rows." in page.inner_text("#export-banner")
    assert "queued" not in page.inner_text("body").lower()
    with page.expect_download() as download:
        page.click(f"#export-{export.pk} >> text=Download")
    path = tmp_path / "export.jsonl"
    download.value.save_as(path)

    export.refresh_from_db()
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == export.sha256
    rows = [json.loads(line) for line in data.splitlines()]
    assert len(rows) == 8 and {row["split"] for row in rows} == {"train", "dev", "test"}
    assert export.params["seed"] == 4 and export.created_by.username == "lead"
