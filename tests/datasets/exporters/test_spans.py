"""The span writers: spaCy NER DocBin, Prodigy JSONL, CoNLL IOB and Label Studio `labels` tasks."""

import io
import json

import pytest
from spacy.tokens import DocBin
from spacy.training.converters import conll_ner_to_docs
from spacy.vocab import Vocab

from datasets.exporters import write_export

from .span_rows import TITLE, span, span_row, span_rows

FORMATS = ("spacy_ner", "prodigy", "conll", "labelstudio_spans")


def export(rows, fmt) -> tuple[int, bytes]:
    out = io.BytesIO()
    count = write_export(rows, out, fmt=fmt)
    return count, out.getvalue()


def read_docs(data: bytes) -> list:
    return list(DocBin().from_bytes(data).get_docs(Vocab()))


def test_the_docbin_holds_the_spans_as_entities_and_as_the_sc_span_group():
    count, data = export(span_rows(), "spacy_ner")
    docs = read_docs(data)
    assert count == len(docs) == 3  # the unmarked row is skipped, the one marked empty is kept
    first = docs[0]
    assert first.text == TITLE
    assert [(e.text, e.label_, e.start, e.end) for e in first.ents] == [
        ("Acme Pro", "BRAND", 0, 2), ("red", "COLOR", 4, 5), ("1.5 L", "SIZE", 5, 7)
    ]
    assert [(s.text, s.label_) for s in first.spans["sc"]] == [(e.text, e.label_) for e in first.ents]
    assert [(e.text, e.label_) for e in docs[1].ents] == [("Zenta", "BRAND")]
    assert docs[1].text == "Crème brûlée torch — Zenta"
    assert docs[2].ents == () and [t.ent_iob_ for t in docs[2]] == ["O", "O"]  # known to hold no entity


def test_a_span_off_the_token_boundaries_is_refused_naming_the_row():
    with pytest.raises(ValueError, match=r"Row 'sku-9': span 0-3 \('Acm'\) does not start and end on token"):
        export([span_row(), span_row("sku-9", spans=[span(0, 3, "BRAND")])], "spacy_ner")


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ([span(0, 8, "BRAND"), span(5, 16, "MODEL")], "spans 0-8 and 5-16 overlap"),
        ([span(4, 4, "BRAND")], "needs start < end"),
        ([span(22, 40, "SIZE")], "needs start < end within the text's 27 characters"),
        ([span(0, 4, "")], "span 0-4 has no label"),
        ([span(0, 4, "BRAND", token_start=1)], "has token_start 1; its tokens give 0"),
    ],
)
def test_bad_spans_are_refused_in_every_format(spans, message):
    for fmt in FORMATS:
        with pytest.raises(ValueError, match=message):
            export([span_row(spans=spans)], fmt)


def test_the_annotators_tokens_are_kept_when_the_row_brings_them():
    # "1.5L" as one token: the tokens the annotator saw, not the ones spaCy's tokenizer would make today.
    text = "Acme mug 1.5L"
    tokens = [{"text": "Acme", "start": 0, "end": 4}, {"text": "mug", "start": 5, "end": 8},
              {"text": "1.5L", "start": 9, "end": 13}]
    row = span_row(text=text, tokens=tokens, spans=[span(9, 13, "SIZE")])
    (doc,) = read_docs(export([row], "spacy_ner")[1])
    assert [t.text for t in doc] == ["Acme", "mug", "1.5L"] and doc.text == text
    assert [(e.text, e.start) for e in doc.ents] == [("1.5L", 2)]
    example = json.loads(export([row], "prodigy")[1])
    assert example["tokens"][2] == {"text": "1.5L", "start": 9, "end": 13, "id": 2, "ws": False}


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ([{"text": "Acme", "start": 0, "end": 4}], r"the text after the last token \(' mug'\) is in no token"),
        ([{"text": "Acme", "start": 0, "end": 4}, {"text": "mog", "start": 5, "end": 8}], "token 1 reads 'mog'"),
        ([{"start": 0, "end": 4}, {"start": 3, "end": 8}], "token 1 has no valid start and end"),
        ([], "tokens must be a non-empty list"),
    ],
)
def test_tokens_that_do_not_spell_the_text_are_refused(tokens, message):
    with pytest.raises(ValueError, match=message):
        export([span_row(text="Acme mug", tokens=tokens, spans=[])], "prodigy")


def test_a_row_without_text_is_refused_by_position_when_it_has_no_id():
    with pytest.raises(ValueError, match="Row 2 has no text"):
        export([span_row(), {"text": " ", "spans": []}], "conll")


def test_prodigy_lines_are_ner_manual_examples_with_the_other_columns_in_meta():
    count, data = export([span_row(annotator="ann"), *span_rows()[1:]], "prodigy")
    lines = data.decode().splitlines()
    assert count == len(lines) == 3 and data.endswith(b"\n")
    first = json.loads(lines[0])
    assert first == {
        "text": TITLE,
        "tokens": [
            {"text": "Acme", "start": 0, "end": 4, "id": 0, "ws": True},
            {"text": "Pro", "start": 5, "end": 8, "id": 1, "ws": True},
            {"text": "blender", "start": 9, "end": 16, "id": 2, "ws": False},
            {"text": ",", "start": 16, "end": 17, "id": 3, "ws": True},
            {"text": "red", "start": 18, "end": 21, "id": 4, "ws": True},
            {"text": "1.5", "start": 22, "end": 25, "id": 5, "ws": True},
            {"text": "L", "start": 26, "end": 27, "id": 6, "ws": False},
        ],
        "spans": [
            {"start": 0, "end": 8, "token_start": 0, "token_end": 1, "label": "BRAND"},
            {"start": 18, "end": 21, "token_start": 4, "token_end": 4, "label": "COLOR"},
            {"start": 22, "end": 27, "token_start": 5, "token_end": 6, "label": "SIZE"},
        ],
        "meta": {"external_id": "sku-1", "split": "train"},
        "_annotator_id": "ann",
        "_view_id": "ner_manual",
        "answer": "accept",
    }
    assert json.loads(lines[2])["spans"] == []


def test_conll_is_one_token_a_line_with_iob2_tags_and_a_blank_line_after_each_document():
    count, data = export(span_rows(), "conll")
    assert count == 3
    assert data.decode().split("\n\n") == [
        "Acme\tB-BRAND\nPro\tI-BRAND\nblender\tO\n,\tO\nred\tB-COLOR\n1.5\tB-SIZE\nL\tI-SIZE",
        "Crème\tO\nbrûlée\tO\ntorch\tO\n—\tO\nZenta\tB-BRAND",
        "Plain\tO\nmug\tO",
        "",
    ]


def test_conll_reads_back_in_spacys_own_converter():
    _, data = export(span_rows(), "conll")
    docs = conll_ner_to_docs(data.decode(), n_sents=1, no_print=True)
    assert [[(e.text, e.label_) for e in doc.ents] for doc in docs] == [
        [("Acme Pro", "BRAND"), ("red", "COLOR"), ("1.5 L", "SIZE")], [("Zenta", "BRAND")], []
    ]


def test_conll_leaves_whitespace_tokens_out_and_refuses_a_label_with_a_space():
    row = span_row(text="Navy  Blue shirt", spans=[span(0, 10, "COLOR")])
    assert export([row], "conll")[1] == b"Navy\tB-COLOR\nBlue\tI-COLOR\nshirt\tO\n\n"
    with pytest.raises(ValueError, match="'B-MAIN COLOR' holds whitespace"):
        export([span_row(text="Navy shirt", spans=[span(0, 4, "MAIN COLOR")])], "conll")


def test_label_studio_tasks_hold_labels_results_as_its_ner_template_imports():
    count, data = export(span_rows(), "labelstudio_spans")
    tasks = json.loads(data)
    assert count == len(tasks) == 3
    assert tasks[0]["data"] == {"text": TITLE, "external_id": "sku-1", "split": "train"}
    (annotation,) = tasks[0]["annotations"]
    assert annotation["result"][0] == {
        "value": {"start": 0, "end": 8, "text": "Acme Pro", "labels": ["BRAND"]},
        "from_name": "label", "to_name": "text", "type": "labels",
    }
    assert [r["value"]["text"] for r in annotation["result"]] == ["Acme Pro", "red", "1.5 L"]
    assert tasks[2]["annotations"] == [{"result": []}]


def test_label_studio_gathers_the_raw_policys_annotations_of_one_product_in_one_task():
    rows = [span_row(annotator="ann"), span_row(annotator="bob", spans=[span(0, 4, "BRAND")]),
            span_row("sku-2", "Zenta mug", [], annotator="ann")]
    count, data = export(rows, "labelstudio_spans")
    tasks = json.loads(data)
    assert count == 3 and len(tasks) == 2
    assert [a["completed_by"]["email"] for a in tasks[0]["annotations"]] == ["ann", "bob"]
    assert [len(a["result"]) for a in tasks[0]["annotations"]] == [3, 1]
    assert "annotator" not in tasks[0]["data"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_rows_give_the_same_bytes(fmt):
    assert export(span_rows(), fmt) == export(span_rows(), fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_are_read_in_chunks_so_a_long_stream_is_written_whole(fmt, monkeypatch):
    monkeypatch.setattr("datasets.exporters.span_rows.CHUNK_ROWS", 2)
    rows = [{**span_row(f"sku-{i}"), "spans": [span(0, 4, "BRAND")] if i % 3 else None} for i in range(7)]
    assert export(iter(rows), fmt)[0] == 4
