"""A labeled products import: labels land as imported answers with the products, set-based (the same few statements
per batch whatever its size), and every rejected row is still reported with its line."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.models import Annotation, EventAction, LabelEvent, Task
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, UserFactory
from tests.workspace.services.test_import_job_run import report, run

pytestmark = pytest.mark.django_db


def _labeled(count: int, start: int = 0, label: str = "Shoes") -> bytes:
    rows = "".join(f"P{i},Product {i},{label}\n" for i in range(start, start + count))
    return ("id,title,category\n" + rows).encode()


def _queries(dataset, content: bytes) -> int:
    with CaptureQueriesContext(connection) as queries:
        job = run(dataset, content, label_column="category")
    assert job.label_count == content.count(b"\n") - 1
    return len(queries)


def test_a_labeled_batch_costs_the_same_queries_for_200_rows_as_for_5(postgres, settings):
    settings.IMPORT_BATCH_SIZE = 10_000
    small, large = DatasetFactory(), DatasetFactory()
    for dataset in (small, large):
        LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    assert _queries(large, _labeled(200)) == _queries(small, _labeled(5))
    assert Annotation.objects.filter(dataset=large, source_name="import", user=None).count() == 200
    assert LabelEvent.objects.filter(dataset=large, action=EventAction.IMPORT).count() == 200
    assert Task.objects.filter(dataset=large, annotation_count=1, is_complete=True).count() == 200


def test_importing_changed_labels_again_changes_the_answers_in_place_with_their_history():
    dataset = DatasetFactory()
    shoes = LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    hats = LabelFactory(dataset=dataset, name="Hats", path="Hats")
    run(dataset, _labeled(2), label_column="category")
    again = run(dataset, _labeled(1, label="Hats") + b"P1,Product 1,Shoes\n", label_column="category")
    assert (again.created_count, again.updated_count, again.label_count) == (0, 2, 1)
    assert dict(Annotation.objects.filter(dataset=dataset).values_list("task__product__external_id", "label")) == {
        "P0": hats.pk, "P1": shoes.pk,
    }
    change = LabelEvent.objects.get(dataset=dataset, action=EventAction.CHANGE)
    assert (change.task.product.external_id, change.old_label, change.new_label) == ("P0", shoes, hats)
    assert set(Task.objects.filter(dataset=dataset).values_list("annotation_count", flat=True)) == {1}


def test_an_imported_label_that_disagrees_with_an_annotator_puts_the_task_up_for_review():
    dataset = DatasetFactory()
    LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    hats = LabelFactory(dataset=dataset, name="Hats", path="Hats")
    run(dataset, b"id,title\nP0,Product 0\n")
    task = Task.objects.get(dataset=dataset)
    annotation_submit(task=task, user=UserFactory(), label=hats)
    run(dataset, _labeled(1), label_column="category")
    task.refresh_from_db()
    assert (task.annotation_count, task.needs_review) == (2, True)


def test_rejected_rows_of_a_labeled_import_keep_their_lines_and_reasons(settings):
    settings.IMPORT_BATCH_SIZE = 3
    dataset = DatasetFactory()
    LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    content = _labeled(4) + b"P9,,Shoes\nP10,Hat,Hats\n" + _labeled(2, start=20)[len(b"id,title,category\n"):]
    job = run(dataset, content, label_column="category")
    assert (job.created_count, job.label_count, job.error_count) == (6, 6, 2)
    assert report(job) == ["6,6,P9,missing title", "7,7,P10,unknown label 'Hats'"]
