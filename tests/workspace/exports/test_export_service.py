"""Snapshots through the real service and database: label policies, formats read back, splits, stored bytes."""

import hashlib
import io
import json
from collections import Counter

import pytest
from django.core.files.storage import default_storage
from django.utils.text import slugify

from config.errors import ApplicationError
from datasets.exporters.splits import SPLIT_NAMES
from datasets.models import Label
from labeling.models import Annotation, AnnotationStatus, LabelSource, Task
from tests.factories import DatasetFactory, LabelFactory, TaskFactory
from workspace.models import Export, ExportStatus
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_create, export_run, export_write

pytestmark = pytest.mark.django_db


def exported(dataset, fmt: str = "jsonl", policy: str = "final", **options) -> tuple[bytes, object]:
    out = io.BytesIO()
    result = export_write(dataset=dataset, params=export_params_clean(fmt=fmt, policy=policy, options=options), out=out)
    return out.getvalue(), result


def jsonl(dataset, policy: str = "final", **options) -> list[dict]:
    data, _ = exported(dataset, "jsonl", policy, **options)
    return [json.loads(line) for line in data.splitlines()]


def labels(rows: list[dict]) -> dict[str, str]:
    return {row["external_id"]: row["label"] for row in rows}


# -- label policies --------------------------------------------------------------------------------


def test_final_takes_gold_reviewed_and_agreed_labels_and_leaves_flagged_out(voted):
    rows = jsonl(voted, "final")
    assert labels(rows) == {"P1": "Root > A", "P2": "Root > B", "P5": "Root > C"}
    by_id = {row["external_id"]: row for row in rows}
    assert by_id["P5"]["gold"] is True and by_id["P1"]["gold"] is False
    assert (by_id["P1"]["votes"], by_id["P1"]["agreement"]) == (2, 1.0)
    assert (by_id["P1"]["label_id"], by_id["P1"]["label_code"]) == (voted.labels.get(name="A").pk, "c-A")
    assert "flagged" not in by_id["P1"]


def test_include_flagged_adds_the_flagged_items_marked(voted):
    rows = jsonl(voted, "final", include_flagged=True)
    assert labels(rows)["P4"] == "Root > B"
    assert {row["external_id"]: row["flagged"] for row in rows} == {"P1": False, "P2": False, "P4": True, "P5": False}


def test_majority_takes_a_strict_winner_with_enough_agreement(voted):
    assert labels(jsonl(voted, "majority")) == {"P1": "Root > A", "P2": "Root > B", "P3": "Root > A", "P5": "Root > C"}
    # Two votes needed: the half-done P3 drops out; a review and a gold label still count.
    assert set(labels(jsonl(voted, "majority", min_votes=2))) == {"P1", "P2", "P5"}


def test_majority_min_agreement_is_a_share_of_the_votes(db):
    dataset = DatasetFactory(overlap=3)
    for name in ("A", "B"):
        LabelFactory(dataset=dataset, name=name, path=name)
    task = TaskFactory(dataset=dataset, product__external_id="X")
    from tests.workspace.exports.conftest import answer

    for user, label in (("u1", "A"), ("u2", "A"), ("u3", "B")):
        answer(task, user, label)
    assert labels(jsonl(dataset, "majority", min_agreement=0.6)) == {"X": "A"}
    assert labels(jsonl(dataset, "majority", min_agreement=0.7)) == {}
    assert labels(jsonl(dataset, "final")) == {}  # not unanimous


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        (("B", "B", "A", "C"), "B"),  # a strict winner between a smaller and a larger id
        (("C", "C", "A", "A"), None),  # a tie at the top, whatever the ids
        (("A", "C", "C", "B"), "C"),  # the winner has the largest id
        (("A", "B", "C", "A"), "A"),  # the winner has the smallest id
    ],
)
def test_majority_finds_the_winner_and_refuses_ties(db, votes, expected):
    from tests.workspace.exports.conftest import answer

    dataset = DatasetFactory(overlap=4)
    for name in ("A", "B", "C"):
        LabelFactory(dataset=dataset, name=name, path=name)
    task = TaskFactory(dataset=dataset, product__external_id="X")
    for n, label in enumerate(votes):
        answer(task, f"u{n}", label)
    rows = jsonl(dataset, "majority", min_agreement=0.1)
    assert labels(rows).get("X") == expected
    if expected:
        assert rows[0]["votes"] == votes.count(expected)


def test_a_flag_without_a_label_counts_for_the_flag_only(db):
    from tests.workspace.exports.conftest import answer

    dataset = DatasetFactory(overlap=2)
    LabelFactory(dataset=dataset, name="A", path="A")
    task = TaskFactory(dataset=dataset, product__external_id="X")
    answer(task, "u1", "A")
    answer(task, "u2", None, flagged=True)
    assert jsonl(dataset, "majority") == []
    rows = jsonl(dataset, "majority", include_flagged=True)
    assert (rows[0]["label"], rows[0]["votes"], rows[0]["agreement"], rows[0]["flagged"]) == ("A", 1, 1.0, True)


def test_raw_gives_every_answer_with_its_annotator(voted):
    rows = jsonl(voted, "raw")
    pairs = sorted((row["external_id"], row["annotator"], row["label"], row["source"]) for row in rows)
    assert ("P1", "ann1", "Root > A", "human") in pairs and ("P1", "ann2", "Root > A", "human") in pairs
    assert not any(external_id == "P4" and who == "ann2" for external_id, who, *_ in pairs)  # flagged answer
    assert not any(who == "lead" for _, who, *_ in pairs)  # a review is a decision, not an answer
    assert len(rows) == 8
    assert len(jsonl(voted, "raw", include_flagged=True)) == 9


def test_suggestions_come_beside_the_label_on_request(voted):
    task = Task.objects.get(product__external_id="P1")
    a, b = voted.labels.get(name="A"), voted.labels.get(name="B")
    task.suggestions = [[b.pk, 0.7], [a.pk, 0.3]]
    task.save()
    row = next(row for row in jsonl(voted, include_suggestions=True) if row["external_id"] == "P1")
    assert row["suggestions"] == [
        {"label": "Root > B", "label_id": b.pk, "probability": 0.7},
        {"label": "Root > A", "label_id": a.pk, "probability": 0.3},
    ]
    assert "suggestions" not in jsonl(voted)[0]


# -- formats, read back by the libraries that load them --------------------------------------------


def test_spacy_docbin_loads_with_exclusive_cats(voted, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    data, result = exported(voted, "spacy")
    path = tmp_path / "train.spacy"
    path.write_bytes(data)
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))
    assert result.rows == len(docs) == 3
    for doc in docs:
        assert sum(doc.cats.values()) == 1.0
        assert set(doc.cats) == {"Root > A", "Root > B", "Root > C"}
    assert {doc.text: max(doc.cats, key=doc.cats.get) for doc in docs} == {
        "Product 1": "Root > A", "Product 2": "Root > B", "Product 5": "Root > C",
    }


def test_parquet_reads_back_with_pyarrow(voted):
    import pyarrow.parquet as pq

    data, result = exported(voted, "parquet", include_flagged=True)
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == result.rows == 4
    assert dict(zip(table["external_id"].to_pylist(), table["label"].to_pylist(), strict=True))["P4"] == "Root > B"
    assert table.schema.field("gold").type == "bool"


def test_csv_and_json_read_back_with_pandas(voted):
    import pandas as pd

    csv_data, _ = exported(voted, "csv")
    frame = pd.read_csv(io.BytesIO(csv_data), dtype={"external_id": str})
    assert dict(zip(frame["external_id"], frame["label"], strict=True)) == labels(jsonl(voted))
    json_data, _ = exported(voted, "json")
    assert len(pd.read_json(io.BytesIO(json_data))) == 3


# -- splits ----------------------------------------------------------------------------------------


@pytest.fixture
def imported_labels(db):
    """400 products labeled by an import, 300 / 80 / 20 over three labels."""
    dataset = DatasetFactory()
    chosen = [LabelFactory(dataset=dataset, name=name, path=name) for name in ("Big", "Mid", "Small")]
    tasks = TaskFactory.create_batch(400, dataset=dataset)
    Annotation.objects.bulk_create(
        Annotation(
            dataset=dataset, task=task, label=chosen[0 if n < 300 else 1 if n < 380 else 2],
            status=AnnotationStatus.SUBMITTED, source=LabelSource.IMPORT, source_name="seed",
        )
        for n, task in enumerate(tasks)
    )
    Task.objects.filter(dataset=dataset).update(annotation_count=1, is_complete=True)
    return dataset


def test_split_is_stratified_and_recorded(imported_labels):
    rows = jsonl(imported_labels, split="0.8,0.1,0.1", seed=7)
    counts = Counter((row["label"], row["split"]) for row in rows)
    assert counts == {
        ("Big", "train"): 240, ("Big", "dev"): 30, ("Big", "test"): 30,
        ("Mid", "train"): 64, ("Mid", "dev"): 8, ("Mid", "test"): 8,
        ("Small", "train"): 16, ("Small", "dev"): 2, ("Small", "test"): 2,
    }
    _, result = exported(imported_labels, split=[0.8, 0.1, 0.1], seed=7)
    assert result.split_counts == {"train": 320, "dev": 40, "test": 40, "warnings": []}


def test_a_split_of_a_few_products_in_small_classes_puts_some_in_dev_and_test():
    # The trial: 33 products in 11 categories of 3, 80/10/10. Rounded per class, all 33 went to train.
    dataset = DatasetFactory()
    for n in range(11):
        label = LabelFactory(dataset=dataset, name=f"L{n}", path=f"Root > L{n}")
        for task in TaskFactory.create_batch(3, dataset=dataset):
            Annotation.objects.create(dataset=dataset, task=task, label=label, source="import", source_name="seed")
    Task.objects.filter(dataset=dataset).update(annotation_count=1, is_complete=True)
    _, result = exported(dataset, split=[0.8, 0.1, 0.1], seed=0)
    assert result.split_counts == {"train": 27, "dev": 3, "test": 3, "warnings": []}


def test_a_split_part_that_comes_out_empty_is_recorded_with_a_warning(voted):
    _, result = exported(voted, split=[0.8, 0.1, 0.1], seed=0)  # 3 final rows: 10% of 3 rounds to none
    assert result.split_counts == {
        "train": 3,
        "dev": 0,
        "test": 0,
        "warnings": [
            "dev is empty: 10% of 3 products is 0.3, which rounds to none.",
            "test is empty: 10% of 3 products is 0.3, which rounds to none.",
        ],
    }


def test_split_is_the_same_for_the_same_seed_and_differs_for_another(imported_labels):
    first = {row["external_id"]: row["split"] for row in jsonl(imported_labels, split="0.8,0.1,0.1", seed=7)}
    again = {row["external_id"]: row["split"] for row in jsonl(imported_labels, split="0.8,0.1,0.1", seed=7)}
    other = {row["external_id"]: row["split"] for row in jsonl(imported_labels, split="0.8,0.1,0.1", seed=8)}
    assert first == again and first != other


def test_raw_split_keeps_every_answer_of_a_product_together(voted):
    rows = jsonl(voted, "raw", split="0.5,0.25,0.25", seed=1)
    splits: dict[str, set] = {}
    for row in rows:
        splits.setdefault(row["external_id"], set()).add(row["split"])
    assert all(len(names) == 1 for names in splits.values())


# -- parameters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "policy", "options", "message"),
    [
        ("xlsx", "final", {}, "Unknown export format 'xlsx'"),
        ("jsonl", "best", {}, "Unknown label policy 'best'"),
        ("jsonl", "majority", {"min_agreement": 0}, "min_agreement must be a number above 0"),
        ("jsonl", "majority", {"min_votes": 0}, "min_votes must be a whole number, at least 1"),
        ("jsonl", "final", {"split": "0.9,0.2,0.1"}, "add up to 1"),
        ("jsonl", "final", {"seed": -1}, "seed must be a whole number between"),
        ("jsonl", "final", {"include_flagged": "yes"}, "include_flagged must be true or false"),
        ("jsonl", "final", {"colour": 1}, "Unknown export options: colour"),
        ("jsonl", "final", {"split": 0.8}, "split must be three fractions"),
        ("jsonl", "final", {"split": [0.8, None, 0.2]}, "split must be three fractions"),
        ("jsonl", "majority", {"min_votes": 1.5}, "min_votes must be a whole number"),
        ("jsonl", "final", {"seed": True}, "seed must be a whole number"),
        ("spacy", "raw", {}, "one label per product"),
    ],
)
def test_bad_parameters_are_refused_by_name(fmt, policy, options, message):
    with pytest.raises(ApplicationError, match=message):
        export_params_clean(fmt=fmt, policy=policy, options=options)


def test_parameters_are_complete_with_defaults():
    assert export_params_clean(fmt="csv", policy="majority", options={"split": "0.8,0.1,0.1"}) == {
        "format": "csv", "policy": "majority", "min_agreement": 0.5, "min_votes": 1, "include_flagged": False,
        "include_suggestions": False, "split": [0.8, 0.1, 0.1], "seed": 0, "min_confidence": 0.0,
    }


# -- snapshots -------------------------------------------------------------------------------------


def test_a_snapshot_stores_the_file_with_its_count_and_hash(voted):
    export = export_create(dataset=voted, user=None, fmt="jsonl", policy="final", options={"split": "0.8,0.1,0.1"})
    assert export.status == ExportStatus.QUEUED
    export = export_run(export_id=export.pk)
    assert (export.status, export.row_count) == (ExportStatus.SUCCEEDED, 3)
    with default_storage.open(export.file.name, "rb") as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == export.sha256 and len(data) == export.size_bytes
    assert export.params["split"] == [0.8, 0.1, 0.1] and sum(export.split_counts[part] for part in SPLIT_NAMES) == 3
    assert export.filename == f"{slugify(voted.name)}-export-{export.pk}-final.jsonl" and export.progress == 1.0


def test_running_a_finished_snapshot_again_changes_nothing(voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="csv", policy="final").pk)
    again = export_run(export_id=export.pk)
    assert (again.file.name, again.sha256, again.finished_at) == (export.file.name, export.sha256, export.finished_at)


def test_the_same_parameters_on_the_same_labels_give_identical_bytes(voted):
    for fmt in ("csv", "jsonl", "json", "spacy", "parquet", "labelstudio"):
        policy = "final" if fmt == "spacy" else "raw"
        first = export_run(export_id=export_create(dataset=voted, user=None, fmt=fmt, policy=policy).pk)
        second = export_run(export_id=export_create(dataset=voted, user=None, fmt=fmt, policy=policy).pk)
        assert first.sha256 == second.sha256, fmt
        assert first.file.name != second.file.name


def test_a_snapshot_keeps_its_bytes_when_labels_change_later(voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="jsonl", policy="final").pk)
    Annotation.objects.filter(task__product__external_id="P1").update(label=Label.objects.get(dataset=voted, name="C"))
    export.refresh_from_db()
    with export.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == export.sha256
    assert export_run(export_id=export_create(dataset=voted, user=None, fmt="jsonl", policy="final").pk).sha256 != (
        export.sha256
    )


def test_progress_estimate_is_set_when_the_build_starts(voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="jsonl", policy="final").pk)
    assert export.rows_total == 6  # every task with an answer or a gold label
    assert Export.objects.get(pk=export.pk).rows_done == 3


def test_deleting_a_snapshot_deletes_its_file(voted, django_capture_on_commit_callbacks):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="csv", policy="final").pk)
    name = export.file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        export.delete()
    assert not default_storage.exists(name)
