import codecs
import io
import json
from decimal import Decimal
from typing import Any

import pytest

from datasets.exporters.labelstudio import to_task, write_labelstudio
from datasets.importers import AnnotatedRow, ImportFormatError, ProductRow, parse_labelstudio


def parse(value: Any, filename: str = "export.json") -> list[AnnotatedRow]:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    return list(parse_labelstudio(io.BytesIO(data), filename))


def error(value: Any, filename: str = "export.json") -> str:
    with pytest.raises(ImportFormatError) as caught:
        parse(value, filename)
    return str(caught.value)


def choice(*values: str, from_name: str = "category") -> dict[str, Any]:
    return {"from_name": from_name, "to_name": "text", "type": "choices", "value": {"choices": list(values)}}


def taxonomy(*paths: list[str]) -> dict[str, Any]:
    return {"from_name": "taxonomy", "to_name": "text", "type": "taxonomy", "value": {"taxonomy": list(paths)}}


def task(*results: dict[str, Any], **data: Any) -> dict[str, Any]:
    """A task with one annotation per result list entry (a dict is one annotation with that one result)."""
    return {
        "id": 1,
        "data": {"text": "Wireless headphones", "external_id": "sku-1", **data},
        "annotations": [{"result": [result]} for result in results],
    }


EXPORT = [
    {
        "id": 101,
        "data": {"text": "Trail running shoe, size 42", "sku": "RUN-42", "shop": "north", "gold": True},
        "annotations": [
            {
                "id": 9001,
                "completed_by": {"id": 3, "email": "ana@example.com", "first_name": "Ana"},
                "created_username": " ana@example.com, 3",
                "was_cancelled": False,
                "result": [choice("Footwear > Running")],
            },
            {"id": 9002, "completed_by": 7, "was_cancelled": False, "result": [choice("Footwear > Trail")]},
            {"id": 9003, "completed_by": 8, "was_cancelled": True, "result": []},
        ],
        "predictions": [{"result": [choice("Footwear > Hiking")], "score": 0.4}],
        "created_at": "2024-03-09T21:52:49.513742Z",
        "project": 83,
    },
    {
        "id": 102,
        "data": {"text": "Leather tote bag", "sku": "BAG-1", "shop": ""},
        "annotations": [],
        "predictions": [],
    },
    {
        "id": 103,
        "data": {"text": "Espresso machine", "brand": "Acme", "price": 149.5, "currency": "eur"},
        "annotations": [
            {
                "completed_by": 7,
                "created_username": "Bo Lind bo@example.com, 7",
                "result": [taxonomy(["Home", "Kitchen", "Coffee"])],
            },
            {"completed_by": 9, "result": []},
        ],
    },
]


def test_realistic_export_gives_one_row_per_task():
    rows = parse(EXPORT)
    assert [(row.line, row.product.external_id, row.product.title) for row in rows] == [
        (1, "101", "Trail running shoe, size 42"),
        (2, "102", "Leather tote bag"),
        (3, "103", "Espresso machine"),
    ]


def test_each_accepted_annotation_gives_a_label_with_its_annotator():
    labels = [row.labels for row in parse(EXPORT)]
    assert labels == [
        (("ana@example.com", "Footwear > Running"), ("7", "Footwear > Trail")),
        (),
        (("bo@example.com", "Home > Kitchen > Coffee"),),
    ]


def test_extra_data_keys_become_attributes_but_review_flags_do_not():
    first, second, _ = parse(EXPORT)
    assert first.product.attributes == {"sku": "RUN-42", "shop": "north"}
    assert second.product.attributes == {"sku": "BAG-1"}


def test_product_fields_are_read_from_data():
    product = parse(EXPORT)[2].product
    assert (product.brand, product.price, product.currency) == ("Acme", Decimal("149.5"), "EUR")
    assert product.label == ""


def test_predictions_are_not_labels():
    (row,) = parse([{"id": 1, "data": {"text": "Mug"}, "predictions": [{"result": [choice("Kitchen")]}]}])
    assert row.labels == ()


def test_cancelled_annotation_is_skipped_even_with_a_result():
    data = task(choice("Audio"))
    data["annotations"][0]["was_cancelled"] = True
    (row,) = parse([data])
    assert row.labels == ()


def test_annotation_without_choices_contributes_nothing():
    rating = {"from_name": "quality", "to_name": "text", "type": "rating", "value": {"rating": 4}}
    (row,) = parse([task(rating)])
    assert row.labels == ()


def test_agreeing_results_from_two_tags_give_one_label():
    data = task(choice("Audio"))
    data["annotations"][0]["result"].append(taxonomy(["Audio"]))
    (row,) = parse([data])
    assert row.labels == (("", "Audio"),)


def test_annotator_is_empty_when_unknown():
    (row,) = parse([task(choice("Audio"))])
    assert row.labels == (("", "Audio"),)


@pytest.mark.parametrize(
    ("annotation", "annotator"),
    [
        ({"completed_by": {"id": 4, "email": "cy@example.com"}}, "cy@example.com"),
        ({"completed_by": {"id": 4}}, "4"),
        ({"completed_by": 4, "created_username": " cy@example.com, 4"}, "cy@example.com"),
        ({"completed_by": 4, "created_username": "cy, 4"}, "cy"),
        ({"completed_by": "cy"}, "cy"),
        ({"completed_by": 4}, "4"),
        ({"created_username": "cy@example.com, 4"}, "cy@example.com"),
    ],
)
def test_annotator_prefers_email_or_username_over_ids(annotation, annotator):
    data = task(choice("Audio"))
    data["annotations"][0].update(annotation)
    (row,) = parse([data])
    assert row.labels == ((annotator, "Audio"),)


def test_title_falls_back_to_text_and_a_different_text_is_kept():
    (plain,) = parse([{"id": 5, "data": {"text": "Mug"}}])
    (both,) = parse([{"id": 5, "data": {"title": "Mug", "text": "Mug, 300 ml, white"}}])
    assert plain.product.title == "Mug"
    assert (both.product.title, both.product.attributes) == ("Mug", {"text": "Mug, 300 ml, white"})


def test_external_id_falls_back_to_data_id_then_task_id():
    rows = parse([
        {"id": 1, "data": {"text": "A", "external_id": "sku-a", "id": 77}},
        {"id": 2, "data": {"text": "B", "id": 78}},
        {"id": 3, "data": {"text": "C"}},
    ])
    assert [row.product.external_id for row in rows] == ["sku-a", "78", "3"]
    assert [row.product.attributes for row in rows] == [{"id": 77}, {}, {}]


def test_attributes_object_is_merged_with_extra_keys():
    (row,) = parse([{"id": 1, "data": {"text": "Mug", "colour": "red", "attributes": {"size": {"ml": 300}}}}])
    assert row.product.attributes == {"colour": "red", "size": {"ml": 300}}


def test_price_with_currency_symbol_sets_the_currency():
    (row,) = parse([{"id": 1, "data": {"text": "Mug", "price": "12,99 EUR"}}])
    assert (row.product.price, row.product.currency) == (Decimal("12.99"), "EUR")


def test_html_is_kept_as_text():
    (row,) = parse([{"id": 1, "data": {"text": "<b>Mug</b> &amp; saucer"}}])
    assert row.product.title == "<b>Mug</b> &amp; saucer"


def test_jsonl_of_tasks_numbers_rows_by_line():
    lines = [json.dumps(t) for t in EXPORT]
    rows = parse(("\n\n".join(lines) + "\n").encode(), "export.jsonl")
    assert [row.line for row in rows] == [1, 3, 5]


def test_single_task_object_is_one_row():
    (row,) = parse(json.dumps(EXPORT[0], indent=2).encode())
    assert (row.line, row.product.external_id) == (1, "101")


def test_utf8_bom_is_accepted():
    (row,) = parse(codecs.BOM_UTF8 + json.dumps([{"id": 1, "data": {"text": "Café"}}], ensure_ascii=False).encode())
    assert row.product.title == "Café"


def test_cp1252_export_is_decoded():
    data = '[{"id": 1, "data": {"text": "Caf\u00e9 cr\u00e8me"}}]'.encode("cp1252")
    (row,) = parse(data)
    assert row.product.title == "Café crème"


def test_undecodable_bytes_in_a_utf8_export_are_an_error():
    data = '[{"id": 1, "data": {"text": "Crème"}}, {"id": 2, "data": {"text": "Cr'.encode() + b'\xe8me"}}]'
    assert error(data) == "Item 2: data.title: broken encoding (bytes not valid utf-8)."


def test_tasks_are_streamed_one_at_a_time():
    rows = parse_labelstudio(io.BytesIO(json.dumps([EXPORT[0], "broken"]).encode()))
    assert next(rows).product.external_id == "101"
    with pytest.raises(ImportFormatError, match=r"^Item 2: "):
        next(rows)


# Round trip with our own writer.

ROWS = [
    {
        "external_id": "sku-1", "title": "Wireless headphones", "description": "Over-ear, 30 h battery",
        "brand": "Acme", "price": "59.90", "currency": "EUR", "image_url": "https://example.com/1.jpg",
        "url": "https://example.com/1", "attributes": {"colour": "black", "specs": {"bluetooth": "5.3"}},
        "label": "Electronics > Audio > Headphones", "label_id": 7, "label_code": "EAH", "split": "train",
    },
    {
        "external_id": "sku-2", "title": "Crème brûlée torch — 日本製", "description": "", "brand": "",
        "price": None, "currency": "", "image_url": "", "url": "", "attributes": {},
        "label": None, "label_id": None, "label_code": "", "split": None,
    },
]


def round_trip(rows: list[dict[str, Any]]) -> list[AnnotatedRow]:
    out = io.BytesIO()
    write_labelstudio(rows, out)
    return parse(out.getvalue())


def expected_product(line: int, row: dict[str, Any]) -> ProductRow:
    price = Decimal(row["price"]) if row["price"] else None
    return ProductRow(
        line, row["external_id"], row["title"], row["description"], row["brand"], price, row["currency"],
        row["image_url"], row["url"], row["attributes"],
    )


def test_round_trip_keeps_every_product_field():
    parsed = round_trip(ROWS)
    assert [row.product for row in parsed] == [expected_product(1, ROWS[0]), expected_product(2, ROWS[1])]
    assert parsed[0].product.price == Decimal("59.90")


def test_round_trip_keeps_the_label():
    assert [row.labels for row in round_trip(ROWS)] == [(("", "Electronics > Audio > Headphones"),), ()]


def test_round_trip_of_raw_policy_keeps_each_annotator():
    raw = [
        {**ROWS[0], "annotator": "ana", "votes": 2, "agreement": 0.5, "flagged": False},
        {**ROWS[0], "annotator": "bo", "label": "Electronics > Audio > Speakers", "votes": 2, "agreement": 0.5},
        {**ROWS[1], "annotator": "ana"},
    ]
    parsed = round_trip(raw)
    assert [row.labels for row in parsed] == [
        (("ana", "Electronics > Audio > Headphones"), ("bo", "Electronics > Audio > Speakers")),
        (),
    ]
    assert parsed[0].product == expected_product(1, ROWS[0])


def test_round_trip_of_one_task():
    (row,) = parse([to_task(ROWS[0])])
    assert (row.product, row.labels) == (expected_product(1, ROWS[0]), (("", ROWS[0]["label"]),))


# Errors: every message names the record.


def test_two_choices_in_one_annotation_is_an_error():
    data = task(choice("Audio"))
    data["annotations"].append({"result": [choice("Shoes", "Bags")]})
    assert error([{"id": 1, "data": {"text": "A"}}, {"id": 2, "data": {"text": "B"}}, data]) == (
        "Item 3: annotation 2 has 2 choices ('Shoes', 'Bags'); a product takes one category."
    )


def test_two_taxonomy_paths_in_one_annotation_is_an_error():
    assert error([task(taxonomy(["Home"], ["Garden", "Tools"]))]) == (
        "Item 1: annotation 1 has 2 taxonomy paths ('Home', 'Garden > Tools'); a product takes one category."
    )


def test_disagreeing_results_of_two_tags_is_an_error():
    data = task(choice("Audio"))
    data["annotations"][0]["result"].append(taxonomy(["Home"]))
    assert error([data]) == (
        "Item 1: annotation 1 has results in 'category', 'taxonomy' that disagree ('Audio', 'Home'); "
        "a product takes one category."
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("a string", "Item 2: not a Label Studio task (expected an object with 'data')."),
        ({"id": 9, "text": "Mug"}, "Item 2: not a Label Studio task: it has no 'data' object"),
        ({"id": 9, "data": ["Mug"]}, "Item 2: 'data' must be an object."),
        ({"id": 9, "data": {"image": "x.png"}}, "Item 2: no text: data needs 'text' or 'title'."),
        ({"data": {"text": "Mug"}}, "Item 2: no external id: data needs 'external_id' or 'id', or the task an 'id'."),
        ({"id": 9, "data": {"text": {"a": 1}}}, "Item 2: data.text must be text, not an object."),
        ({"id": 9, "data": {"text": "Mug"}, "annotations": {}}, "Item 2: 'annotations' must be a list."),
        ({"id": 9, "data": {"text": "Mug"}, "annotations": [3]}, "Item 2: annotation 1 is not an object."),
        (
            {"id": 9, "data": {"text": "Mug"}, "annotations": [{"result": "Audio"}]},
            "Item 2: annotation 1: 'result' must be a list.",
        ),
        (
            {"id": 9, "data": {"text": "Mug"}, "annotations": [{"result": ["Audio"]}]},
            "Item 2: annotation 1: result 1 is not an object.",
        ),
        (
            {"id": 9, "data": {"text": "Mug"}, "annotations": [{"result": [{"type": "choices"}]}]},
            "Item 2: annotation 1: result 1 has no 'value' object.",
        ),
        (
            {"id": 9, "data": {"text": "Mug"}, "annotations": [{"result": [{"type": "choices", "value": {}}]}]},
            "Item 2: annotation 1: result 1: value.choices must be a list of text.",
        ),
        (
            {"id": 9, "data": {"text": "Mug"}, "annotations": [{"result": [taxonomy("Home")]}]},
            "Item 2: annotation 1: result 1: value.taxonomy must be a list of paths (lists of text).",
        ),
        ({"id": 9, "data": {"text": "x" * 1001}}, "Item 2: data.title longer than 1000 characters."),
        ({"id": 9, "data": {"text": "Mug", "price": "cheap"}}, "Item 2: invalid price 'cheap'."),
        ({"id": 9, "data": {"text": "Mug", "price": -1}}, "Item 2: negative price '-1'."),
        (
            {"id": 9, "data": {"text": "Mug", "currency": "euro"}},
            "Item 2: invalid currency 'EURO' (expected a 3-letter code such as EUR).",
        ),
        ({"id": 9, "data": {"text": "M\x00ug"}}, "Item 2: data.title: contains a NUL character."),
        ({"id": 9, "data": {"text": "Mug", "note": "a\x00b"}}, "Item 2: attributes: contains a NUL character."),
        (
            {"id": 9, "data": {"text": "Mug"}, "annotations": [{"result": [choice("Au\x00dio")]}]},
            "Item 2: label 'Audio': contains a NUL character.",
        ),
    ],
)
def test_malformed_task_raises_naming_the_item(item, message):
    assert error([EXPORT[1], item]).startswith(message)


def test_first_task_that_is_not_a_task_fails_on_first_next():
    rows = parse_labelstudio(io.BytesIO(b'[{"id": "sku-1", "title": "Mug", "price": 3}]'))
    with pytest.raises(ImportFormatError, match=r"^Item 1: not a Label Studio task: it has no 'data' object"):
        next(rows)


def test_invalid_json_after_some_items_names_the_item():
    data = b'[{"id": 1, "data": {"text": "A"}},\n {"id": 2, "data" {"text": "B"}}]'
    assert error(data).startswith("Item 2: not valid JSON: ")


def test_invalid_json_line_names_the_line():
    data = b'{"id": 1, "data": {"text": "A"}}\n{"id": 2, "data" {"text": "B"}}\n'
    assert error(data, "export.jsonl") == "Line 2: not valid JSON: Expecting ':' delimiter (column 18)."


def test_broken_array_start_is_a_whole_file_error():
    assert error(b"[{,]").startswith("The file is not valid JSON: ")


def test_empty_array_is_refused():
    assert error(b"[]") == "The file contains no records; expected a Label Studio JSON export (Export > JSON)."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "This file looks like a PNG image, not a Label Studio JSON export"),
        (b"PK\x03\x04\x14\x00", "This file looks like a ZIP archive"),
        (b'[{"id": 1}]\x00', "This file contains binary data (NUL bytes)"),
        (b"id,text\n1,Mug\n", "This file is not JSON; expected a Label Studio JSON export (Export > JSON)."),
    ],
)
def test_whole_file_problems_raise_from_the_call(data, message):
    with pytest.raises(ImportFormatError) as caught:
        parse_labelstudio(io.BytesIO(data), "export.json")
    assert str(caught.value).startswith(message)


def test_a_task_nested_too_deep_is_refused_with_its_item_not_a_crash():
    padding = [{"data": {"id": f"t{n}", "text": "Lamp " + "x" * 100}} for n in range(600)]  # past the 64 KB head
    deep = b'{"data": {"id": "d", "text": "Desk", "extra": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}"
    data = json.dumps(padding).encode()[:-1] + b", " + deep + b"]"
    assert error(data) == "Item 601: attributes: nested more than 64 levels deep."
