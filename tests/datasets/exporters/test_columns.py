"""The caller's column order (`Columns`): CSV and Parquet write the columns it names, in its order and types."""

import csv
import io
import json
from decimal import Decimal

import pyarrow.parquet as pq

from datasets.exporters import BASE_COLUMNS, PRODUCT_ROWS, Columns, write_export

PAIRS = Columns(
    fixed=("left_title", "left_price", "right_title", "label", "split"),
    json_objects=("left_attributes", "attributes"),
    json_lists=(),
    types=(("label", "int"), ("left_price", "decimal")),
)


def pair(**extra) -> dict:
    row = {"left_title": "Book 14", "left_price": "799.00", "right_title": "Book14", "label": 1, "split": None}
    return row | extra


def written(rows: list[dict], fmt: str, columns: Columns) -> bytes:
    out = io.BytesIO()
    write_export(rows, out, fmt=fmt, columns=columns)
    return out.getvalue()


def test_csv_writes_the_callers_columns_in_its_order_with_empty_objects_for_missing_json():
    data = written([pair(votes=2, attributes={"split": "train"})], "csv", PAIRS).decode("utf-8")
    header, first = list(csv.reader(io.StringIO(data, newline="")))
    assert header == [
        "left_title",
        "left_price",
        "right_title",
        "label",
        "split",
        "votes",
        "left_attributes",
        "attributes",
    ]
    assert first[3] == "1"
    assert (json.loads(first[-2]), json.loads(first[-1])) == ({}, {"split": "train"})


def test_csv_of_no_rows_is_the_fixed_header_and_the_json_objects():
    assert written([], "csv", PAIRS) == b"left_title,left_price,right_title,label,split,left_attributes,attributes\n"


def test_csv_and_parquet_default_to_product_rows():
    assert PRODUCT_ROWS.of(None) == [*BASE_COLUMNS, "attributes"]
    out = io.BytesIO()
    write_export([], out, fmt="csv")
    assert out.getvalue().decode("utf-8").strip().split(",") == [*BASE_COLUMNS, "attributes"]


def test_parquet_takes_the_types_the_caller_names():
    table = pq.read_table(io.BytesIO(written([pair(), pair(label=0, left_price=None)], "parquet", PAIRS)))
    assert table.column_names == PAIRS.of(pair())
    assert str(table.schema.field("label").type) == "int64"
    assert str(table.schema.field("left_price").type) == "decimal128(14, 2)"
    assert table.column("label").to_pylist() == [1, 0]
    assert table.column("left_price").to_pylist() == [Decimal("799.00"), None]
    assert table.column("left_attributes").to_pylist() == ["{}", "{}"]


def test_parquet_keeps_a_product_label_a_string_by_default():
    row = dict.fromkeys(BASE_COLUMNS) | {"title": "Lamp", "label": "Home > Lamps", "attributes": {}}
    table = pq.read_table(io.BytesIO(written([row], "parquet", PRODUCT_ROWS)))
    assert str(table.schema.field("label").type) == "string"
