import io
import json
from decimal import Decimal
from typing import Any

import pytest

from datasets.importers import AnnotatedRow, ImportFormatError, parse_prodigy


def jsonl(*examples: Any) -> bytes:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in examples).encode()


def parse(*examples: Any, filename: str = "annotations.jsonl") -> list[AnnotatedRow]:
    return list(parse_prodigy(io.BytesIO(jsonl(*examples)), filename))


def error(*examples: Any) -> str:
    with pytest.raises(ImportFormatError) as caught:
        parse(*examples)
    return str(caught.value)


def example(**fields: Any) -> dict[str, Any]:
    return {"text": "Wireless headphones", "meta": {"id": "sku-1"}, "_input_hash": -1234, "answer": "accept", **fields}


def test_binary_textcat_accept_gives_the_label():
    (row,) = parse(example(label="Electronics > Audio"))
    assert (row.line, row.product.external_id, row.product.title) == (1, "sku-1", "Wireless headphones")
    assert row.labels == (("", "Electronics > Audio"),)


@pytest.mark.parametrize("answer", ["reject", "ignore"])
def test_reject_and_ignore_give_a_product_without_label(answer):
    (row,) = parse(example(answer=answer, label="Electronics > Audio"))
    assert (row.product.external_id, row.labels) == ("sku-1", ())


def test_choice_accept_list_with_one_id_gives_that_label():
    options = [{"id": "Audio", "text": "Audio"}, {"id": "Shoes", "text": "Shoes"}]
    (row,) = parse(example(options=options, accept=["Shoes"]))
    assert row.labels == (("", "Shoes"),)


def test_choice_accept_list_wins_over_label():
    (row,) = parse(example(label="Audio", accept=["Shoes"]))
    assert row.labels == (("", "Shoes"),)


def test_empty_accept_list_gives_no_label():
    (row,) = parse(example(accept=[]))
    assert row.labels == ()


def test_numeric_option_id_becomes_text():
    (row,) = parse(example(accept=[12]))
    assert row.labels == (("", "12"),)


def test_meta_fields_fill_the_product_and_the_rest_are_attributes():
    meta = {
        "external_id": "sku-9", "id": 44, "description": "Over-ear", "brand": "Acme", "price": "59.90",
        "currency": "eur", "image_url": "https://example.com/1.jpg", "url": "https://example.com/1",
        "score": 0.82, "shop": "north", "empty": "", "attributes": {"colour": "black"},
    }
    (row,) = parse(example(meta=meta, label="Audio"))
    product = row.product
    assert (product.external_id, product.description, product.brand) == ("sku-9", "Over-ear", "Acme")
    assert (product.price, product.currency) == (Decimal("59.90"), "EUR")
    assert (product.image_url, product.url) == ("https://example.com/1.jpg", "https://example.com/1")
    assert product.attributes == {"id": 44, "score": 0.82, "shop": "north", "colour": "black"}
    assert product.label == ""


def test_external_id_falls_back_to_id_then_input_hash():
    rows = parse(
        example(meta={"id": 7}, label="A"),
        example(meta={}, id="top-1", label="A"),
        example(meta=None, label="A"),
    )
    assert [row.product.external_id for row in rows] == ["7", "top-1", "-1234"]


def test_annotator_is_annotator_id_else_session_id():
    rows = parse(
        example(label="A", _annotator_id="shop-ana", _session_id="shop-ana-session"),
        example(label="A", _session_id="shop-bo"),
        example(label="A"),
    )
    assert [row.labels for row in rows] == [(("shop-ana", "A"),), (("shop-bo", "A"),), (("", "A"),)]


def test_one_product_annotated_twice_gives_two_rows():
    rows = parse(
        example(label="Audio", _annotator_id="shop-ana"),
        example(label="Headphones", _annotator_id="shop-bo"),
    )
    assert [(row.product.external_id, row.labels) for row in rows] == [
        ("sku-1", (("shop-ana", "Audio"),)),
        ("sku-1", (("shop-bo", "Headphones"),)),
    ]


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers():
    rows = parse(example(label="A"), "", "   ", example(label="B"))
    assert [row.line for row in rows] == [1, 4]


def test_json_array_of_examples_also_reads():
    data = json.dumps([example(label="A"), example(answer="reject")]).encode()
    rows = list(parse_prodigy(io.BytesIO(data), "annotations.json"))
    assert [(row.line, row.labels) for row in rows] == [(1, (("", "A"),)), (2, ())]


def test_invalid_json_line_names_its_line():
    assert error(example(label="A"), "", '{"text": "Mug", "answer" "accept"}') == (
        "Line 3: not valid JSON: Expecting ':' delimiter (column 26)."
    )


def test_nan_is_not_json():
    assert error(example(label="A"), '{"text": "Mug", "answer": "accept", "label": "A", "score": NaN}') == (
        "Line 2: not valid JSON: NaN is not allowed."
    )


def test_lines_are_parsed_lazily_so_errors_surface_while_iterating():
    rows = parse_prodigy(io.BytesIO(jsonl(example(label="A"), "[1, 2]")))
    assert next(rows).labels == (("", "A"),)
    with pytest.raises(ImportFormatError, match=r"^Line 2: "):
        next(rows)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            {"text": "Mug", "meta": {"id": 1}},
            "Line 2: no answer: the example needs 'answer' (accept, reject or ignore).",
        ),
        (example(answer="maybe"), "Line 2: unknown answer 'maybe' (expected accept, reject or ignore)."),
        (example(), "Line 2: answer is accept but there is no label or accept list."),
        (example(label=""), "Line 2: answer is accept but there is no label or accept list."),
        (
            example(accept=["Audio", "Shoes"]),
            "Line 2: 2 options accepted ('Audio', 'Shoes'); a product takes one category.",
        ),
        ({"meta": {"id": 1}, "answer": "accept", "label": "A"}, "Line 2: no text: the example needs 'text'."),
        (example(text="  "), "Line 2: no text: the example needs 'text'."),
        (example(text=["Mug"]), "Line 2: text must be text, not a list."),
        (
            {"text": "Mug", "answer": "accept", "label": "A"},
            "Line 2: no external id: needs meta.external_id, meta.id, id or _input_hash.",
        ),
        (example(meta="sku-1"), "Line 2: 'meta' must be an object."),
        ([example()], "Line 2: not a Prodigy example (expected a JSON object)."),
        (example(meta={"id": 1, "price": "cheap"}, label="A"), "Line 2: invalid price 'cheap'."),
        (example(meta={"id": 1, "brand": "b" * 256}, label="A"), "Line 2: meta.brand longer than 255 characters."),
        (example(label="A", _annotator_id="a\x00b"), "Line 2: annotator 'ab': contains a NUL character."),
    ],
)
def test_malformed_example_raises_naming_the_line(broken, message):
    assert error(example(label="A"), broken) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"%PDF-1.7\n", "This file looks like a PDF document, not Prodigy JSONL"),
        (b'{"text": "\x00"}', "This file contains binary data (NUL bytes)"),
        (b"text,answer\nMug,accept\n", "This file is not JSON; expected Prodigy JSONL"),
    ],
)
def test_whole_file_problems_raise_from_the_call(data, message):
    with pytest.raises(ImportFormatError) as caught:
        parse_prodigy(io.BytesIO(data), "annotations.jsonl")
    assert str(caught.value).startswith(message)


def test_an_example_nested_too_deep_is_refused_with_its_line_not_a_crash():
    deep = '{"text": "Lamp", "answer": "ignore", "meta": {"a": ' + "[" * 10_000 + "]" * 10_000 + "}}"
    # Past the 64 KB head that the upload checks.
    padding = [example(meta={"id": f"sku-{n}", "note": "x" * 100}, label="Home") for n in range(600)]
    with pytest.raises(ImportFormatError, match="Line 601: nested more than 64 levels deep"):
        parse(*padding, deep)
