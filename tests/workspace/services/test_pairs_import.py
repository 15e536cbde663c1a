"""Pairs files into a matching dataset through the real service: products upserted by id, one task per pair
whatever its order, the file's labels as imported answers, bad rows reported by line, every line counted."""

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from datasets.models import Product
from labeling.models import Annotation, EventAction, LabelEvent, LabelSource, Task
from tests.factories import MatchingDatasetFactory, UserFactory
from workspace.models import ImportKind, ImportStatus
from workspace.services.imports import import_error_report, import_job_create, import_job_run

pytestmark = pytest.mark.django_db

HEADER = "left_id,left_title,left_brand,left_price,right_id,right_title,right_brand,right_price,split,label\n"
ROWS = (
    "a1,Lumen Desk Lamp LX-200,Lumen,39.90,b1,LUMEN LX200 desk lamp black,Lumen,41.00,train,1\n"
    "a1,Lumen Desk Lamp LX-200,Lumen,39.90,b2,Lumen LX-300 floor lamp,Lumen,89.00,train,0\n"
    "a3,Kestrel Edge 128GB,Kestrel,399,b3,Kestrel Edge 256 GB,Kestrel,459,test,\n"
)


def run(dataset, content: bytes, name: str = "pairs.csv", kind: str = ImportKind.PAIRS, **options):
    job = import_job_create(
        dataset=dataset, user=UserFactory(), kind=kind, file=ContentFile(content, name=name), options=options
    )
    return import_job_run(job_id=job.pk)


def report(job) -> list[str]:
    return "".join(import_error_report(job=job)).splitlines()[1:]


def sides(task: Task) -> dict[str, str]:
    left, right = task.sides()
    return {"left": left.external_id, "right": right.external_id}


def with_product(external_id: str) -> Q:
    """Pair tasks one of whose two products has this external id, on either side."""
    return Q(product__external_id=external_id) | Q(other_product__external_id=external_id)


def counted(job) -> bool:
    """Every line of the file is accounted for: created + updated + rejected + skipped = read."""
    return job.created_count + job.updated_count + job.error_count + job.lines_skipped == job.lines_read


def test_a_csv_of_pairs_makes_products_a_task_per_pair_and_imported_answers():
    dataset = MatchingDatasetFactory()
    job = run(dataset, (HEADER + ROWS).encode())
    assert (job.status, job.created_count, job.updated_count, job.error_count, job.label_count) == (
        ImportStatus.SUCCEEDED, 3, 0, 0, 2,
    )
    assert counted(job) and job.lines_read == 4
    assert "3 pairs created" in job.message
    assert Product.objects.filter(dataset=dataset).count() == 5  # a1 stands in two pairs: one product
    task = Task.objects.get(with_product("b1"), dataset=dataset)
    assert sides(task) == {"left": "a1", "right": "b1"}
    assert task.attributes == {"split": "train"}
    answers = Annotation.objects.filter(dataset=dataset, user=None)
    assert {(a.task_id, a.label.name, a.source, a.source_name) for a in answers} == {
        (task.pk, "match", LabelSource.IMPORT, "import"),
        (Task.objects.get(with_product("b2")).pk, "no match", LabelSource.IMPORT, "import"),
    }
    assert not Task.objects.filter(dataset=dataset, other_product__isnull=True).exists()  # pairs only


def test_a_side_without_an_id_is_one_product_wherever_it_stands():
    dataset = MatchingDatasetFactory()
    content = "left_title,left_brand,right_title,label\nDesk Lamp,Lumen,Desk lamp LX,1\nDesk Lamp,Lumen,Floor lamp,0\n"
    run(dataset, content.encode())
    lamp = Product.objects.get(dataset=dataset, title="Desk Lamp")
    assert lamp.external_id.startswith("h:")
    assert Task.objects.filter(Q(product=lamp) | Q(other_product=lamp)).count() == 2


def test_the_first_description_of_a_product_in_a_batch_wins():
    dataset = MatchingDatasetFactory()
    content = "left_id,left_title,right_id,right_title\na1,First words,b1,Other\nb2,Third,a1,Second words\n"
    run(dataset, content.encode())
    assert Product.objects.get(dataset=dataset, external_id="a1").title == "First words"


def test_a_jsonl_file_imports_with_its_labels_spelled_as_words():
    dataset = MatchingDatasetFactory()
    lines = [
        {"left_id": "a1", "left_title": "Lamp", "right_id": "b1", "right_title": "Lamp LX", "label": "match"},
        {"left_id": "a2", "left_title": "Desk", "right_id": "b2", "right_title": "Chair", "label": "no-match"},
    ]
    job = run(dataset, "".join(json.dumps(line) + "\n" for line in lines).encode(), name="pairs.jsonl")
    assert (job.created_count, job.label_count, job.error_count) == (2, 2, 0)
    assert sorted(Annotation.objects.filter(dataset=dataset).values_list("label__code", flat=True)) == ["0", "1"]


def test_a_refs_only_file_pairs_products_already_imported_and_rejects_unknown_ids_by_line():
    dataset = MatchingDatasetFactory()
    products = run(dataset, b"id,title\nP1,Lamp\nP2,Lamp LX\nP3,Chair\n", name="products.csv", kind=ImportKind.PRODUCTS)
    assert (products.status, products.created_count) == (ImportStatus.SUCCEEDED, 3)
    assert not Task.objects.filter(dataset=dataset).exists()  # a matching dataset's products wait for pairs

    job = run(dataset, b"left_id,right_id,label\nP1,P2,1\nP1,P9,0\nP3,P2,0\n")
    assert (job.created_count, job.error_count, job.label_count) == (2, 1, 2)
    assert counted(job)
    assert report(job) == ["3,3,P1 / P9,unknown product id 'P9'"]
    assert Product.objects.filter(dataset=dataset).count() == 3


def test_bad_rows_are_reported_by_line_and_the_rest_lands():
    dataset = MatchingDatasetFactory()
    content = (
        HEADER
        + "a1,Lamp,,,b1,Lamp LX,,,train,1\n"
        + "a2,,Acme,,b2,Chair,,,train,0\n"
        + "a3,Desk,,,b3,Desk,,,train,maybe\n"
        + "b1,Lamp LX,,,a1,Lamp,,,test,1\n"
    )
    job = run(dataset, content.encode())
    assert (job.created_count, job.error_count) == (1, 3)
    assert counted(job)
    assert [line.split(",")[0] for line in report(job)] == ["3", "4", "5"]
    assert "left: missing title" in report(job)[0]
    assert "invalid label 'maybe'" in report(job)[1]
    assert "duplicate pair (first seen on line 2)" in report(job)[2]


def test_importing_again_keeps_the_tasks_and_a_changed_label_is_a_change_in_the_history():
    dataset = MatchingDatasetFactory()
    first = run(dataset, (HEADER + ROWS).encode())
    tasks = set(Task.objects.filter(dataset=dataset).values_list("pk", flat=True))
    changed = ROWS.replace("floor lamp,Lumen,89.00,train,0", "floor lamp,Lumen,89.00,train,1")

    again = run(dataset, (HEADER + changed).encode())

    assert (first.created_count, again.created_count, again.updated_count, again.label_count) == (3, 0, 3, 1)
    assert counted(again)
    assert set(Task.objects.filter(dataset=dataset).values_list("pk", flat=True)) == tasks
    assert Annotation.objects.filter(dataset=dataset).count() == 2
    change = LabelEvent.objects.get(dataset=dataset, action=EventAction.CHANGE)
    assert (change.old_label.name, change.new_label.name, change.source_name) == ("no match", "match", "import")


def test_a_pair_given_again_in_the_other_order_is_the_same_task():
    dataset = MatchingDatasetFactory()
    run(dataset, b"left_id,left_title,right_id,right_title\na1,Lamp,b1,Lamp LX\n")
    job = run(dataset, b"left_id,left_title,right_id,right_title\nb1,Lamp LX,a1,Lamp\n")
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Task.objects.filter(dataset=dataset).count() == 1


def test_labels_come_from_the_named_column_and_source():
    dataset = MatchingDatasetFactory()
    content = b"left_id,left_title,right_id,right_title,is_same\na1,Lamp,b1,Lamp LX,yes\n"
    run(dataset, content, label_column="is_same", label_source="wdc-gold")
    answer = Annotation.objects.get(dataset=dataset)
    assert (answer.label.name, answer.source_name) == ("match", "wdc-gold")


def test_batches_commit_alone_and_a_rerun_resumes_after_the_last_committed_one(settings):
    settings.IMPORT_BATCH_SIZE = 2
    dataset = MatchingDatasetFactory()
    rows = "".join(f"a{i},Lamp {i},b{i},Lamp LX {i}\n" for i in range(5))
    content = ("left_id,left_title,right_id,right_title\n" + rows).encode()
    job = import_job_create(dataset=dataset, user=None, kind=ImportKind.PAIRS, file=ContentFile(content, name="p.csv"))
    import_job_run(job_id=job.pk)
    # A worker died after committing the first batch: the job is running with two records done, and silent.
    silent_since = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    type(job).objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, records_done=2, created_count=2, heartbeat_at=silent_since
    )
    Task.objects.filter(with_product("a2") | with_product("a3") | with_product("a4"), dataset=dataset).delete()

    job = import_job_run(job_id=job.pk)

    assert (job.status, job.created_count, job.updated_count, job.records_done) == (ImportStatus.SUCCEEDED, 5, 0, 5)
    assert counted(job)
    assert Task.objects.filter(dataset=dataset).count() == 5


def test_a_file_without_sides_fails_with_a_clear_message():
    dataset = MatchingDatasetFactory()
    job = run(dataset, b"id,title\nP1,Lamp\n")
    assert job.status == ImportStatus.FAILED
    assert "No left_title or left_id column" in job.message
