"""Queries files: the columns read under their common names, ids from the text when none, row errors."""

import io
import json

import pytest

from datasets.importers import ImportFormatError, LineCount, RowError
from datasets.importers.queries import QueryRow, parse_queries, query_hash


def parse(data: bytes, filename: str = "queries.csv", **options):
    return parse_queries(io.BytesIO(data), filename=filename, **options)


def rows(data: bytes, filename: str = "queries.csv") -> list:
    return list(parse(data, filename).rows)


def errors(items: list) -> list[tuple[int, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, RowError)]


def test_an_esci_style_csv_gives_ids_text_locale_and_the_default_weight():
    data = b"query_id,query,product_locale\n1,revent 80 cfm,us\n2,  aa batteries   100 pack ,US\n"
    assert rows(data) == [
        QueryRow(2, "1", "revent 80 cfm", "us", 1.0),
        QueryRow(3, "2", "aa batteries 100 pack", "us", 1.0),  # whitespace collapsed, locale lower-cased
    ]


def test_jsonl_with_other_spellings_and_a_weight():
    lines = [
        {"qid": 7, "search_term": "usb c cable", "frequency": 1200},
        {"qid": 8, "search_term": "hdmi", "Lang": "de"},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    opened = parse(data, "queries.jsonl")
    assert list(opened.rows) == [QueryRow(1, "7", "usb c cable", "", 1200.0), QueryRow(2, "8", "hdmi", "de", 1.0)]
    assert opened.fields == {"external_id": "qid", "text": "search_term", "locale": "Lang", "weight": "frequency"}


def test_without_an_id_column_the_id_is_the_texts_hash_and_a_repeated_query_is_refused():
    data = b"Search Term,clicks\nUSB-C  Cable\nusb-c cable\nhdmi\n"
    opened = parse(data)
    items = list(opened.rows)
    assert [item.external_id for item in items if isinstance(item, QueryRow)] == [
        query_hash("usb-c cable"), query_hash("hdmi")
    ]
    assert query_hash("USB-C  Cable") == query_hash("usb-c cable") != query_hash("usb-c cables")
    assert query_hash("hdmi").startswith("q:") and len(query_hash("hdmi")) == 18
    assert errors(items) == [(3, "duplicate query 'usb-c cable' (first seen on line 2)")]
    assert opened.ignored == ["clicks"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"1,,us,1", "missing query"),
        (b",shoes,us,1", "missing query_id"),
        (b"1,shoes,us,0", "weight '0' is not a positive number"),
        (b"1,shoes,us,-2", "weight '-2' is not a positive number"),
        (b"1,shoes,us,many", "weight 'many' is not a positive number"),
        (b"1,shoes,us,nan", "weight 'nan' is not a positive number"),
        (b"1,shoes,united-states-of-america,1", "locale longer than 16 characters"),
        (b"1," + b"x" * 1001 + b",us,1", "query longer than 1000 characters"),
    ],
)
def test_a_bad_row_is_rejected_with_its_reason_and_the_rest_go_on(line, reason):
    items = rows(b"query_id,query,locale,weight\n" + line + b"\n2,boots,us,3\n")
    assert errors(items) == [(2, reason)]
    assert items[1] == QueryRow(3, "2", "boots", "us", 3.0)


def test_a_repeated_query_id_is_refused_where_it_repeats():
    items = rows(b"query_id,query\n1,shoes\n1,boots\n")
    assert errors(items) == [(3, "duplicate query_id '1' (first seen on line 2)")]


def test_a_file_without_a_query_column_is_refused_whole_naming_its_columns():
    with pytest.raises(ImportFormatError, match="No query column: found columns product_id, title"):
        parse(b"product_id,title\n1,shoes\n")


def test_every_line_is_accounted_for():
    counts = LineCount()
    items = list(parse_queries(io.BytesIO(b"query_id,query\n1,a b\n\n2,\n3,c\n"), filename="q.csv", counts=counts).rows)
    assert len(items) == 3 and len(errors(items)) == 1
    assert counts.read == 5 and counts.skipped == 2
