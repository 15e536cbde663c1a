import codecs
import io
import json
from decimal import Decimal

import pytest

from datasets.importers import (
    ImportFormatError,
    LineCount,
    PairRow,
    ProductRef,
    ProductRow,
    RowError,
    pair_key,
    parse_pairs,
)


def parse(data: bytes | str, filename: str = "pairs.csv", **options) -> list:
    raw = data.encode() if isinstance(data, str) else data
    return list(parse_pairs(io.BytesIO(raw), filename=filename, **options))


def pairs(items: list) -> list[PairRow]:
    return [item for item in items if isinstance(item, PairRow)]


def errors(items: list) -> list[tuple[int, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, RowError)]


def test_csv_row_becomes_a_pair_of_products_with_their_fields():
    (row,) = parse(
        "left_id,left_title,left_brand,left_price,right_id,right_title,right_brand,right_price,label\n"
        "a1,Vertex Book 14 16GB,Vertex,799.00 EUR,b7,VERTEX Book14 16 GB Silver,Vertex,789,1\n"
    )
    assert row == PairRow(
        2,
        ProductRow(2, "a1", "Vertex Book 14 16GB", brand="Vertex", price=Decimal("799.00"), currency="EUR"),
        ProductRow(2, "b7", "VERTEX Book14 16 GB Silver", brand="Vertex", price=Decimal("789")),
        True,
    )


def test_unknown_side_columns_are_side_attributes_and_other_columns_pair_attributes():
    (row,) = parse(
        "pair_id,left_title,left_merchant_id,right_title,right_merchant_id,split\n7,Mug,294,Cup,293,train\n"
    )
    assert row.left.attributes == {"merchant_id": "294"}
    assert row.right.attributes == {"merchant_id": "293"}
    assert row.attributes == {"pair_id": "7", "split": "train"}


def test_product_id_columns_are_read_as_ids_as_in_the_pricerunner_layout():
    (row,) = parse("left_product_id,left_title,right_product_id,right_title,label\n46144,candy,46145,candy,1\n")
    assert (row.left.external_id, row.right.external_id) == ("46144", "46145")


def test_without_ids_a_side_is_identified_by_a_hash_of_its_fields():
    (row,) = parse("left_title,right_title\nMug,Cup\n")
    assert row.left.external_id.startswith("h:") and len(row.left.external_id) == 18
    assert row.left.external_id != row.right.external_id


def test_the_same_offer_in_two_pairs_gets_one_hashed_id_whatever_its_case_and_spacing():
    first, second = parse("left_title,right_title\nBlue  Mug,Cup\nPlate,blue mug\n")
    assert first.left.external_id == second.right.external_id


def test_hashed_ids_differ_when_any_field_differs():
    first, second = parse("left_title,left_price,right_title\nMug,3.50,Cup\nMug,3.90,Cup\n")
    assert first.left.external_id != second.left.external_id


def test_hashed_ids_are_stable_across_files_and_formats():
    (csv_row,) = parse("left_title,left_price,right_title\nMug,3.50,Cup\n")
    (json_row,) = parse('[{"left_title": "Mug", "left_price": 3.5, "right_title": "Cup"}]', "pairs.json")
    assert csv_row.key == json_row.key


@pytest.mark.parametrize(
    ("spelling", "label"),
    [
        ("1", True), ("0", False), ("1.0", True), ("0.0", False),
        ("match", True), ("Match", True), ("no match", False), ("No-Match", False), ("non-match", False),
        ("true", True), ("FALSE", False), ("yes", True), ("no", False), ("duplicate", True),
        ("", None), ("  ", None),
    ],
)
def test_label_spellings(spelling, label):
    (row,) = parse(f"left_title,right_title,label\nMug,Cup,{spelling}\n")
    assert row.label is label


def test_an_unknown_label_is_a_row_error_with_its_line():
    items = parse("left_title,right_title,label\nMug,Cup,1\nPlate,Bowl,maybe\n")
    assert errors(items) == [(3, "invalid label 'maybe' (expected 1/0, match/no match, true/false or yes/no)")]


def test_the_label_column_can_be_named():
    (row,) = parse("left_title,right_title,is_match\nMug,Cup,yes\n", label_column="is_match")
    assert row.label is True and row.attributes == {}


def test_labels_set_aside_are_neither_read_nor_kept_as_an_attribute():
    (pair,) = pairs(parse("left_title,right_title,label,split\nA,B,oops,test\n", read_labels=False))
    assert pair.label is None
    assert pair.attributes == {"split": "test"}


def test_a_named_label_column_missing_from_the_file_is_refused():
    with pytest.raises(ImportFormatError, match="Label column 'is_match' is not in the file"):
        parse("left_title,right_title,label\nMug,Cup,1\n", label_column="is_match")


def test_an_empty_label_column_option_reads_no_labels():
    (row,) = parse("left_title,right_title,label\nMug,Cup,1\n", label_column="")
    assert row.label is None and row.attributes == {"label": "1"}


def test_a_side_with_fields_but_no_title_is_a_row_error_naming_the_side():
    items = parse("left_title,left_brand,right_title,right_brand\nMug,Acme,Cup,Acme\nPlate,Acme,,Acme\n")
    assert errors(items) == [(3, "right: missing title")]


def test_bad_side_values_are_reported_with_their_side():
    items = parse("left_title,left_price,right_title,right_currency\nMug,-3,Cup,euro\n")
    assert errors(items) == [
        (2, "left: negative price '-3'; right: invalid currency 'EURO' (expected a 3-letter code such as EUR)")
    ]


def test_a_side_with_neither_id_nor_fields_is_a_row_error():
    items = parse("left_id,left_title,right_id,right_title\n1,Mug,,\n")
    assert errors(items) == [(2, "right: no product (neither an id nor any field)")]


def test_a_pair_of_one_product_with_itself_is_a_row_error():
    items = parse("left_id,left_title,right_id,right_title\n1,Mug,1,Mug\n")
    assert errors(items) == [(2, "a product cannot match itself")]


def test_two_sides_with_the_same_fields_and_no_ids_are_one_product():
    items = parse("left_title,right_title\nBlue Mug,blue  mug\n")
    assert errors(items) == [(2, "a product cannot match itself (both sides have the same fields and no id)")]


def test_a_pair_seen_before_in_either_order_is_a_row_error_on_the_later_line():
    items = parse("left_id,left_title,right_id,right_title\n1,Mug,2,Cup\n3,Plate,4,Bowl\n2,Cup,1,Mug\n")
    assert errors(items) == [(4, "duplicate pair (first seen on line 2)")]
    assert [row.line for row in pairs(items)] == [2, 3]


def test_a_rejected_row_does_not_claim_its_pair():
    items = parse("left_id,left_title,right_id,right_title,label\n1,Mug,2,Cup,perhaps\n1,Mug,2,Cup,1\n")
    assert [line for line, _ in errors(items)] == [2]
    assert [row.line for row in pairs(items)] == [3]


def test_refs_only_layout_gives_product_references():
    (row,) = parse("left_id,right_id,label,split\nsku-1,sku-2,0,test\n")
    assert row == PairRow(2, ProductRef("sku-1"), ProductRef("sku-2"), False, {"split": "test"})


def test_a_side_with_an_id_and_no_fields_is_a_reference_even_where_the_file_has_fields():
    _, second = parse("left_id,left_title,right_id,right_title\n1,Mug,2,Cup\n1,,3,Plate\n")
    assert second.left == ProductRef("1") and isinstance(second.right, ProductRow)


def test_a_file_without_side_columns_is_refused():
    with pytest.raises(ImportFormatError, match="No left_title or left_id column: found columns id, title"):
        parse("id,title\n1,Mug\n")


def test_a_file_with_one_side_only_is_refused():
    with pytest.raises(ImportFormatError, match="No right_title or right_id column"):
        parse("left_title,right_brand\nMug,Acme\n")


def test_semicolons_bom_and_latin1_are_read():
    data = codecs.BOM_UTF8 + "left_title;right_title;label\nCrème brûlée torch;Torch;0\n".encode()
    (row,) = parse(data)
    assert (row.left.title, row.label) == ("Crème brûlée torch", False)
    (row,) = parse("left_title;right_title\nCafetière;Théière\n".encode("latin-1"))
    assert (row.left.title, row.right.title) == ("Cafetière", "Théière")


def test_a_line_of_broken_utf8_is_a_row_error_and_the_others_are_read():
    data = "left_title,right_title\nCrème,Brûlée\n".encode() + b"Caf\xe9 noir,Th\xe9\n"
    items = parse(data)
    assert [row.line for row in pairs(items)] == [2]
    assert errors(items) == [(3, "broken encoding (bytes not valid utf-8)")]


def test_jsonl_pairs_take_booleans_and_numbers():
    lines = [
        {"left_id": "a", "left_title": "Mug", "left_price": 3.5, "right_id": "b", "right_title": "Cup", "label": True},
        {"left_id": "a", "left_title": "Mug", "right_id": "c", "right_title": "Bowl", "label": 0},
    ]
    items = parse("\n".join(json.dumps(line) for line in lines) + "\n", "pairs.jsonl")
    assert [(row.line, row.right.external_id, row.label) for row in pairs(items)] == [(1, "b", True), (2, "c", False)]
    assert pairs(items)[0].left.price == Decimal("3.5")


def test_json_array_errors_count_items():
    data = [{"left_id": "a", "left_title": "Mug", "right_id": "b", "right_title": "Cup"}] * 2
    items = parse(json.dumps(data), "pairs.json")
    assert errors(items) == [(2, "duplicate pair (first seen on item 1)")]


def test_every_line_is_accounted_for():
    data = 'left_title,right_title,label\nMug,Cup,1\n\n"Plate\nwith two lines",Bowl,0\nMug,Cup,1\nA,,1\n'
    counts = LineCount()
    items = list(parse_pairs(io.BytesIO(data.encode()), filename="pairs.csv", counts=counts))
    assert (len(pairs(items)), len(errors(items))) == (2, 2)
    assert len(items) + counts.skipped == counts.read == 7


def test_pairs_stream_before_the_file_is_read_to_its_end():
    rows = "".join(f"{n},Mug {n},{n}b,Cup {n}\n" for n in range(50_000))
    counts = LineCount()
    stream = parse_pairs(io.BytesIO(f"left_id,left_title,right_id,right_title\n{rows}".encode()), counts=counts)
    assert isinstance(next(stream), PairRow)
    assert counts.read < 50_000
    stream.close()


def test_pair_key_is_the_same_in_either_order():
    assert pair_key("b", "a") == pair_key("a", "b") == ("a", "b")
