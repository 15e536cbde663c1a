"""Label Studio and Prodigy exports through the real import service: labels come along, whole or not at all."""

import io
import json

import pytest
from django.core.files.base import ContentFile

from datasets.models import Label, Product
from labeling.models import Annotation, LabelSource, Task
from tests.factories import DatasetFactory, LabelFactory, UserFactory
from workspace.models import ImportKind, ImportStatus
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_write
from workspace.services.imports import import_job_create, import_job_run

pytestmark = pytest.mark.django_db


def run(dataset, content: bytes, name: str, kind: str, **options):
    job = import_job_create(
        dataset=dataset, user=UserFactory(), kind=kind, file=ContentFile(content, name=name), options=options
    )
    return import_job_run(job_id=job.pk)


def taxonomy(dataset, *paths: str) -> None:
    for path in paths:
        LabelFactory(dataset=dataset, name=path.split(" > ")[-1], path=path)


def ls_task(task_id: int, text: str, *annotations: tuple[object, list[str]], **data) -> dict:
    return {
        "id": task_id,
        "data": {"text": text, **data},
        "annotations": [
            {"completed_by": who, "result": [{"type": "choices", "from_name": "c", "to_name": "t",
                                              "value": {"choices": choices}}]}
            for who, choices in annotations
        ],
    }


def labels_of(dataset) -> dict[tuple[str, str], str]:
    return {
        (a.task.product.external_id, a.source_name): a.label.path
        for a in Annotation.objects.filter(dataset=dataset).select_related("task__product", "label")
    }


def test_label_studio_export_brings_products_and_each_annotators_label():
    dataset = DatasetFactory(overlap=2)
    taxonomy(dataset, "Audio", "Shoes")
    tasks = [
        ls_task(1, "Wireless headphones", ({"id": 3, "email": "ann@x.io"}, ["Audio"]), (7, ["Audio"]), brand="Acme"),
        ls_task(2, "Trail runner", ({"email": "ann@x.io"}, ["Shoes"])),
        ls_task(3, "Unlabeled mug"),
    ]
    job = run(dataset, json.dumps(tasks).encode(), "project.json", ImportKind.LABELSTUDIO)
    assert (job.status, job.created_count, job.label_count) == (ImportStatus.SUCCEEDED, 3, 3), job.message
    assert labels_of(dataset) == {("1", "ann@x.io"): "Audio", ("1", "7"): "Audio", ("2", "ann@x.io"): "Shoes"}
    assert Product.objects.get(dataset=dataset, external_id="1").brand == "Acme"
    assert set(Annotation.objects.values_list("source", flat=True)) == {LabelSource.IMPORT}
    assert Task.objects.get(product__external_id="1").is_complete


def test_unknown_labels_refuse_the_whole_file_and_list_them():
    dataset = DatasetFactory()
    taxonomy(dataset, "Audio")
    tasks = [ls_task(n, f"Item {n}", ("", ["Audio"])) for n in range(1, 120)]
    tasks += [ls_task(200, "Boot", ("", ["Shoes"])), ls_task(201, "Mug", ("", ["Kitchen"]))]
    job = run(dataset, json.dumps(tasks).encode(), "project.json", ImportKind.LABELSTUDIO)
    assert job.status == ImportStatus.FAILED
    assert "2 labels not in the taxonomy: 'Shoes' (item 120), 'Kitchen' (item 121)" in job.message
    assert "Nothing was imported" in job.message
    assert not Product.objects.filter(dataset=dataset).exists()
    assert not Annotation.objects.filter(dataset=dataset).exists()


def test_create_labels_adds_the_missing_ones_with_their_parents():
    dataset = DatasetFactory()
    tasks = [ls_task(1, "Boot", ("", ["Apparel > Shoes"]))]
    job = run(dataset, json.dumps(tasks).encode(), "project.json", ImportKind.LABELSTUDIO, create_labels=True)
    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert set(Label.objects.filter(dataset=dataset).values_list("path", flat=True)) == {"Apparel", "Apparel > Shoes"}
    assert labels_of(dataset) == {("1", "labelstudio"): "Apparel > Shoes"}


def test_a_malformed_record_after_many_good_ones_imports_nothing():
    dataset = DatasetFactory()
    taxonomy(dataset, "Audio")
    tasks = [ls_task(n, f"Item {n}", ("", ["Audio"])) for n in range(1, 150)]
    tasks.append({"id": 999, "data": {"text": "Two labels"}, "annotations": [
        {"result": [{"type": "choices", "value": {"choices": ["Audio", "Audio 2"]}}]}]})
    job = run(dataset, json.dumps(tasks).encode(), "project.json", ImportKind.LABELSTUDIO)
    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("Item 150:")
    assert not Product.objects.filter(dataset=dataset).exists()


def test_prodigy_jsonl_takes_accepted_answers_per_annotator():
    dataset = DatasetFactory(overlap=2)
    taxonomy(dataset, "Audio", "Shoes")
    lines = [
        {"text": "Headphones", "meta": {"id": "H1"}, "label": "Audio", "answer": "accept", "_annotator_id": "a-1"},
        {"text": "Headphones", "meta": {"id": "H1"}, "label": "Audio", "answer": "accept", "_annotator_id": "a-2"},
        {"text": "Boot", "meta": {"id": "B1"}, "accept": ["Shoes"], "options": [{"id": "Shoes", "text": "Shoes"}],
         "answer": "accept", "_annotator_id": "a-1"},
        {"text": "Mug", "meta": {"id": "M1"}, "label": "Audio", "answer": "reject", "_annotator_id": "a-1"},
    ]
    content = "\n".join(json.dumps(line) for line in lines).encode()
    job = run(dataset, content, "db-out.jsonl", ImportKind.PRODIGY)
    assert (job.status, job.created_count) == (ImportStatus.SUCCEEDED, 3), job.message
    assert labels_of(dataset) == {("H1", "a-1"): "Audio", ("H1", "a-2"): "Audio", ("B1", "a-1"): "Shoes"}


def test_prodigy_invalid_json_line_names_the_line_and_imports_nothing():
    dataset = DatasetFactory()
    taxonomy(dataset, "Audio")
    content = b'{"text": "A", "label": "Audio", "answer": "accept", "_input_hash": 1}\n{"text": "B", oops}\n'
    job = run(dataset, content, "db-out.jsonl", ImportKind.PRODIGY)
    assert job.status == ImportStatus.FAILED and job.message.startswith("Line 2:")
    assert not Product.objects.filter(dataset=dataset).exists()


def export(dataset, policy: str, fmt: str = "labelstudio") -> bytes:
    out = io.BytesIO()
    export_write(dataset=dataset, params=export_params_clean(fmt=fmt, policy=policy), out=out)
    return out.getvalue()


def rows(dataset, policy: str) -> list[tuple]:
    read = [json.loads(line) for line in export(dataset, policy, "jsonl").splitlines()]
    keep = ("external_id", "title", "label", "annotator", "gold")
    return sorted(tuple(row.get(name) for name in keep) for row in read)


@pytest.mark.parametrize(("policy", "overlap"), [("final", 1), ("raw", 2)])
def test_round_trip_through_label_studio_keeps_every_label(voted, policy, overlap):
    target = DatasetFactory(overlap=overlap)
    taxonomy(target, *voted.labels.values_list("path", flat=True))
    job = run(target, export(voted, policy), "shelfmark.labelstudio.json", ImportKind.LABELSTUDIO)
    assert job.status == ImportStatus.SUCCEEDED, job.message
    before = rows(voted, policy)
    after = rows(target, policy)
    if policy == "final":
        # Gold is a property of the task, not of a label: the round trip keeps it as a plain label.
        before = [(*row[:4], False) for row in before]
    else:
        # Raw rows name the source: reviewers and annotators come back as import sources of those names.
        assert {row[3] for row in after} == {row[3] for row in before}
    assert after == before
