import codecs
import io
import json
from decimal import Decimal

import pytest

from datasets.importers import ImportFormatError, ProductRow, RowError, parse_products


def parse(data: bytes, filename: str = "products.csv", **options) -> list:
    return list(parse_products(io.BytesIO(data), filename=filename, **options))


def errors(items: list) -> list[tuple[int, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, RowError)]


def ids(items: list) -> list[str]:
    return [item.external_id for item in items if isinstance(item, ProductRow)]


def price_of(value: str) -> Decimal | None:
    (row,) = parse(f'id,title,price\n1,Mug,"{value}"\n'.encode())
    assert isinstance(row, ProductRow), row
    return row.price


def test_csv_row_becomes_product():
    (row,) = parse(
        b"id,title,description,brand,price,currency,image_url,url\n"
        b"A1,Mug,Big mug,Acme,12.99,eur,http://i/1.png,http://p/1\n"
    )
    assert row == ProductRow(2, "A1", "Mug", "Big mug", "Acme", Decimal("12.99"), "EUR", "http://i/1.png", "http://p/1")


def test_utf8_bom_does_not_leak_into_first_column():
    assert ids(parse(codecs.BOM_UTF8 + b"id,title\nA1,Mug\n")) == ["A1"]


def test_cp1252_file_is_decoded():
    (row,) = parse("id,title\n1,Café crème\n".encode("cp1252"))
    assert row.title == "Café crème"


def test_bad_bytes_reject_only_their_line():
    data = "id,title\n1,Crème\n".encode() + b"2,Caf\xe9\n" + "3,Größe\n".encode()
    items = parse(data)
    assert (ids(items), errors(items)) == (["1", "3"], [(3, "broken encoding (bytes not valid utf-8)")])


def test_broken_encoding_error_carries_external_id():
    (error,) = parse(b"id,title\nA1,Caf\xe9\n" + "A2,Crème\n".encode())[:1]
    assert error.external_id == "A1"


def test_semicolon_delimiter_is_sniffed():
    (row,) = parse(b"id;title;price\n1;Mug, large;12,99\n")
    assert (row.title, row.price) == ("Mug, large", Decimal("12.99"))


def test_tab_delimiter_is_sniffed():
    (row,) = parse(b"id\ttitle\tprice\n1\tMug\t3\n")
    assert (row.title, row.price) == ("Mug", Decimal("3"))


def test_explicit_delimiter_is_used():
    (row,) = parse(b"id|title\n1|Mug\n", delimiter="|")
    assert row.title == "Mug"


def test_excel_sep_line_sets_delimiter():
    items = parse(b"sep=;\nid;title\n1;Mug\n")
    assert [(row.line, row.title) for row in items] == [(3, "Mug")]


def test_multiline_quoted_field_keeps_following_line_numbers():
    items = parse(b'id,title,description\n1,Mug,"line one\nline two\nline three"\n2,Cup,\n3,,\n')
    assert ([row.line for row in items[:2]], errors(items)) == ([2, 5], [(6, "missing title")])


def test_blank_lines_are_skipped_but_counted():
    items = parse(b"id,title\n\n1,Mug\n\n2,Cup\n")
    assert [row.line for row in items] == [3, 5]


def test_header_names_are_stripped():
    (row,) = parse(b"Product ID,Product Title, Merchant ID\n1,Mug,7\n")
    assert (row.external_id, row.attributes) == ("1", {"Merchant ID": "7"})


def test_values_are_stripped():
    (row,) = parse(b"id,title,brand\n  A1 ,  Mug  , Acme \n")
    assert (row.external_id, row.title, row.brand) == ("A1", "Mug", "Acme")


def test_missing_title_is_row_error():
    assert errors(parse(b"id,title\n1,  \n")) == [(2, "missing title")]


def test_missing_external_id_is_row_error():
    assert errors(parse(b"id,title\n,Mug\n")) == [(2, "missing external_id")]


def test_duplicate_external_id_names_first_line():
    items = parse(b"id,title\nA1,Mug\nA2,Cup\nA1,Bowl\n")
    assert errors(items) == [(4, "duplicate external_id 'A1' (first seen on line 2)")]


def test_rejected_row_does_not_claim_its_id():
    items = parse(b"id,title\nA1,\nA1,Mug\n")
    assert (ids(items), errors(items)) == (["A1"], [(2, "missing title")])


def test_oversized_title_is_row_error():
    assert errors(parse(b"id,title\n1," + b"x" * 1001 + b"\n")) == [(2, "title longer than 1000 characters")]


def test_field_larger_than_csv_default_limit_is_row_error():
    items = parse(b"id,title,description\n1,Mug," + b"x" * 200_000 + b"\n2,Cup,\n")
    assert (ids(items), errors(items)) == (["2"], [(2, "description longer than 100000 characters")])


def test_more_fields_than_header_is_row_error():
    assert errors(parse(b"id,title\n1,Mug,extra\n")) == [(2, "row has 3 fields, header has 2")]


def test_more_fields_error_carries_external_id():
    (error,) = parse(b"id,title\nA7,Mug,extra\n")
    assert error.external_id == "A7"


def test_trailing_empty_fields_are_tolerated():
    assert ids(parse(b"id,title\n1,Mug,,\n")) == ["1"]


def test_fewer_fields_than_header_leave_fields_empty():
    (row,) = parse(b"id,title,brand\n1,Mug\n")
    assert row.brand == ""


def test_several_problems_are_reported_together():
    assert errors(parse(b"id,title,price\n1,,abc\n")) == [(2, "missing title; invalid price 'abc'")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.99", "12.99"),
        ("1,299.00", "1299.00"),
        ("1.299,00", "1299.00"),
        ("12,99", "12.99"),
        ("1,299", "1299"),
        ("$12.99", "12.99"),
        ("12.99 EUR", "12.99"),
        ("€ 1 299,50", "1299.50"),
        ("0", "0"),
    ],
)
def test_price_formats_are_accepted(text, expected):
    assert price_of(text) == Decimal(expected)


def test_empty_price_is_none():
    assert price_of("") is None


@pytest.mark.parametrize("text", ["abc", "12.99.99", "1,2,3", "12 34 56x7", "--5"])
def test_invalid_price_is_row_error(text):
    assert errors(parse(f'id,title,price\n1,Mug,"{text}"\n'.encode())) == [(2, f"invalid price '{text}'")]


def test_negative_price_is_row_error():
    assert errors(parse(b"id,title,price\n1,Mug,-5\n")) == [(2, "negative price '-5'")]


def test_price_beyond_the_database_column_is_row_error():
    assert errors(parse(b"id,title,price\n1,Mug,1000000000000\n")) == [
        (2, "price too large '1000000000000' (at most 999999999999.99)")
    ]


def test_currency_code_next_to_price_fills_missing_currency():
    (row,) = parse(b"id,title,price\n1,Mug,12.99 usd\n")
    assert (row.price, row.currency) == (Decimal("12.99"), "USD")


def test_currency_is_upper_cased():
    (row,) = parse(b"id,title,currency\n1,Mug,gbp\n")
    assert row.currency == "GBP"


def test_invalid_currency_is_row_error():
    assert errors(parse(b"id,title,currency\n1,Mug,Euro\n")) == [
        (2, "invalid currency 'EURO' (expected a 3-letter code such as EUR)")
    ]


def test_unknown_columns_land_in_attributes():
    (row,) = parse(b"id,title,Color,Size,Material\n1,Mug,red,,clay\n")
    assert row.attributes == {"Color": "red", "Material": "clay"}


def test_explicit_mapping_is_used():
    (row,) = parse(b"ref,label,text\nA1,Mug,Big\n", mapping={"external_id": "ref", "title": "text"})
    assert (row.external_id, row.title, row.attributes) == ("A1", "Big", {"label": "Mug"})


def test_missing_title_column_is_refused_naming_columns():
    with pytest.raises(ImportFormatError) as caught:
        parse(b"id,Price\n1,3\n")
    assert str(caught.value) == "No column for 'title': found columns id, Price. Map one in the import options."


def test_missing_external_id_column_is_refused():
    with pytest.raises(ImportFormatError, match="No column for 'external_id': found columns Name, Price"):
        parse(b"Name,Price\nMug,3\n")


def test_mapping_to_absent_column_is_refused():
    with pytest.raises(ImportFormatError, match="Column 'ref'"):
        parse(b"id,title\n1,Mug\n", mapping={"external_id": "ref", "title": "title"})


def test_label_column_value_is_kept_out_of_attributes():
    (row,) = parse(b"id,title,Category\n1,Mug, Kitchen \n", label_column="Category")
    assert (row.label, row.attributes) == ("Kitchen", {})


def test_unknown_label_column_is_refused():
    with pytest.raises(ImportFormatError, match="Label column 'Category'"):
        parse(b"id,title\n1,Mug\n", label_column="Category")


def test_nul_inside_value_is_row_error():
    data = b"id,title,description\n1,Mug," + b"x" * 70_000 + b"\n2,M\x00ug,\n"  # past the sniffed head
    assert errors(parse(data)) == [(3, "contains a NUL character")]


def test_binary_file_is_refused():
    with pytest.raises(ImportFormatError, match="PNG image"):
        parse(b"\x89PNG\r\n\x1a\n\x00\x00")


def test_empty_file_is_refused():
    with pytest.raises(ImportFormatError, match="empty"):
        parse(b"")


def test_header_only_file_yields_nothing():
    assert parse(b"id,title\n") == []


def test_jsonl_records_become_products():
    items = parse(b'{"id": 1, "title": "Mug", "price": 3.5}\n\n{"id": "A2", "title": "Cup"}\n', "feed.jsonl")
    assert [(row.line, row.external_id, row.price) for row in items] == [(1, "1", Decimal("3.5")), (3, "A2", None)]


def test_jsonl_broken_line_is_row_error_and_rest_lands():
    items = parse(b'{"id": 1, "title": "Mug"}\n{"id": 2, "title": \n{"id": 3, "title": "Cup"}\n', "feed.jsonl")
    assert (ids(items), [line for line, _ in errors(items)]) == (["1", "3"], [2])


def test_jsonl_line_that_is_not_object_is_row_error():
    items = parse(b'{"id": 1, "title": "Mug"}\n[1, 2]\n', "feed.jsonl")
    assert errors(items) == [(2, "not a JSON object")]


def test_jsonl_nan_is_row_error():
    items = parse(b'{"id": 1, "title": "Mug"}\n{"id": 2, "title": "Cup", "w": NaN}\n', "feed.jsonl")
    assert [line for line, _ in errors(items)] == [2]


def test_json_array_items_are_numbered():
    data = b'[{"id": "A1", "title": "Mug", "price": "12,99"}, {"id": "A2", "title": "Cup", "price": 4}]'
    items = parse(data, "feed.json")
    assert [(row.line, row.external_id, row.price) for row in items] == [
        (1, "A1", Decimal("12.99")),
        (2, "A2", Decimal("4")),
    ]


def test_json_nested_values_stay_in_attributes():
    (row,) = parse(b'[{"id": 1, "title": "Mug", "dims": {"h": 10}, "tags": ["a"], "note": "", "x": null}]', "f.json")
    assert row.attributes == {"dims": {"h": 10}, "tags": ["a"]}


def test_json_float_price_keeps_its_digits():
    (row,) = parse(b'[{"id": 1, "title": "Mug", "price": 12.99}]', "f.json")
    assert row.price == Decimal("12.99")


def test_json_top_level_object_is_refused():
    with pytest.raises(ImportFormatError, match="single object at the top level"):
        parse(b'{\n  "products": [{"id": 1, "title": "Mug"}]\n}\n', "feed.json")


def test_json_broken_midway_reports_then_stops():
    items = parse(b'[{"id": 1, "title": "Mug"}, {"id": 2, "title": "Cup"}, {"id": 3 "title": "Bowl"}]', "f.json")
    assert (ids(items), [line for line, _ in errors(items)]) == (["1", "2"], [3])


def test_json_broken_before_first_item_is_refused():
    with pytest.raises(ImportFormatError, match="not valid JSON"):
        parse(b'[{"id" 1}]', "f.json")


def test_json_item_that_is_not_object_is_row_error():
    assert errors(parse(b'[{"id": 1, "title": "Mug"}, "Cup"]', "f.json")) == [(2, "not a JSON object")]


def test_json_cp1252_text_is_decoded():
    (row,) = parse('[{"id": 1, "title": "Café crème"}]'.encode("cp1252"), "f.json")
    assert row.title == "Café crème"


def test_json_broken_bytes_reject_only_their_item():
    data = '[{"id": 1, "title": "Crème"}, {"id": 2, "title": "Caf'.encode() + b'\xe9"}, {"id": 3, "title": "Cup"}]'
    items = parse(data, "f.json")
    assert (ids(items), errors(items)) == (["1", "3"], [(2, "broken encoding (bytes not valid utf-8)")])


def test_json_duplicate_names_item_number():
    items = parse(b'[{"id": 1, "title": "Mug"}, {"id": 1, "title": "Cup"}]', "f.json")
    assert errors(items) == [(2, "duplicate external_id '1' (first seen on item 1)")]


def test_unknown_format_option_is_refused():
    with pytest.raises(ImportFormatError, match="Unknown product file format"):
        parse(b"id,title\n1,Mug\n", fmt="xlsx")


def test_parse_is_lazy_about_rows_but_not_about_the_header():
    with pytest.raises(ImportFormatError):
        parse_products(io.BytesIO(b"Name\nMug\n"), filename="p.csv")  # raised before iterating


PADDING = [{"id": f"P{n}", "title": "Lamp " + "x" * 100} for n in range(700)]  # past the 64 KB head


def test_a_jsonl_record_nested_too_deep_past_the_head_is_a_row_error():
    deep = b'{"id": "D", "title": "Deep", "a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}\n"
    data = b"".join(json.dumps(row).encode() + b"\n" for row in PADDING) + deep
    items = parse(data, "feed.jsonl")
    assert errors(items) == [(701, "nested more than 64 levels deep")]


def test_a_json_array_item_nested_too_deep_past_the_head_is_a_row_error():
    deep = b'{"id": "D", "title": "Deep", "a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    data = json.dumps(PADDING).encode()[:-1] + b", " + deep + b"]"
    items = parse(data, "feed.json")
    assert errors(items) == [(701, "nested more than 64 levels deep")]


def test_too_deep_json_is_refused_even_with_its_format_given():
    with pytest.raises(ImportFormatError, match="levels deep"):
        parse(b"[" * 10_000 + b"]" * 10_000, "feed.json", fmt="json")
