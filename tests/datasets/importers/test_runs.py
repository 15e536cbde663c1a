"""Run files: a TREC run or a CSV read into each ranker's rankings by rank, or refused whole with the bad lines."""

import io

import pytest

from datasets.importers.files import ImportFormatError
from datasets.importers.runs import parse_run


def parse(text: str, **kwargs) -> dict:
    return parse_run(io.BytesIO(text.encode()), **kwargs)


def test_a_trec_run_gives_each_tag_its_rankings_in_rank_order():
    run = parse("q1 Q0 case 2 7.5 shop\nq1 Q0 iphone 1 9.0 shop\nq2\tQ0\tgalaxy\t1\t3\tnew\n\n")
    assert run == {"shop": {"q1": ["iphone", "case"]}, "new": {"q2": ["galaxy"]}}
    assert parse("q1 Q0 case 1 7.5 shop\n", ranker="mine") == {"mine": {"q1": ["case"]}}


def test_a_csv_reads_its_columns_by_their_usual_spellings():
    text = "\ufeffqid,docid,rank,score\nq1,case,2,0.1\nq1,iphone,1,0.9\n"
    assert parse(text, ranker="shop") == {"shop": {"q1": ["iphone", "case"]}}
    assert parse("query_id;product_id;position;ranker\nq1;case;1;a\nq1;buds;1;b\n") == {
        "a": {"q1": ["case"]}, "b": {"q1": ["buds"]},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("q1 Q0 case 1 shop\n", "line 1: 5 fields, a TREC run has 6"),
        ("q1 Q0 case first 1.0 shop\n", "line 1: the rank 'first' is not a whole number"),
        ("q1 Q0 case 1 1.0 shop\nq1 Q0 iphone 1 0.5 shop\n", "ranker 'shop', query 'q1': a rank or a product"),
        ("q1 Q0 case 1 1.0 shop\nq1 Q0 case 2 0.5 shop\n", "a rank or a product appears twice"),
        ("query_id,product_id\nq1,case\n", "No rank column"),
        ("query_id,product_id,rank\nq1,case,1\n", "Name the ranker"),
        ("", "The file is empty"),
    ],
)
def test_a_bad_file_is_refused_whole_with_its_reason(text, message):
    with pytest.raises(ImportFormatError, match=message):
        parse(text)


def test_the_refusal_names_the_first_bad_lines_and_counts_the_rest():
    text = "".join(f"q{i} Q0 p{i} x 1 shop\n" for i in range(8))
    with pytest.raises(ImportFormatError, match=r"line 5: .*\(and 3 more\)\.$"):
        parse(text)
