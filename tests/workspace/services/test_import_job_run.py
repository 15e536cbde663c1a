"""Imports through the real service: bad rows reported with reasons, valid rows land, nothing half-written."""

import json
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Label, Product
from labeling.models import Annotation, LabelEvent, Task
from models_app.ml import ModelConfig
from models_app.services.catalog_features import catalog_matrix_current
from tests.factories import DatasetFactory, LabelFactory, UserFactory
from workspace.models import ImportKind, ImportStatus
from workspace.services.imports import import_error_report, import_job_create, import_job_run

pytestmark = pytest.mark.django_db

HEADER = "id,title,brand,price\n"


def run(dataset, content: bytes, name: str = "products.csv", kind: str = ImportKind.PRODUCTS, **options):
    job = import_job_create(
        dataset=dataset, user=UserFactory(), kind=kind, file=ContentFile(content, name=name), options=options
    )
    return import_job_run(job_id=job.pk)


def report(job) -> list[str]:
    return "".join(import_error_report(job=job)).splitlines()[1:]


def test_valid_rows_land_with_a_task_each():
    dataset = DatasetFactory()
    job = run(dataset, (HEADER + "A1,Red shoe,Acme,10.50\nA2,Blue shoe,Acme,\n").encode())
    assert (job.status, job.created_count, job.error_count) == (ImportStatus.SUCCEEDED, 2, 0)
    assert Product.objects.get(external_id="A1").price == pytest.approx(10.5)
    assert Task.objects.filter(dataset=dataset).count() == 2


def test_after_a_products_import_the_worker_builds_the_catalog_matrix(celery_worker):
    dataset = DatasetFactory()
    run(dataset, (HEADER + "A1,Red shoe,Acme,10.50\nA2,Blue boot,Acme,\n").encode())
    config = ModelConfig.from_dict(dataset.model_config)
    deadline = time.monotonic() + 30
    while (matrix := catalog_matrix_current(dataset=dataset, config=config)) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert matrix is not None
    assert matrix.has(Product.objects.filter(dataset=dataset).values_list("pk", flat=True)).all()


def test_unknown_columns_are_kept_in_attributes():
    dataset = DatasetFactory()
    run(dataset, b"id,title,Merchant ID,color\nA1,Red shoe,17,red\n")
    assert Product.objects.get(external_id="A1").attributes == {"Merchant ID": "17", "color": "red"}


def test_attributes_keep_nested_values_and_integers_past_64_bits():
    dataset = DatasetFactory()
    big = 2**70
    line = json.dumps({"id": "J1", "title": "Lamp", "sizes": [1, 2.5], "meta": {"ean": big}, "note": "é\t\"x\""})
    job = run(dataset, (line + "\n").encode(), name="p.jsonl")
    assert (job.created_count, job.error_count) == (1, 0)
    assert Product.objects.get(external_id="J1").attributes == {
        "sizes": [1, 2.5], "meta": {"ean": big}, "note": "é\t\"x\"",
    }


def test_reimport_updates_by_external_id_without_new_tasks():
    dataset = DatasetFactory()
    run(dataset, (HEADER + "A1,Red shoe,Acme,10\n").encode())
    job = run(dataset, (HEADER + "A1,Red running shoe,Acme,12\nA2,Sock,Acme,2\n").encode())
    assert (job.created_count, job.updated_count) == (1, 1)
    assert Product.objects.get(external_id="A1").title == "Red running shoe"
    assert Task.objects.filter(dataset=dataset).count() == 2


def test_missing_title_is_reported_with_its_line_and_the_rest_lands():
    dataset = DatasetFactory()
    job = run(dataset, (HEADER + "A1,Red shoe,Acme,1\nA2,,Acme,1\nA3,Sock,Acme,1\n").encode())
    assert job.created_count == 2
    assert report(job) == ["3,3,A2,missing title"]


def test_duplicate_ids_within_the_file_are_reported():
    dataset = DatasetFactory()
    job = run(dataset, (HEADER + "A1,Red shoe,Acme,1\nA1,Red shoe again,Acme,1\n").encode())
    assert job.created_count == 1
    assert len(report(job)) == 1 and "duplicate" in report(job)[0] and report(job)[0].startswith("3,")


def test_an_oversized_field_is_reported():
    dataset = DatasetFactory()
    job = run(dataset, (HEADER + f"A1,{'x' * 1001},Acme,1\nA2,Fine,Acme,1\n").encode())
    assert job.created_count == 1
    assert "title" in report(job)[0] and report(job)[0].startswith("2,")


def test_a_line_in_a_wrong_encoding_is_reported_alone():
    dataset = DatasetFactory()
    content = HEADER.encode() + "A1,Crème brûlée,Acme,1\n".encode() + b"A2,Cr\xe8me,Acme,1\n" + b"A3,Tea,Acme,1\n"
    job = run(dataset, content)
    assert job.created_count == 2
    assert report(job)[0].startswith("3,") and "encoding" in report(job)[0]
    assert Product.objects.get(external_id="A1").title == "Crème brûlée"


def test_a_cp1252_file_is_decoded():
    dataset = DatasetFactory()
    run(dataset, (HEADER + "A1,Café crème,Acme,1\n").encode("cp1252"))
    assert Product.objects.get(external_id="A1").title == "Café crème"


def test_a_binary_file_is_refused_whole_and_nothing_is_stored():
    dataset = DatasetFactory()
    with pytest.raises(ApplicationError, match="PNG"):
        run(dataset, b"\x89PNG\r\n\x1a\n" + bytes(200), name="products.csv")
    assert not dataset.import_jobs.exists()


def test_an_empty_file_is_refused():
    with pytest.raises(ApplicationError, match="empty"):
        run(DatasetFactory(), b"")


def test_a_file_without_a_title_column_fails_with_a_clear_message():
    job = run(DatasetFactory(), b"id,name_of_thing\nA1,x\n")
    assert job.status == ImportStatus.FAILED
    assert "title" in job.message


def test_pre_labeled_column_imports_labels_with_their_source_and_history():
    dataset = DatasetFactory()
    shoes = LabelFactory(dataset=dataset, name="Shoes", path="Apparel > Shoes")
    job = run(
        dataset, b"id,title,category\nA1,Red shoe,Apparel > Shoes\n", label_column="category", label_source="legacy"
    )
    annotation = Annotation.objects.get(task__product__external_id="A1")
    assert (job.label_count, annotation.label, annotation.source_name, annotation.user) == (1, shoes, "legacy", None)
    assert LabelEvent.objects.filter(task=annotation.task, action="import").exists()
    assert Task.objects.get(product__external_id="A1").is_complete


def test_an_unknown_label_rejects_its_row():
    dataset = DatasetFactory()
    LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    job = run(dataset, b"id,title,category\nA1,Red shoe,Shoes\nA2,Hat,Hats\n", label_column="category")
    assert job.created_count == 1
    assert report(job) == ["3,3,A2,unknown label 'Hats'"]


def test_jsonl_and_json_arrays_import():
    dataset = DatasetFactory()
    run(dataset, b'{"id": "J1", "title": "Lamp"}\n{"id": "J2", "title": "Desk"}\n', name="p.jsonl")
    run(dataset, json.dumps([{"sku": "K1", "name": "Chair", "price": 30}]).encode(), name="p.json")
    assert set(Product.objects.values_list("external_id", flat=True)) == {"J1", "J2", "K1"}


def test_batches_are_atomic_and_a_rerun_resumes_after_the_last_committed_one(settings):
    settings.IMPORT_BATCH_SIZE = 2
    dataset = DatasetFactory()
    rows = "".join(f"A{i},Product {i},Acme,1\n" for i in range(5))
    job = import_job_create(
        dataset=dataset, user=None, kind=ImportKind.PRODUCTS, file=ContentFile((HEADER + rows).encode(), name="p.csv")
    )
    # A worker died after committing the first batch: the job is running with two records done, and silent.
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    silent_since = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    type(job).objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, records_done=2, created_count=2, heartbeat_at=silent_since
    )
    Product.objects.filter(external_id__in=["A2", "A3", "A4"]).delete()
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_count, job.updated_count, job.records_done) == (ImportStatus.SUCCEEDED, 5, 0, 5)
    assert Product.objects.filter(dataset=dataset).count() == 5


def test_a_finished_job_is_not_run_twice():
    dataset = DatasetFactory()
    job = run(dataset, (HEADER + "A1,Red shoe,Acme,1\n").encode())
    again = import_job_run(job_id=job.pk)
    assert (again.created_count, again.updated_count) == (1, 0)


def test_google_taxonomy_creates_parents_and_codes():
    dataset = DatasetFactory()
    content = b"# Google_Product_Taxonomy_Version: 2021-09-21\n1 - Animals\n3237 - Animals > Live Animals\n"
    job = run(dataset, content, name="taxonomy.txt", kind=ImportKind.TAXONOMY)
    assert job.created_count == 2
    live = Label.objects.get(dataset=dataset, path="Animals > Live Animals")
    assert (live.code, live.parent.name, live.depth) == ("3237", "Animals", 1)


def test_taxonomy_reimport_is_idempotent():
    dataset = DatasetFactory()
    content = b"Electronics > Audio > Headphones\nElectronics > Audio > Speakers\n"
    run(dataset, content, name="t.txt", kind=ImportKind.TAXONOMY)
    job = run(dataset, content, name="t.txt", kind=ImportKind.TAXONOMY)
    assert (job.created_count, Label.objects.filter(dataset=dataset).count()) == (0, 4)
