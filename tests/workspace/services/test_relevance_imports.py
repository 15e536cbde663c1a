"""Queries and judgments files into a relevance dataset through the real service: queries upserted by id,
judgments graded on the dataset's scale into tasks and imported answers, bad rows reported by line, every line
counted, and importing again changing nothing that did not change."""

import csv
import io

import pytest
from django.core.files.base import ContentFile

from datasets.models import Query
from labeling.kinds.relevance.candidates import pair_key, relevance_candidates
from labeling.models import Annotation, Task
from tests.factories import ProductFactory, UserFactory
from workspace.models import ImportKind, ImportStatus
from workspace.services.datasets import dataset_create
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_write
from workspace.services.imports import import_error_report, import_job_create, import_job_run

pytestmark = pytest.mark.django_db

CATALOG = [("p1", "Apple iPhone 13 128GB"), ("p2", "Silicone case for iPhone 13"), ("p3", "Samsung fridge freezer")]
QUERIES = "query_id,query,locale,frequency\nq1,iphone 13,us,120\nq2,phone case,us,30\nq3,fridge,,\n"
JUDGMENTS = (
    "query_id,product_id,grade\n"
    "q1,p1,E\n"
    "q1,p2,1\n"  # on ESCI, by its value: complement
    "q2,p2,exact\n"
)


def relevance_dataset(grade_scale: str = "esci"):
    lead = UserFactory()
    dataset = dataset_create(user=lead, name=f"Search {lead.pk}", task_type="relevance", grade_scale=grade_scale)
    for external_id, title in CATALOG:
        ProductFactory(dataset=dataset, external_id=external_id, title=title)
    return dataset


def run(dataset, kind: str, content: str, name: str = "file.csv", **options):
    job = import_job_create(
        dataset=dataset, user=None, kind=kind, file=ContentFile(content.encode(), name=name), options=options
    )
    return import_job_run(job_id=job.pk)


def report(job) -> list[list[str]]:
    """The rejected rows: line, last line, id, reason."""
    return list(csv.reader(io.StringIO("".join(import_error_report(job=job)))))[1:]


def counted(job) -> bool:
    """Every line of the file is accounted for: created + updated + rejected + skipped = read."""
    return job.created_count + job.updated_count + job.error_count + job.lines_skipped == job.lines_read


def counts(job) -> tuple:
    return job.status, job.created_count, job.updated_count, job.error_count, job.label_count


def graded(dataset) -> dict[tuple[str, str, str], str]:
    """(query, product, source) -> the grade's code, of every imported answer."""
    rows = Annotation.objects.filter(dataset=dataset, user=None).values_list(
        "task__query__external_id", "task__product__external_id", "source_name", "label__code"
    )
    return {(query, product, source): code for query, product, source, code in rows}


def with_queries(dataset):
    run(dataset, ImportKind.QUERIES, QUERIES)
    return dataset


def test_a_queries_file_creates_its_queries_and_importing_it_again_updates_them():
    dataset = relevance_dataset()
    first = run(dataset, ImportKind.QUERIES, QUERIES)
    assert counts(first) == (ImportStatus.SUCCEEDED, 3, 0, 0, 0) and counted(first)
    assert "4 lines read: 3 queries created, 0 updated, 0 rows rejected" in first.message
    stored = Query.objects.filter(dataset=dataset).order_by("external_id").values_list(
        "external_id", "text", "locale", "weight"
    )
    assert list(stored) == [("q1", "iphone 13", "us", 120.0), ("q2", "phone case", "us", 30.0), ("q3", "fridge", "", 1)]
    again = run(dataset, ImportKind.QUERIES, QUERIES.replace("iphone 13", "iphone 13 pro"))
    assert counts(again) == (ImportStatus.SUCCEEDED, 0, 3, 0, 0)
    assert Query.objects.get(dataset=dataset, external_id="q1").text == "iphone 13 pro"
    assert Query.objects.filter(dataset=dataset).count() == 3


def test_a_jsonl_queries_file_without_ids_gets_ids_from_the_text_and_finds_them_again():
    dataset = relevance_dataset()
    content = '{"search_term": "iphone 13"}\n{"search_term": "fridge", "weight": 2}\n'
    first = run(dataset, ImportKind.QUERIES, content, name="queries.jsonl")
    again = run(dataset, ImportKind.QUERIES, content, name="queries.jsonl")
    assert (first.created_count, again.created_count, again.updated_count) == (2, 0, 2)
    assert first.options["format"] == "jsonl"


def test_bad_query_rows_are_reported_by_line_and_the_others_land():
    dataset = relevance_dataset()
    job = run(dataset, ImportKind.QUERIES, "query_id,query,weight\nq1,iphone,1\nq2,,1\nq1,again,1\nq3,fridge,-2\n")
    assert counts(job) == (ImportStatus.SUCCEEDED, 1, 0, 3, 0) and counted(job)
    assert job.outcome == "succeeded_with_rejections"
    lines, reasons = zip(*((line, reason) for line, _, _, reason in report(job)), strict=True)
    assert lines == ("3", "4", "5")
    assert reasons[0] == "missing query" and reasons[1].startswith("duplicate query_id 'q1'")
    assert reasons[2] == "weight '-2' is not a positive number"
    assert list(Query.objects.filter(dataset=dataset).values_list("external_id", flat=True)) == ["q1"]


def test_judgments_make_a_task_per_query_and_product_and_record_the_grades_as_imported_answers():
    dataset = with_queries(relevance_dataset())
    job = run(dataset, ImportKind.JUDGMENTS, JUDGMENTS)
    assert counts(job) == (ImportStatus.SUCCEEDED, 3, 0, 0, 3) and counted(job)
    assert "4 lines read: 3 judgments created, 0 updated, 0 rows rejected" in job.message
    assert graded(dataset) == {("q1", "p1", "import"): "E", ("q1", "p2", "import"): "C", ("q2", "p2", "import"): "E"}
    task = Task.objects.get(dataset=dataset, query__external_id="q1", product__external_id="p1")
    # The queue's seeded order of the pair, as a candidate run would have made the task.
    assert task.random_key == pair_key(dataset, "q1", "p1")
    assert (task.annotation_count, task.is_complete) == (1, True)


def test_a_judgment_of_a_pooled_pair_grades_its_task_and_makes_no_other():
    dataset = with_queries(relevance_dataset())
    relevance_candidates(dataset=dataset, pool=3)
    pooled = dict(Task.objects.filter(dataset=dataset).values_list("query__external_id", "product__external_id"))
    before = Task.objects.filter(dataset=dataset).count()
    query, product = next(iter(pooled.items()))
    job = run(dataset, ImportKind.JUDGMENTS, f"query_id,product_id,grade\n{query},{product},S\n")
    assert counts(job) == (ImportStatus.SUCCEEDED, 0, 1, 0, 1)
    assert Task.objects.filter(dataset=dataset).count() == before


def test_importing_judgments_again_changes_nothing_and_a_changed_grade_changes_its_answer_in_place():
    dataset = with_queries(relevance_dataset())
    run(dataset, ImportKind.JUDGMENTS, JUDGMENTS)
    answers = set(Annotation.objects.values_list("pk", flat=True))
    again = run(dataset, ImportKind.JUDGMENTS, JUDGMENTS)
    assert counts(again) == (ImportStatus.SUCCEEDED, 0, 3, 0, 0)
    assert set(Annotation.objects.values_list("pk", flat=True)) == answers
    changed = run(dataset, ImportKind.JUDGMENTS, JUDGMENTS.replace("q1,p1,E", "q1,p1,I"))
    assert counts(changed) == (ImportStatus.SUCCEEDED, 0, 3, 0, 1)
    assert set(Annotation.objects.values_list("pk", flat=True)) == answers
    assert graded(dataset)[("q1", "p1", "import")] == "I"
    assert Task.objects.filter(dataset=dataset).count() == 3


def test_each_annotator_is_a_source_of_its_own():
    dataset = with_queries(relevance_dataset())
    content = "query_id,product_id,grade,annotator\nq1,p1,E,alice\nq1,p1,S,bob\nq1,p2,C,\n"
    job = run(dataset, ImportKind.JUDGMENTS, content, label_source="vendor")
    assert counts(job) == (ImportStatus.SUCCEEDED, 2, 1, 0, 3)  # two tasks, the second row of one judged again
    assert graded(dataset) == {("q1", "p1", "alice"): "E", ("q1", "p1", "bob"): "S", ("q1", "p2", "vendor"): "C"}
    assert Task.objects.get(product__external_id="p1").annotation_count == 2


def test_a_judgment_of_a_new_query_creates_it_from_its_text_and_one_without_text_is_refused():
    dataset = relevance_dataset()
    content = (
        "query_id,query,product_id,grade\n"
        "q9,galaxy phone,p1,S\n"
        "q9,,p2,I\n"  # the query is created by the row above, in the same batch
        "q8,,p1,E\n"
    )
    job = run(dataset, ImportKind.JUDGMENTS, content)
    assert counts(job) == (ImportStatus.SUCCEEDED, 2, 0, 1, 2) and counted(job)
    assert list(Query.objects.filter(dataset=dataset).values_list("external_id", "text")) == [("q9", "galaxy phone")]
    assert report(job) == [
        ["4", "4", "p1", "unknown query_id 'q8': import the queries first, or give its text in a query column"]
    ]


def test_rows_naming_an_unknown_product_or_a_grade_off_the_scale_are_rejected_and_leave_nothing_behind():
    dataset = with_queries(relevance_dataset(grade_scale="binary"))
    content = "query_id,query,product_id,grade\nq1,iphone,p1,1\nq4,new query,nope,0\nq1,,p2,E\nq1,,p3,no\n"
    job = run(dataset, ImportKind.JUDGMENTS, content)
    assert counts(job) == (ImportStatus.SUCCEEDED, 2, 0, 2, 2) and counted(job)
    errors = report(job)
    assert errors[0] == ["3", "3", "nope", "unknown product id 'nope'"]
    assert errors[1] == [
        "4", "4", "p2", "unknown grade 'E' on the binary scale; use one of: 1 (relevant, 1), 0 (not relevant, 0)"
    ]
    assert not Query.objects.filter(dataset=dataset, external_id="q4").exists()  # its only row was rejected
    assert graded(dataset) == {("q1", "p1", "import"): "1", ("q1", "p3", "import"): "0"}
    assert Query.objects.get(dataset=dataset, external_id="q1").text == "iphone"  # a landed row's text renames
    assert Query.objects.get(dataset=dataset, external_id="q1").weight == 120.0  # and keeps the rest


def test_the_shopping_queries_layout_is_read_with_its_esci_label_column():
    dataset = relevance_dataset()
    content = (
        "example_id,query,query_id,product_id,product_locale,esci_label,small_version,large_version,split\n"
        "0,iphone 13,1,p1,us,E,1,1,train\n"
        "1,iphone 13,1,p2,us,C,1,1,train\n"
    )
    job = run(dataset, ImportKind.JUDGMENTS, content)
    assert counts(job) == (ImportStatus.SUCCEEDED, 2, 0, 0, 2)
    assert graded(dataset) == {("1", "p1", "import"): "E", ("1", "p2", "import"): "C"}


def test_a_judgments_file_without_a_grade_column_fails_whole_with_the_reason():
    dataset = with_queries(relevance_dataset())
    job = run(dataset, ImportKind.JUDGMENTS, "query_id,product_id\nq1,p1\n")
    assert job.status == ImportStatus.FAILED and "grade" in job.message
    assert not Task.objects.filter(dataset=dataset).exists()


def test_imported_judgments_export_with_their_grade():
    dataset = with_queries(relevance_dataset(grade_scale="graded"))
    run(dataset, ImportKind.JUDGMENTS, "query_id,product_id,grade\nq1,p1,3\nq1,p2,fair\nq3,p3,0\n")
    params = export_params_clean(fmt="csv", policy="final", options={}, dataset=dataset)
    out = io.BytesIO()
    export_write(dataset=dataset, params=params, out=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    exported = {(row["query_id"], row["query"], row["product_id"], row["esci_label"], row["grade"]) for row in rows}
    assert exported == {
        ("q1", "iphone 13", "p1", "3", "3"), ("q1", "iphone 13", "p2", "1", "1"), ("q3", "fridge", "p3", "0", "0")
    }


def test_judgments_into_a_relevance_dataset_lacking_its_grade_labels_fail_with_the_reason():
    dataset = relevance_dataset()
    with_queries(dataset)
    dataset.labels.filter(code="S").delete()
    job = run(dataset, ImportKind.JUDGMENTS, JUDGMENTS)
    assert job.status == ImportStatus.FAILED
    assert job.message == (
        "This dataset lacks the labels of its grades 'substitute' (code S): create them, then import again."
    )
    assert not Task.objects.filter(dataset=dataset).exists()


def test_a_query_made_by_one_batch_is_found_by_the_next(settings):
    settings.IMPORT_BATCH_SIZE = 2
    dataset = relevance_dataset()
    content = "query_id,query,product_id,grade\nq5,desk lamp,p1,E\nq5,,p2,S\nq5,,p3,I\n"
    job = run(dataset, ImportKind.JUDGMENTS, content)
    assert counts(job) == (ImportStatus.SUCCEEDED, 3, 0, 0, 3) and counted(job)
    assert Task.objects.filter(dataset=dataset, query__external_id="q5").count() == 3
