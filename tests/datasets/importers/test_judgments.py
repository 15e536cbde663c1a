"""Judgments files: (query, product, grade) rows as written, for the dataset's scale to read."""

import io

import pytest

from datasets.importers import ImportFormatError, RowError
from datasets.importers.judgments import JudgmentRow, parse_judgments


def parse(data: bytes, filename: str = "judgments.csv") -> list:
    return list(parse_judgments(io.BytesIO(data), filename=filename))


def test_the_shopping_queries_layout_reads_as_it_is():
    data = (
        b"example_id,query,query_id,product_id,product_locale,esci_label,small_version,large_version,split\n"
        b"0,revent 80 cfm,0,B000MOO21W,us,I,0,1,train\n"
        b"1,revent 80 cfm,0,B07X3Y6B1V,us,E,0,1,train\n"
    )
    assert parse(data) == [
        JudgmentRow(2, "0", "B000MOO21W", "I", "revent 80 cfm"),
        JudgmentRow(3, "0", "B07X3Y6B1V", "E", "revent 80 cfm"),
    ]


def test_jsonl_with_numbers_and_annotators():
    data = (
        b'{"qid": 7, "docid": "p1", "rel": 3, "judge": "ann"}\n'
        b'{"qid": 7, "docid": "p1", "rel": 2, "judge": "bob"}\n'
    )
    assert parse(data, "j.jsonl") == [
        JudgmentRow(1, "7", "p1", "3", "", "ann"),
        JudgmentRow(2, "7", "p1", "2", "", "bob"),
    ]


def test_the_same_judgment_twice_by_one_source_is_refused_where_it_repeats():
    items = parse(b"query_id,product_id,grade\nq,p,E\nq,p,S\nq,other,S\n")
    assert [(item.line, item.reason) for item in items if isinstance(item, RowError)] == [
        (3, "query 'q' and product 'p' judged again (first on line 2)")
    ]
    assert len([item for item in items if isinstance(item, JudgmentRow)]) == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [(b"q,,E", "missing product_id"), (b",p,E", "missing query_id"), (b"q,p,", "missing grade"),
     (b"q,p," + b"x" * 65, "grade longer than 64 characters")],
)
def test_a_row_missing_a_value_is_rejected_and_the_rest_go_on(line, reason):
    items = parse(b"query_id,product_id,grade\n" + line + b"\nq2,p2,E\n")
    assert [(item.line, item.reason) for item in items if isinstance(item, RowError)] == [(2, reason)]
    assert items[1] == JudgmentRow(3, "q2", "p2", "E")


def test_a_file_without_a_grade_column_is_refused_whole_naming_its_columns():
    with pytest.raises(ImportFormatError, match="No grade column: found columns query_id, product_id, note"):
        parse(b"query_id,product_id,note\nq,p,x\n")
