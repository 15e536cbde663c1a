"""A product import accounts for every line of its file: created + updated + rejected + skipped = lines read."""

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from datasets.models import Product
from labeling.models import Annotation
from tests.factories import DatasetFactory, UserFactory
from workspace.models import ImportKind, ImportStatus
from workspace.services.imports import import_error_report, import_job_create, import_job_run

pytestmark = pytest.mark.django_db


def run(dataset, content: bytes, name: str = "products.csv", kind: str = ImportKind.PRODUCTS, **options):
    job = import_job_create(
        dataset=dataset, user=UserFactory(), kind=kind, file=ContentFile(content, name=name), options=options
    )
    return import_job_run(job_id=job.pk)


def report(job) -> list[str]:
    return "".join(import_error_report(job=job)).splitlines()


def adds_up(job) -> bool:
    return job.created_count + job.updated_count + job.error_count + job.lines_skipped == job.lines_read


def unclosed_quote_file() -> bytes:
    lines = ["id,title", "1,Lamp", '2,"Desk with an unclosed quote'] + [f"{n},Chair {n}" for n in range(3, 48)]
    return ("\n".join(lines) + "\n").encode()


def test_the_48_line_file_with_an_unclosed_quote_accounts_for_every_line():
    job = run(DatasetFactory(), unclosed_quote_file())
    assert (job.status, job.created_count, job.error_count) == (ImportStatus.SUCCEEDED, 46, 1)
    assert (job.lines_read, job.lines_skipped) == (48, 1)
    assert adds_up(job)


def test_the_rows_after_an_unclosed_quote_land():
    dataset = DatasetFactory()
    run(dataset, unclosed_quote_file())
    assert Product.objects.filter(dataset=dataset).count() == 46
    assert Product.objects.get(dataset=dataset, external_id="47").title == "Chair 47"


def test_the_error_report_gives_the_range_a_broken_record_covered():
    job = run(DatasetFactory(), unclosed_quote_file())
    header, row = report(job)
    assert header == "line,last_line,external_id,reason"
    assert row.startswith("3,48,,unreadable CSV record (lines 3-48)")
    assert str(job.row_errors.get()).startswith("lines 3-48: ")


def test_the_summary_says_how_many_lines_were_read():
    job = run(DatasetFactory(), unclosed_quote_file())
    assert job.message.startswith("48 lines read: 46 created, 0 updated, 1 rows rejected, 1 with no record")


def test_multiline_descriptions_blank_lines_and_updates_add_up():
    dataset = DatasetFactory()
    run(dataset, b"id,title\nA1,Lamp\n")
    data = b'id,title,description\nA1,Lamp,"Warm\nlight"\n\nA2,,\nA3,Desk,"one\ntwo\nthree"\n\n'
    job = run(dataset, data)
    assert (job.created_count, job.updated_count, job.error_count) == (1, 1, 1)
    assert (job.lines_read, job.lines_skipped) == (9, 6)
    assert adds_up(job)


def test_a_50_mb_line_is_one_rejected_row_and_the_next_row_lands():
    dataset = DatasetFactory()
    job = run(dataset, b"id,title\n1," + b"x" * 50_000_000 + b"\n2,Desk\n")
    assert (job.created_count, job.error_count, job.lines_read) == (1, 1, 3)
    assert Product.objects.get(dataset=dataset).external_id == "2"


def test_a_resumed_import_keeps_counting_every_line(settings):
    settings.IMPORT_BATCH_SIZE = 2
    dataset = DatasetFactory()
    job = import_job_create(
        dataset=dataset, user=None, kind=ImportKind.PRODUCTS, file=ContentFile(unclosed_quote_file(), name="p.csv")
    )
    import_job_run(job_id=job.pk)
    # A worker died after the first batch and went silent: the job runs again from its resume point.
    type(job).objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1),
        records_done=2,
        created_count=1,
        error_count=1,
        lines_read=3,
        lines_skipped=1,
    )
    job.row_errors.all().delete()
    Product.objects.exclude(external_id="1").delete()
    job = import_job_run(job_id=job.pk)
    assert (job.created_count, job.error_count, job.lines_read, job.lines_skipped) == (46, 1, 48, 1)


def test_trailing_blank_lines_after_a_full_last_batch_are_counted(settings):
    settings.IMPORT_BATCH_SIZE = 2
    job = run(DatasetFactory(), b"id,title\n1,Lamp\n2,Desk\n\n\n")
    assert (job.lines_read, job.lines_skipped) == (5, 3)


def test_jsonl_lines_add_up():
    job = run(DatasetFactory(), b'{"id": 1, "title": "Lamp"}\n\n{"id": 2, "title": \n', name="feed.jsonl")
    assert (job.created_count, job.error_count, job.lines_read, job.lines_skipped) == (1, 1, 3, 1)


def test_a_json_array_is_counted_in_items():
    job = run(DatasetFactory(), json.dumps([{"id": 1, "title": "Lamp"}, {"id": 2}]).encode(), name="feed.json")
    assert (job.lines_read, job.lines_skipped) == (2, 0)
    assert job.message.startswith("2 items read: ")


TAXONOMY = b"Tools & <Hardware>\nTools & <Hardware> > Drills\nKids <3 Toys\n"


@pytest.mark.parametrize("value", ["Tools & <Hardware>", "Kids <3 Toys", "Tools & <Hardware> > Drills", "Drills"])
def test_a_category_name_holding_html_works_in_a_label_column(value):
    dataset = DatasetFactory()
    taxonomy = run(dataset, TAXONOMY, name="taxonomy.txt", kind=ImportKind.TAXONOMY)
    assert (taxonomy.created_count, taxonomy.error_count) == (3, 0)
    data = f'id,title,category\nA1,Hammer,"{value}"\n'.encode()
    job = run(dataset, data, label_column="category")
    assert (job.label_count, job.error_count) == (1, 0)
    assert Annotation.objects.get(task__product__external_id="A1").label.name == value.split(" > ")[-1]


def test_a_category_name_holding_html_works_in_a_label_studio_import():
    dataset = DatasetFactory()
    run(dataset, TAXONOMY, name="taxonomy.txt", kind=ImportKind.TAXONOMY)
    task = {
        "data": {"id": "A1", "text": "Hammer"},
        "annotations": [
            {
                "completed_by": {"email": "ann@example.com"},
                "result": [{"type": "choices", "value": {"choices": ["Tools & <Hardware>"]}, "from_name": "c"}],
            }
        ],
    }
    job = run(dataset, json.dumps([task]).encode(), name="export.json", kind=ImportKind.LABELSTUDIO)
    assert (job.status, job.label_count) == (ImportStatus.SUCCEEDED, 1)
    assert Annotation.objects.get(task__product__external_id="A1").label.path == "Tools & <Hardware>"


def test_a_category_name_holding_html_works_in_a_prodigy_import():
    dataset = DatasetFactory()
    run(dataset, TAXONOMY, name="taxonomy.txt", kind=ImportKind.TAXONOMY)
    example = {"text": "Claw hammer", "meta": {"id": "B1"}, "answer": "accept", "label": "Tools & <Hardware>"}
    job = run(dataset, (json.dumps(example) + "\n").encode(), name="db.jsonl", kind=ImportKind.PRODIGY)
    assert (job.status, job.label_count) == (ImportStatus.SUCCEEDED, 1)
    assert Annotation.objects.get(task__product__external_id="B1").label.path == "Tools & <Hardware>"


def test_missing_labels_holding_html_are_created_whole():
    dataset = DatasetFactory()
    example = {"text": "Drill", "meta": {"id": "C1"}, "answer": "accept", "label": "Tools & <Hardware> > Drills"}
    run(dataset, (json.dumps(example) + "\n").encode(), name="db.jsonl", kind=ImportKind.PRODIGY, create_labels=True)
    assert Annotation.objects.get(task__product__external_id="C1").label.path == "Tools & <Hardware> > Drills"
