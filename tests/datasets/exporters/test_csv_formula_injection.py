"""CSV exports neutralize cells a spreadsheet would run as a formula; every other format keeps the exact text."""

import csv
import io
import json

import pytest

from datasets.exporters import write_export

from .test_formats import LABELS, make_row

PAYLOADS = [
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "   =1+1",
    "\n@SUM(A1)",
    "\uff1d1+1",
]


def export(rows, fmt):
    out = io.BytesIO()
    write_export(rows, out, fmt=fmt, labels=LABELS)
    return out.getvalue()


def payload_rows() -> list[dict]:
    return [
        make_row(f"sku-{i}", LABELS[0], title=payload, brand=payload, description=payload)
        for i, payload in enumerate(PAYLOADS)
    ]


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_prefixes_a_formula_cell_with_a_single_quote(payload):
    [row] = read_csv(export([make_row(title=payload, brand=payload)], "csv"))
    assert row["title"] == "'" + payload
    assert row["brand"] == "'" + payload


def test_csv_quotes_a_label_and_an_external_id_that_start_a_formula():
    [row] = read_csv(export([make_row("=1+1", "@evil > label")], "csv"))
    assert row["external_id"] == "'=1+1"
    assert row["label"] == "'@evil > label"


@pytest.mark.parametrize("text", ["Wireless headphones", "a=b", "e-mail", "50% off", "", " plain"])
def test_csv_keeps_text_that_cannot_start_a_formula(text):
    [row] = read_csv(export([make_row(title=text)], "csv"))
    assert row["title"] == text


def test_csv_quotes_text_that_only_starts_like_a_negative_number():
    [row] = read_csv(export([make_row(title="-5 % today")], "csv"))
    assert row["title"] == "'-5 % today"


@pytest.mark.parametrize("number", ["-3.50", "+2", "-0.25", "-1e-05", "-.5"])
def test_csv_writes_a_negative_or_signed_number_as_it_is(number):
    [row] = read_csv(export([make_row(price=number)], "csv"))
    assert row["price"] == number


def test_csv_numeric_columns_stay_numeric_for_pandas():
    import pandas as pd

    rows = [make_row("sku-1", price="-3.50", agreement=-0.5), make_row("sku-2", price="2", agreement=1.0)]
    frame = pd.read_csv(io.BytesIO(export(rows, "csv")))
    assert frame["price"].tolist() == [-3.5, 2.0]
    assert frame["agreement"].tolist() == [-0.5, 1.0]


def test_csv_json_cells_keep_the_exact_payload_inside():
    row = make_row(attributes={"note": "=1+1"}, suggestions=[{"label": "=evil", "probability": 0.5}])
    [read] = read_csv(export([row], "csv"))
    assert json.loads(read["attributes"]) == {"note": "=1+1"}
    assert json.loads(read["suggestions"]) == [{"label": "=evil", "probability": 0.5}]


def test_csv_with_formula_cells_re_exports_byte_identical():
    assert export(payload_rows(), "csv") == export(payload_rows(), "csv")


def test_jsonl_keeps_the_exact_text_of_formula_cells():
    read = [json.loads(line) for line in export(payload_rows(), "jsonl").decode("utf-8").splitlines()]
    assert [r["title"] for r in read] == PAYLOADS
    assert [r["brand"] for r in read] == PAYLOADS


def test_json_keeps_the_exact_text_of_formula_cells():
    assert [r["title"] for r in json.loads(export(payload_rows(), "json"))] == PAYLOADS


def test_labelstudio_keeps_the_exact_text_of_formula_cells():
    tasks = json.loads(export(payload_rows(), "labelstudio"))
    assert [t["data"]["text"] for t in tasks] == PAYLOADS


def test_parquet_keeps_the_exact_text_of_formula_cells():
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(export(payload_rows(), "parquet")))
    assert table.column("title").to_pylist() == PAYLOADS


def test_spacy_keeps_the_exact_text_of_formula_cells():
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_bytes(export(payload_rows(), "spacy")).get_docs(spacy.blank("en").vocab))
    assert all(doc.text.startswith(payload) for doc, payload in zip(docs, PAYLOADS, strict=True))


def test_csv_keeps_a_carriage_return_inside_its_cell():
    rows = read_csv(export([make_row("sku-1", title="two\rlines"), make_row("sku-2")], "csv"))
    assert [r["external_id"] for r in rows] == ["sku-1", "sku-2"]
    assert rows[0]["title"] == "two\rlines"
