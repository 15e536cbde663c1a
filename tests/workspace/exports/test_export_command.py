"""export_dataset: one export to a file, complete or not there at all; no snapshot recorded."""

import hashlib
import json
from io import StringIO

import orjson
import pytest
from django.core.management import CommandError, call_command

from tests.factories import DatasetFactory, TaskFactory
from workspace.models import Export

pytestmark = pytest.mark.django_db


def export(dataset, out, **options) -> dict:
    stdout = StringIO()
    fmt = options.pop("format", "jsonl")
    call_command("export_dataset", dataset=str(dataset), format=fmt, out=str(out), stdout=stdout, **options)
    return json.loads(stdout.getvalue().strip().splitlines()[-1])


def rows_of(path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_writes_a_jsonl_with_the_policys_rows_and_reports_it(voted, tmp_path):
    out = tmp_path / "final.jsonl"
    summary = export(voted.pk, out)
    rows = rows_of(out)
    assert [row["external_id"] for row in rows] == ["P1", "P2", "P5"]
    assert summary["rows"] == 3
    assert summary["size"] == out.stat().st_size
    assert summary["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert not Export.objects.exists()
    assert [path.name for path in tmp_path.iterdir()] == ["final.jsonl"]


def test_takes_the_dataset_by_name_and_the_policy_options(voted, tmp_path):
    out = tmp_path / "majority.jsonl"
    summary = export(voted.name, out, policy="majority", include_flagged=True, min_votes=2)
    assert summary["rows"] == len(rows_of(out)) == 4
    assert all("flagged" in row for row in rows_of(out))


def test_split_adds_the_split_column_and_its_counts(voted, tmp_path):
    out = tmp_path / "raw.jsonl"
    stdout = StringIO()
    arguments = [f"--dataset={voted.pk}", "--format=jsonl", f"--out={out}", "--policy=raw", "--include-flagged"]
    call_command("export_dataset", *arguments, "--split", "0.5,0.25,0.25", "--seed", "3", stdout=stdout)
    summary = json.loads(stdout.getvalue())
    rows = rows_of(out)
    assert {row["split"] for row in rows} <= {"train", "dev", "test"}
    assert all(row["split"] for row in rows)
    assert sum(summary["split_counts"][part] for part in ("train", "dev", "test")) == summary["rows"] == len(rows)


def test_replaces_an_existing_file_only_when_complete(voted, tmp_path):
    out = tmp_path / "final.csv"
    out.write_bytes(b"old")
    export(voted.pk, out, format="csv")
    assert out.read_bytes().startswith(b"external_id,")


@pytest.mark.parametrize(
    ("dataset", "options", "message"),
    [
        ("no such dataset", {}, "No dataset 'no such dataset'"),
        (None, {"format": "xml"}, "Unknown export format 'xml'"),
        (None, {"policy": "loudest"}, "Unknown label policy 'loudest'"),
        (None, {"split": "0.8,0.1"}, "split needs three fractions"),
        (None, {"split": "a,b,c"}, "split must be three numbers"),
        (None, {"min_agreement": 1.5}, "min_agreement must be a number above 0"),
    ],
)
def test_bad_input_is_a_readable_error_and_leaves_no_file(voted, tmp_path, dataset, options, message):
    out = tmp_path / "export.out"
    with pytest.raises(CommandError, match=message):
        export(dataset or voted.pk, out, **options)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_a_readable_error(voted, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        export(voted.pk, tmp_path / "missing" / "export.jsonl")


def test_a_refused_export_leaves_the_previous_file_untouched(voted, tmp_path):
    out = tmp_path / "train.spacy"
    out.write_bytes(b"previous")
    with pytest.raises(CommandError, match="one label per product"):
        export(voted.pk, out, format="spacy", policy="raw")
    assert out.read_bytes() == b"previous"
    assert [path.name for path in tmp_path.iterdir()] == ["train.spacy"]


def test_a_dataset_without_labels_exports_an_empty_docbin(tmp_path):
    from spacy.tokens import DocBin

    dataset = TaskFactory(dataset=DatasetFactory()).dataset
    out = tmp_path / "train.spacy"
    export(dataset.pk, out, format="spacy")
    assert len(DocBin().from_disk(out)) == 0
