import csv
import io
import json
from typing import Any

import pytest

from datasets.exporters import FORMATS, write_export

LABELS = ["Electronics > Audio > Headphones", "Electronics > Audio > Speakers", "Home > Kitchen"]


def make_row(external_id: str = "sku-1", label: str | None = LABELS[0], **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "external_id": external_id,
        "title": "Wireless headphones",
        "description": "Over-ear, 30 h battery",
        "brand": "Acme",
        "price": "59.90",
        "currency": "EUR",
        "image_url": "https://example.com/1.jpg",
        "url": "https://example.com/1",
        "attributes": {"colour": "black", "bluetooth": "5.3"},
        "label": label,
        "label_id": 7 if label else None,
        "label_code": "EAH" if label else "",
        "split": "train",
    }
    row.update(extra)
    return row


def sample_rows() -> list[dict[str, Any]]:
    return [
        make_row("sku-1", LABELS[0]),
        make_row("sku-2", LABELS[2], title="Crème brûlée torch — 日本製", price=None),
        make_row("sku-3", None, split=None),
    ]


def export(rows, fmt, labels=None):
    out = io.BytesIO()
    count = write_export(rows, out, fmt=fmt, labels=labels)
    return count, out.getvalue()


def test_csv_reads_back_with_the_same_labels_and_count():
    count, data = export(sample_rows(), "csv")
    read = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert count == 3
    assert [r["label"] for r in read] == [LABELS[0], LABELS[2], ""]


def test_csv_header_is_base_columns_then_attributes_json():
    _, data = export(sample_rows(), "csv")
    header, first = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[:2]
    assert header[0] == "external_id" and header[-1] == "attributes"
    assert json.loads(first[-1]) == {"bluetooth": "5.3", "colour": "black"}


def test_csv_adds_suggestions_and_annotator_columns_when_present():
    row = make_row(annotator="ann1", suggestions=[{"label": LABELS[1], "probability": 0.25}])
    _, data = export([row], "csv")
    read = next(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert read["annotator"] == "ann1"
    assert json.loads(read["suggestions"]) == [{"label": LABELS[1], "probability": 0.25}]


def test_csv_uses_newline_line_endings():
    _, data = export(sample_rows(), "csv")
    assert b"\r" not in data and data.endswith(b"\n")


def test_jsonl_reads_back_row_for_row():
    count, data = export(sample_rows(), "jsonl")
    read = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert count == 3
    assert read == sample_rows()


def test_json_is_one_array_with_every_row():
    count, data = export(sample_rows(), "json")
    assert count == 3
    assert json.loads(data) == sample_rows()


def test_json_of_no_rows_is_an_empty_array():
    assert export([], "json") == (0, b"[]")


def test_labelstudio_tasks_carry_label_as_annotation():
    count, data = export(sample_rows(), "labelstudio")
    tasks = json.loads(data)
    assert count == 3
    choices = [t["annotations"][0]["result"][0]["value"]["choices"] for t in tasks if "annotations" in t]
    assert choices == [[LABELS[0]], [LABELS[2]]]
    assert tasks[0]["data"]["text"] == "Wireless headphones"


def test_labelstudio_suggestions_become_scored_predictions():
    row = make_row(suggestions=[{"label": LABELS[1], "probability": 0.75}])
    _, data = export([row], "labelstudio")
    prediction = json.loads(data)[0]["predictions"][0]
    assert prediction["score"] == 0.75
    assert prediction["result"][0]["value"] == {"choices": [LABELS[1]]}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "labelstudio"])
def test_unicode_survives(fmt):
    _, data = export(sample_rows(), fmt)
    assert "Crème brûlée torch — 日本製" in data.decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_rows_give_identical_bytes(fmt):
    assert export(sample_rows(), fmt, LABELS) == export(sample_rows(), fmt, LABELS)


def test_unknown_format_raises_value_error():
    with pytest.raises(ValueError, match="xlsx"):
        write_export(sample_rows(), io.BytesIO(), fmt="xlsx")


def test_jsonl_streams_a_generator_of_50k_rows():
    rows = (make_row(f"sku-{i}") for i in range(50_000))
    out = io.BytesIO()
    assert write_export(rows, out, fmt="jsonl") == 50_000
    assert out.getvalue().count(b"\n") == 50_000


def test_labelstudio_groups_raw_rows_of_a_product_into_annotations():
    rows = [
        make_row("sku-1", LABELS[0], annotator="ann1"),
        make_row("sku-1", LABELS[1], annotator="ann2"),
        make_row("sku-2", LABELS[2], annotator="ann1"),
    ]
    count, data = export(rows, "labelstudio")
    tasks = json.loads(data)
    assert count == 3 and len(tasks) == 2
    first = tasks[0]["annotations"]
    assert [a["completed_by"]["email"] for a in first] == ["ann1", "ann2"]
    assert [a["result"][0]["value"]["choices"] for a in first] == [[LABELS[0]], [LABELS[1]]]


def test_parquet_reads_back_typed_with_pyarrow():
    import pyarrow.parquet as pq

    rows = [make_row("sku-1", gold=True, suggestions=[{"label": LABELS[1], "label_id": 8, "probability": 0.25}])]
    rows.append(make_row("sku-2", None, price=None, gold=False, suggestions=[]))
    count, data = export(rows, "parquet")
    table = pq.read_table(io.BytesIO(data))
    assert count == 2 and table.num_rows == 2
    read = table.to_pylist()
    assert read[0]["label"] == LABELS[0] and read[1]["label"] is None
    assert str(read[0]["price"]) == "59.90" and read[1]["price"] is None
    assert read[0]["gold"] is True
    assert json.loads(read[0]["attributes"]) == {"bluetooth": "5.3", "colour": "black"}
    assert read[0]["suggestions"] == [{"label": LABELS[1], "label_id": 8, "probability": 0.25}]


def test_parquet_of_no_rows_is_a_readable_empty_table():
    import pyarrow.parquet as pq

    count, data = export([], "parquet")
    assert count == 0 and pq.read_table(io.BytesIO(data)).num_rows == 0


def test_csv_and_json_read_back_with_pandas():
    import pandas as pd

    _, csv_data = export(sample_rows(), "csv")
    frame = pd.read_csv(io.BytesIO(csv_data), dtype={"external_id": str})
    assert list(frame["external_id"]) == ["sku-1", "sku-2", "sku-3"]
    assert frame["label"].fillna("").tolist() == [LABELS[0], LABELS[2], ""]
    _, jsonl_data = export(sample_rows(), "jsonl")
    lines = pd.read_json(io.BytesIO(jsonl_data), lines=True, dtype={"external_id": str})
    assert lines["label"].fillna("").tolist() == [LABELS[0], LABELS[2], ""]
