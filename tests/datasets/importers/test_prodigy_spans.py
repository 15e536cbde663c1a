"""Prodigy span exports (ner_manual, spans.manual) read as marked texts: accepted answers only."""

import io
import json
from typing import Any

import pytest

from datasets.exporters import write_export
from datasets.importers import ImportFormatError, LineCount, RowError
from datasets.importers.prodigy_spans import ImportedSpan, SpanRow, parse_prodigy_spans

TEXT = "Acme Pro blender, red"
TOKENS = [
    {"text": "Acme", "start": 0, "end": 4, "id": 0, "ws": True},
    {"text": "Pro", "start": 5, "end": 8, "id": 1, "ws": True},
    {"text": "blender", "start": 9, "end": 16, "id": 2, "ws": False},
    {"text": ",", "start": 16, "end": 17, "id": 3, "ws": True},
    {"text": "red", "start": 18, "end": 21, "id": 4, "ws": False},
]


def example(**fields: Any) -> dict[str, Any]:
    return {
        "text": TEXT, "tokens": TOKENS, "meta": {"external_id": "sku-1"}, "_input_hash": -12, "_task_hash": 34,
        "spans": [{"start": 18, "end": 21, "token_start": 4, "token_end": 4, "label": "COLOR"},
                  {"start": 0, "end": 8, "token_start": 0, "token_end": 1, "label": "BRAND"}],
        "_view_id": "ner_manual", "answer": "accept", "_annotator_id": "shop-ann", "_session_id": "shop-ann",
        **fields,
    }


def read(data: bytes, filename: str = "spans.jsonl", counts: LineCount | None = None) -> tuple[list, dict]:
    opened = parse_prodigy_spans(io.BytesIO(data), filename=filename, counts=counts)
    return list(opened.rows), opened.skipped


def parse(*examples: Any) -> list:
    return read("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in examples).encode())[0]


def reasons(*examples: Any) -> list[str]:
    return [item.reason for item in parse(*examples) if isinstance(item, RowError)]


def test_a_ner_manual_answer_reads_as_its_spans_sorted_with_their_tokens():
    assert parse(example()) == [SpanRow(
        1, "sku-1", TEXT,
        (ImportedSpan(0, 8, "BRAND", 0, 1), ImportedSpan(18, 21, "COLOR", 4, 4)),
        "shop-ann", {"external_id": "sku-1"},
    )]


def test_without_tokens_the_spans_keep_the_token_range_the_file_gives_or_none():
    (row,) = parse(example(tokens=None, spans=[{"start": 0, "end": 4, "label": "BRAND"}], _annotator_id=None,
                           meta={"id": 7}))
    assert (row.external_id, row.annotator, row.spans) == ("7", "shop-ann", (ImportedSpan(0, 4, "BRAND"),))


def test_an_accepted_example_without_spans_is_a_text_with_nothing_to_mark():
    assert [row.spans for row in parse(example(spans=[]), example(spans=None, _annotator_id="b"))] == [(), ()]


def test_rejects_and_ignores_are_left_out_and_counted_not_errors():
    counts = LineCount()
    lines = [example(answer="reject", spans="broken"), example(answer="ignore"), example(_annotator_id="b")]
    rows, skipped = read("".join(json.dumps(e) + "\n" for e in lines).encode(), counts=counts)
    assert [(row.line, row.annotator) for row in rows] == [(3, "b")]
    assert skipped == {"reject": 1, "ignore": 1}
    assert (counts.read, counts.skipped) == (3, 2)  # every line accounted for: one row + two skipped


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"spans": [{"start": 18, "end": 30, "label": "COLOR"}]}, "span 0 (18-30) is outside the text's 21 characters"),
        ({"spans": [{"start": -1, "end": 3, "label": "BRAND"}]}, "span 0 (-1-3) is outside the text's 21 characters"),
        ({"spans": [{"start": 4, "end": 4, "label": "BRAND"}]}, "span 0 ends at 4, not after its start 4"),
        ({"spans": [{"start": 0, "end": "4", "label": "BRAND"}]}, "span 0 needs whole-number start and end"),
        ({"spans": [{"start": 0, "end": 4, "label": " "}]}, "span 0-4 has no label"),
        ({"spans": [{"start": 0, "end": 3, "label": "BRAND"}]}, "span 0-3 ('Acm') does not start and end on"),
        ({"spans": [{"start": 0, "end": 8, "label": "BRAND"}, {"start": 5, "end": 16, "label": "MODEL"}]},
         "spans 0-8 and 5-16 overlap"),
        ({"spans": [{"start": 0, "end": 4, "token_start": 0, "token_end": 1, "label": "BRAND"}]},
         "span 0-4 gives tokens 0-1; its characters are tokens 0-0"),
        ({"answer": "maybe"}, "unknown answer 'maybe' (expected accept, reject or ignore)"),
        ({"answer": None}, "no answer (expected accept, reject or ignore)"),
        ({"text": ""}, "no text"),
        ({"meta": {}, "_input_hash": None}, "no external id: needs meta.external_id, meta.id, id or _input_hash"),
        ({"meta": "sku-1"}, "meta must be an object"),
        ({"tokens": [{"text": "Acne", "start": 0, "end": 4}]}, "token 0 reads 'Acne' but the text holds 'Acme'"),
        ({"_view_id": "ner", "answer": "reject"}, "a binary ner answer (one suggested span accepted or rejected)"),
    ],
)
def test_a_bad_example_is_a_row_error_and_the_next_still_reads(fields, reason):
    items = parse(example(**fields), example(_annotator_id="b"))
    assert isinstance(items[0], RowError) and items[0].line == 1 and reason in items[0].reason
    assert isinstance(items[1], SpanRow)


def test_the_same_product_answered_twice_by_one_annotator_is_refused_where_it_repeats():
    assert reasons(example(), example(_annotator_id="b"), example()) == [
        "'sku-1' answered again by 'shop-ann' (first on line 1)"
    ]


def test_a_broken_line_is_a_row_error_and_a_json_array_reads_by_item():
    items = parse("{not json", example())
    assert isinstance(items[0], RowError) and "not valid JSON" in items[0].reason
    rows, _ = read(json.dumps([example(), example(_annotator_id="b")]).encode(), "spans.json")
    assert [(row.line, row.annotator) for row in rows] == [(1, "shop-ann"), (2, "b")]


def test_a_csv_file_is_refused_whole():
    with pytest.raises(ImportFormatError, match="expected Prodigy JSONL"):
        parse_prodigy_spans(io.BytesIO(b"text,label\nAcme,BRAND\n"), filename="spans.csv")


def test_our_prodigy_export_reads_back_as_the_same_spans():
    rows = [{"external_id": "sku-1", "text": "Acme Pro blender, red 1.5 L", "annotator": "ann", "split": "train",
             "spans": [{"start": 0, "end": 8, "label": "BRAND"}, {"start": 22, "end": 27, "label": "SIZE"}]}]
    out = io.BytesIO()
    write_export(rows, out, fmt="prodigy")
    (row,) = read(out.getvalue())[0]
    assert (row.external_id, row.annotator, row.meta["split"]) == ("sku-1", "ann", "train")
    assert row.spans == (ImportedSpan(0, 8, "BRAND", 0, 1), ImportedSpan(22, 27, "SIZE", 5, 6))
