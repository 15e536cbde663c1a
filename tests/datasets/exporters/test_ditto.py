import io
from decimal import Decimal
from typing import Any

import pytest

from datasets.exporters.ditto import serialize_side, write_ditto


def pair(label: Any = 1, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "left_external_id": "a1",
        "left_title": "Vertex Book 14 16GB",
        "left_brand": "Vertex",
        "left_price": Decimal("799.00"),
        "right_external_id": "b7",
        "right_title": "VERTEX Book14 16 GB",
        "right_brand": "",
        "right_price": None,
        "label": label,
    }
    row.update(extra)
    return row


def export(rows: list[dict[str, Any]]) -> tuple[int, str]:
    out = io.BytesIO()
    count = write_ditto(rows, out)
    return count, out.getvalue().decode("utf-8")


def test_a_pair_is_one_line_of_left_tab_right_tab_label():
    count, text = export([pair(1), pair(0)])
    left = "COL title VAL Vertex Book 14 16GB COL brand VAL Vertex COL price VAL 799.00"
    right = "COL title VAL VERTEX Book14 16 GB"
    assert count == 2
    assert text == f"{left}\t{right}\t1\n{left}\t{right}\t0\n"


def test_title_brand_and_price_lead_and_the_other_columns_follow_sorted():
    row = {"left_url": "u", "left_description": "d", "left_price": 5, "left_brand": "b", "left_title": "t"}
    expected = "COL title VAL t COL brand VAL b COL price VAL 5 COL description VAL d COL url VAL u"
    assert serialize_side(row, "left") == expected


def test_ids_are_left_out():
    row = {"left_id": "x", "left_external_id": "y", "left_title": "Mug"}
    assert serialize_side(row, "left") == "COL title VAL Mug"


def test_attributes_become_columns_and_product_fields_win_over_them():
    row = {"right_title": "Mug", "right_attributes": {"color": "Blue", "title": "ignored", "size": ""}}
    assert serialize_side(row, "right") == "COL title VAL Mug COL color VAL Blue"


def test_tabs_and_line_breaks_inside_values_become_spaces():
    _, text = export([pair(1, left_title="Mug\twith\r\nlid", right_description="two\nlines\u2028here")])
    (line,) = text.splitlines()
    assert line.count("\t") == 2
    assert "COL title VAL Mug with lid" in line and "COL description VAL two lines here" in line


def test_unlabeled_pairs_are_skipped():
    count, text = export([pair(None), pair(True), {"left_title": "a", "right_title": "b"}])
    assert count == 1 and text.endswith("\t1\n") and text.count("\n") == 1


def test_a_label_other_than_1_or_0_is_refused():
    with pytest.raises(ValueError, match="'match'"):
        export([pair("match")])


def test_the_same_rows_give_identical_bytes_whatever_the_key_order():
    row = pair(1, left_url="u", left_description="d")
    assert export([row]) == export([dict(reversed(list(row.items())))])
