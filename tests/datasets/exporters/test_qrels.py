import io

import pytest

from datasets.exporters.qrels import qrels_id, write_qrels


def test_one_line_a_judgment_in_trecs_four_fields():
    out = io.BytesIO()
    rows = [{"query_id": "q1", "product_id": "B0001", "grade": 3}, {"query_id": 7, "product_id": "p 2", "grade": 0}]
    assert write_qrels(rows, out) == 2
    assert out.getvalue() == b"q1 0 B0001 3\n7 0 p%202 0\n"
    assert all(len(line.split(b" ")) == 4 for line in out.getvalue().splitlines())


def test_whitespace_and_percent_in_ids_are_encoded_so_they_read_back():
    assert qrels_id("a\tb%c\u00a0d") == "a%09b%25c%C2%A0d"
    with pytest.raises(ValueError, match="needs a query id"):
        qrels_id("")


@pytest.mark.parametrize("grade", ["E", 2.5, True, None])
def test_a_grade_that_is_not_an_integer_is_refused(grade):
    with pytest.raises(ValueError, match="a qrels grade is an integer"):
        write_qrels([{"query_id": "q", "product_id": "p", "grade": grade}], io.BytesIO())
