"""A span dataset's exports through the real export path: the resolved spans (or every answer) of each title, in
characters and tokens with the span type's code, in the span formats and as plain rows."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from config.errors import ApplicationError
from datasets.models import Role
from labeling.answer_values import answer_value_intern
from labeling.kinds.spans.tokens import tokenize
from labeling.services import annotation_submit
from tests.factories import member
from tests.labeling.kinds.spans.span_set import TITLES, span_dataset, span_task, type_id
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_run, export_write

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # Stored exports land in a fresh directory: a name left by an earlier run would make storage rename the file.
    settings.MEDIA_ROOT = tmp_path / "media"


SONY = TITLES[0][1]  # "Sony WH-1000XM4 Wireless Headphones Black"
SONY_LAST = len(tokenize(SONY)) - 1


def annotator(dataset, username: str):
    membership = dataset.memberships.filter(user__username=username).first()
    return membership.user if membership else member(dataset, username)


def mark(dataset, external_id: str, username: str, spans: list[tuple[int, int, str]]) -> None:
    value = sorted([start, end, type_id(dataset, code)] for start, end, code in spans)
    annotation_submit(task=span_task(dataset, external_id), user=annotator(dataset, username), label=None, value=value)


@pytest.fixture
def marked():
    """Overlap 2: sku-1 agreed (Sony BRAND, Black COLOR); sku-2 disagreed (Apple BRAND against nothing); sku-3
    answered once, without attributes."""
    dataset = span_dataset(overlap=2)
    agreed = [(0, 0, "BRAND"), (SONY_LAST, SONY_LAST, "COLOR")]
    mark(dataset, "sku-1", "ann1", agreed)
    mark(dataset, "sku-1", "ann2", agreed)
    mark(dataset, "sku-2", "ann1", [(0, 0, "BRAND")])
    mark(dataset, "sku-2", "ann2", [])
    mark(dataset, "sku-3", "ann1", [])
    return dataset


def exported(dataset, fmt: str = "jsonl", policy: str = "final", **options) -> bytes:
    out = io.BytesIO()
    params = export_params_clean(dataset=dataset, fmt=fmt, policy=policy, options=options)
    export_write(dataset=dataset, params=params, out=out)
    return out.getvalue()


def jsonl(dataset, policy: str = "final", **options) -> list[dict]:
    return [json.loads(line) for line in exported(dataset, "jsonl", policy, **options).splitlines()]


SONY_SPANS = [
    {"start": 0, "end": 4, "token_start": 0, "token_end": 0, "label": "BRAND"},
    {"start": len(SONY) - 5, "end": len(SONY), "token_start": SONY_LAST, "token_end": SONY_LAST, "label": "COLOR"},
]


def test_final_exports_the_agreed_spans_in_characters_and_tokens_with_the_types_code(marked):
    rows = jsonl(marked)
    assert [row["external_id"] for row in rows] == ["sku-1"]
    assert rows[0] | {"spans": None} == {
        "external_id": "sku-1", "text": SONY, "spans": None, "split": None, "gold": False, "votes": 2,
        "agreement": 1.0,
    }
    assert rows[0]["spans"] == SONY_SPANS


def test_majority_takes_a_single_answer_without_attributes_and_never_a_tie(marked):
    rows = {row["external_id"]: row["spans"] for row in jsonl(marked, "majority")}
    assert rows == {"sku-1": SONY_SPANS, "sku-3": []}


def test_raw_gives_every_answer_with_its_annotator(marked):
    rows = [(row["external_id"], row["annotator"], row["spans"]) for row in jsonl(marked, "raw")]
    assert rows == [
        ("sku-1", "ann1", SONY_SPANS),
        ("sku-1", "ann2", SONY_SPANS),
        ("sku-2", "ann1", [{"start": 0, "end": 5, "token_start": 0, "token_end": 0, "label": "BRAND"}]),
        ("sku-2", "ann2", []),
        ("sku-3", "ann1", []),
    ]


def test_a_gold_value_is_final_however_the_answers_went(marked):
    task = span_task(marked, "sku-2")
    task.is_gold, task.gold_value = True, answer_value_intern(task=task, value=[[0, 0, type_id(marked, "BRAND")]])
    task.save()
    rows = {row["external_id"]: (row["gold"], row["spans"]) for row in jsonl(marked)}
    assert rows["sku-2"] == (True, [{"start": 0, "end": 5, "token_start": 0, "token_end": 0, "label": "BRAND"}])


def test_a_flag_without_spans_is_a_row_without_spans_only_when_flags_are_asked_for(marked):
    annotation_submit(task=span_task(marked, "sku-3"), user=annotator(marked, "ann2"), label=None, flagged=True)
    assert [row["external_id"] for row in jsonl(marked, "raw")] == ["sku-1", "sku-1", "sku-2", "sku-2", "sku-3"]
    flagged = [row for row in jsonl(marked, "raw", include_flagged=True) if row["flagged"]]
    assert [(row["external_id"], row["annotator"], row["spans"]) for row in flagged] == [("sku-3", "ann2", None)]


def test_prodigy_lines_carry_tokens_spans_and_the_product_in_meta(marked):
    (line,) = exported(marked, "prodigy").splitlines()
    example = json.loads(line)
    assert (example["text"], example["spans"], example["answer"]) == (SONY, SONY_SPANS, "accept")
    assert [token["text"] for token in example["tokens"]] == [token.text for token in tokenize(SONY)]
    assert example["meta"]["external_id"] == "sku-1"


def test_prodigy_raw_names_each_annotator(marked):
    examples = [json.loads(line) for line in exported(marked, "prodigy", "raw").splitlines()]
    assert [(e["meta"]["external_id"], e["_annotator_id"]) for e in examples][:2] == [("sku-1", "ann1"),
                                                                                     ("sku-1", "ann2")]


def test_conll_tags_each_token_in_iob(marked):
    lines = exported(marked, "conll", "majority").decode().split("\n")
    tokens = [token.text for token in tokenize(SONY)]
    tags = ["B-BRAND", *["O"] * (len(tokens) - 2), "B-COLOR"]
    bosch = [token.text for token in tokenize(TITLES[2][1])]
    expected = [f"{t}\t{tag}" for t, tag in zip(tokens, tags, strict=True)] + [""]
    assert lines == expected + [f"{t}\tO" for t in bosch] + ["", ""]


def test_labelstudio_results_are_labels_over_the_text(marked):
    (task,) = json.loads(exported(marked, "labelstudio_spans"))
    assert task["data"]["text"] == SONY and task["data"]["external_id"] == "sku-1"
    values = [result["value"] for result in task["annotations"][0]["result"]]
    assert values == [{"start": 0, "end": 4, "text": "Sony", "labels": ["BRAND"]},
                      {"start": len(SONY) - 5, "end": len(SONY), "text": "Black", "labels": ["COLOR"]}]


def test_spacy_ner_docs_hold_the_spans_as_ents_and_sc_spans(marked):
    docs = list(DocBin().from_bytes(exported(marked, "spacy_ner", "majority")).get_docs(Vocab()))
    assert [doc.text for doc in docs] == [SONY, TITLES[2][1]]
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Sony", "BRAND"), ("Black", "COLOR")]
    assert [(s.text, s.label_) for s in docs[0].spans["sc"]] == [("Sony", "BRAND"), ("Black", "COLOR")]
    assert docs[1].ents == ()


def test_csv_writes_the_spans_as_json(marked):
    (row,) = csv.DictReader(io.StringIO(exported(marked, "csv").decode()))
    assert (row["external_id"], row["text"], json.loads(row["spans"])) == ("sku-1", SONY, SONY_SPANS)


@pytest.mark.parametrize("fmt", ["spacy_ner", "conll"])
def test_formats_of_one_answer_per_title_refuse_raw(marked, fmt):
    with pytest.raises(ApplicationError, match="one answer per title"):
        export_params_clean(dataset=marked, fmt=fmt, policy="raw")


@pytest.mark.parametrize("fmt", ["spacy", "parquet", "qrels"])
def test_a_span_dataset_refuses_formats_without_spans(marked, fmt):
    with pytest.raises(ApplicationError, match="cannot be exported as"):
        export_params_clean(dataset=marked, fmt=fmt, policy="final")


def test_a_split_keeps_every_answer_of_a_product_in_one_part(marked):
    rows = jsonl(marked, "raw", split="0.34,0.33,0.33", seed=3)
    parts = {}
    for row in rows:
        parts.setdefault(row["external_id"], set()).add(row["split"])
    assert all(len(names) == 1 for names in parts.values())
    assert {name for names in parts.values() for name in names} == {"train", "dev", "test"}


def test_the_export_command_writes_a_span_format(marked, tmp_path):
    out = tmp_path / "spans.conll"
    call_command("export_dataset", dataset=str(marked.pk), format="conll", policy="majority", out=str(out),
                 stdout=io.StringIO())
    assert out.read_text().startswith("Sony\tB-BRAND\n")


def test_the_api_queues_a_span_export_whose_download_is_the_prodigy_file(marked):
    api = APIClient()
    api.force_authenticate(marked.memberships.get(role=Role.LEAD).user)
    created = api.post(reverse("api-export-list", args=[marked.pk]), {"format": "prodigy"}, format="json")
    assert created.status_code == 202, created.json()
    export = export_run(export_id=created.json()["id"])
    download = api.get(reverse("api-export-download", args=[export.pk]))
    assert download.status_code == 200 and export.filename.endswith(".prodigy.jsonl")
    (example,) = [json.loads(line) for line in b"".join(download.streaming_content).splitlines()]
    assert (example["meta"]["external_id"], example["spans"]) == ("sku-1", SONY_SPANS)


def test_the_api_refuses_a_format_the_kind_does_not_offer(marked):
    api = APIClient()
    api.force_authenticate(marked.memberships.get(role=Role.LEAD).user)
    refused = api.post(reverse("api-export-list", args=[marked.pk]), {"format": "parquet"}, format="json")
    assert refused.status_code == 400 and "spacy_ner" in str(refused.json())


def test_the_export_page_offers_the_span_formats_and_queues_one(marked, client):
    client.force_login(marked.memberships.get(role=Role.LEAD).user)
    url = reverse("workspace:exports", args=[marked.pk])
    page = client.get(url).content.decode()
    assert 'value="spacy_ner"' in page and 'value="conll"' in page and 'value="parquet"' not in page
    response = client.post(url, {"format": "spacy_ner", "policy": "majority"})
    assert response.status_code == 302
    export = export_run(export_id=marked.exports.get().pk)
    assert (export.status, export.row_count, export.filename.endswith(".ner.spacy")) == ("succeeded", 2, True)


def test_a_dataset_marking_descriptions_exports_the_text_as_marked():
    dataset = span_dataset(name="Long", span_description=True)
    task = span_task(dataset, "sku-3")
    task.product.description = "Stainless steel, 60 cm"
    task.product.save()
    text = "Bosch Serie 4 Dishwasher Silver\nStainless steel, 60 cm"
    assert [token.text for token in tokenize(text)][5] == "\n"
    mark(dataset, "sku-3", "ann1", [(0, 0, "BRAND"), (6, 6, "MATERIAL")])
    rows = {row["external_id"]: row for row in jsonl(dataset)}
    assert rows["sku-3"]["text"] == text
    assert rows["sku-3"]["spans"][1] == {"start": 32, "end": 41, "token_start": 6, "token_end": 6, "label": "MATERIAL"}
