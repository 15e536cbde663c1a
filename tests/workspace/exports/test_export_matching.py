"""Exports of a matching dataset: pairs in the benchmark layout (left_*, right_*, label 1/0) in every format the
kind offers, under the same label policies, splits and snapshots as categorization."""

import csv
import io
import json
from collections import Counter
from decimal import Decimal
from io import StringIO

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.exporters import CONTENT_TYPES, EXTENSIONS
from datasets.models import Dataset
from labeling.imports import imported_answers_write
from labeling.kinds import KINDS
from labeling.models import Task
from tests.factories import DatasetFactory, MatchingDatasetFactory, ProductFactory, pair_task
from tests.workspace.exports.conftest import answer, review
from workspace.models import Export, ExportFormat
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_create, export_run, export_write

pytestmark = pytest.mark.django_db

SIDE = ["id", "title", "description", "brand", "price", "currency", "image_url", "url"]
HEADER = [
    *(f"left_{name}" for name in SIDE),
    *(f"right_{name}" for name in SIDE),
    "label",
    "split",
    "gold",
    "votes",
    "agreement",
    "left_attributes",
    "right_attributes",
    "attributes",
]


def offer(dataset: Dataset, external_id: str, title: str, **fields: object):
    return ProductFactory(
        dataset=dataset,
        external_id=external_id,
        title=title,
        brand=fields.pop("brand", "Vertex"),
        price=fields.pop("price", Decimal("799.00")),
        currency="EUR",
        description=f"About {title}",
        image_url=f"https://img.example/{external_id}.jpg",
        url=f"https://shop.example/{external_id}",
        attributes=fields.pop("attributes", {"ram": "16 GB"}),
    )


@pytest.fixture
def pairs(db: None) -> Dataset:
    """Overlap 2, six pairs covering what a policy decides:

    AB agreed match (its imported split "train"); CD agreed no match; AC a tie (match, no match); BD a tie reviewed
    as no match; EF a gold match one annotator called no match; EA a match and an unsure (a flag).
    """
    dataset = MatchingDatasetFactory(overlap=2)
    a, b, c, d, e, f = (
        offer(dataset, "a", "Vertex Book 14 16GB"),
        offer(dataset, "b", "VERTEX Book14 16 GB", brand="", price=None, attributes={}),
        offer(dataset, "c", "Vertex Book 16 32GB", price=Decimal("999.50")),
        offer(dataset, "d", "=cmd Book 16 32 GB"),
        offer(dataset, "e", "Nimbus Phone 5"),
        offer(dataset, "f", "Nimbus Phone 5 (2023)"),
    )
    ab = pair_task(dataset, a, b, attributes={"split": "train", "source": "wdc"})
    cd, ac, bd, ef, ea = (pair_task(dataset, *pair) for pair in ((c, d), (a, c), (b, d), (e, f), (e, a)))
    for task, first, second in ((ab, "match", "match"), (cd, "no match", "no match"), (ac, "match", "no match")):
        answer(task, "ann1", first)
        answer(task, "ann2", second)
    answer(bd, "ann1", "match")
    answer(bd, "ann2", "no match")
    review(bd, "no match")
    answer(ef, "ann1", "no match")
    Task.objects.filter(pk=ef.pk).update(is_gold=True, gold_label=dataset.labels.get(code="1"))
    answer(ea, "ann1", "match")
    answer(ea, "ann2", None, flagged=True)
    return dataset


def exported(dataset: Dataset, fmt: str = "jsonl", policy: str = "final", **options) -> bytes:
    out = io.BytesIO()
    params = export_params_clean(fmt=fmt, policy=policy, options=options, dataset=dataset)
    export_write(dataset=dataset, params=params, out=out)
    return out.getvalue()


def jsonl(dataset: Dataset, policy: str = "final", **options) -> list[dict]:
    return [json.loads(line) for line in exported(dataset, "jsonl", policy, **options).splitlines()]


def labels(rows: list[dict]) -> dict[str, int]:
    return {f"{row['left_id']}{row['right_id']}": row["label"] for row in rows}


# -- rows and policies -------------------------------------------------------------------------------


def test_a_pair_row_has_both_offers_the_label_as_1_or_0_and_the_pairs_own_attributes(pairs):
    row = jsonl(pairs)[0]
    assert {key: row[key] for key in ("left_id", "left_title", "left_brand", "left_price", "left_currency")} == {
        "left_id": "a",
        "left_title": "Vertex Book 14 16GB",
        "left_brand": "Vertex",
        "left_price": "799.00",
        "left_currency": "EUR",
    }
    assert (row["left_description"], row["left_image_url"], row["left_url"]) == (
        "About Vertex Book 14 16GB",
        "https://img.example/a.jpg",
        "https://shop.example/a",
    )
    assert (row["right_id"], row["right_title"], row["right_brand"], row["right_price"]) == (
        "b",
        "VERTEX Book14 16 GB",
        "",
        None,
    )
    assert (row["label"], row["gold"], row["votes"], row["agreement"]) == (1, False, 2, 1.0)
    assert (row["left_attributes"], row["right_attributes"]) == ({"ram": "16 GB"}, {})
    # The pair's imported split stays among its attributes; the export's own split column is empty without a split.
    assert (row["attributes"], row["split"]) == ({"source": "wdc", "split": "train"}, None)


def test_final_exports_agreed_reviewed_and_gold_pairs_and_no_tie(pairs):
    assert labels(jsonl(pairs, "final")) == {"ab": 1, "cd": 0, "bd": 0, "ef": 1}


def test_majority_leaves_a_tie_out_and_takes_a_decision_over_the_votes(pairs):
    rows = {f"{row['left_id']}{row['right_id']}": row for row in jsonl(pairs, "majority", min_agreement=0.5)}
    assert {key: row["label"] for key, row in rows.items()} == {"ab": 1, "cd": 0, "bd": 0, "ef": 1}
    # The gold label beats the annotator who said no match; the review beats the tie.
    assert (rows["ef"]["gold"], rows["ef"]["label"], rows["bd"]["label"]) == (True, 1, 0)


def test_include_flagged_adds_the_unsure_pair_marked(pairs):
    rows = jsonl(pairs, "majority", include_flagged=True)
    assert labels(rows)["ea"] == 1
    assert {f"{row['left_id']}{row['right_id']}": row["flagged"] for row in rows}["ea"] is True


def test_raw_rows_are_each_answer_with_its_annotator_or_import_source(pairs):
    ab = Task.objects.filter(dataset=pairs).order_by("pk").first()
    imported_answers_write(dataset=pairs, answers={ab.pk: pairs.labels.get(code="0")}, source_name="wdc-gold")
    rows = jsonl(pairs, "raw")
    assert [(row["left_id"] + row["right_id"], row["annotator"], row["label"]) for row in rows[:3]] == [
        ("ab", "ann1", 1),
        ("ab", "ann2", 1),
        ("ab", "wdc-gold", 0),
    ]
    assert rows[2]["source"] == "import"
    # The unsure answer is a flag without a label: a row only when flagged answers are asked for.
    assert ("ea", "ann2") not in {(row["left_id"] + row["right_id"], row["annotator"]) for row in rows}
    flagged = [row for row in jsonl(pairs, "raw", include_flagged=True) if row["flagged"]]
    assert [(row["annotator"], row["label"]) for row in flagged] == [("ann2", None)]


def test_a_split_is_stratified_by_label_and_kept_apart_from_the_pairs_split(db):
    dataset = MatchingDatasetFactory()
    for n in range(20):
        task = pair_task(
            dataset,
            offer(dataset, f"l{n}", f"Left {n}"),
            offer(dataset, f"r{n}", f"Right {n}"),
            attributes={"split": "test"},
        )
        answer(task, "ann", "match" if n % 2 else "no match")
    rows = jsonl(dataset, "final", split="0.6,0.2,0.2", seed=1)
    by_part = Counter((row["split"], row["label"]) for row in rows)
    assert by_part == {("train", 1): 6, ("train", 0): 6, ("dev", 1): 2, ("dev", 0): 2, ("test", 1): 2, ("test", 0): 2}
    assert {row["attributes"]["split"] for row in rows} == {"test"}


# -- formats -----------------------------------------------------------------------------------------


def test_csv_has_the_benchmark_columns_in_order(pairs):
    table = list(csv.reader(StringIO(exported(pairs, "csv").decode("utf-8"), newline="")))
    assert table[0] == HEADER
    first = dict(zip(HEADER, table[1], strict=True))
    assert (first["left_id"], first["right_id"], first["label"], first["right_price"]) == ("a", "b", "1", "")
    assert json.loads(first["attributes"]) == {"source": "wdc", "split": "train"}
    assert json.loads(first["right_attributes"]) == {}
    # Formula cells are neutralized on either side, as in product exports.
    assert {row[HEADER.index("right_title")] for row in table[1:]} >= {"'=cmd Book 16 32 GB"}


def test_csv_of_raw_answers_adds_annotator_and_source_before_the_attributes(pairs):
    header = exported(pairs, "csv", "raw", include_flagged=True).decode("utf-8").splitlines()[0].split(",")
    assert header[-6:] == ["annotator", "source", "flagged", "left_attributes", "right_attributes", "attributes"]


def test_json_is_an_array_of_the_jsonl_rows(pairs):
    assert json.loads(exported(pairs, "json")) == jsonl(pairs)


def test_parquet_types_the_label_as_a_number_and_prices_as_decimals(pairs):
    table = pq.read_table(io.BytesIO(exported(pairs, "parquet")))
    assert table.column_names == HEADER
    assert str(table.schema.field("label").type) == "int64"
    assert str(table.schema.field("left_price").type) == "decimal128(14, 2)"
    assert table.column("label").to_pylist() == [1, 0, 0, 1]
    assert table.column("right_price").to_pylist()[:2] == [None, Decimal("799.00")]
    assert json.loads(table.column("attributes").to_pylist()[0]) == {"source": "wdc", "split": "train"}


def test_ditto_writes_one_line_per_labeled_pair(pairs):
    lines = exported(pairs, "ditto").decode("utf-8").splitlines()
    assert len(lines) == 4
    left, right, label = lines[0].split("\t")
    assert left.startswith("COL title VAL Vertex Book 14 16GB COL brand VAL Vertex COL price VAL 799.00 ")
    assert "COL ram VAL 16 GB" in left and "COL id" not in left
    assert right.startswith("COL title VAL VERTEX Book14 16 GB COL currency VAL EUR")
    assert [line.rsplit("\t", 1)[1] for line in lines] == ["1", "0", "0", "1"]
    assert label == "1"


# -- what the kind does not offer --------------------------------------------------------------------


def test_every_format_a_kind_offers_has_a_writer_an_extension_and_a_content_type():
    for kind in KINDS.values():
        assert set(kind.export_formats) <= set(ExportFormat.values) & set(EXTENSIONS) & set(CONTENT_TYPES), kind.name


@pytest.mark.parametrize("fmt", ["spacy", "labelstudio"])
def test_a_format_matching_does_not_offer_is_refused_when_asked(pairs, fmt):
    with pytest.raises(ApplicationError, match=r"A product matching dataset cannot be exported as .*Ditto"):
        export_create(dataset=pairs, user=None, fmt=fmt, policy="final")
    assert not Export.objects.exists()


def test_ditto_is_refused_for_a_categorization_dataset(db):
    with pytest.raises(ApplicationError, match="A product categorization dataset cannot be exported as Ditto"):
        export_create(dataset=DatasetFactory(), user=None, fmt="ditto", policy="final")


def test_ditto_with_a_split_is_refused_as_it_would_lose_the_split(pairs):
    with pytest.raises(ApplicationError, match="Ditto's text format has no split column"):
        export_create(dataset=pairs, user=None, fmt="ditto", policy="final", options={"split": "0.8,0.1,0.1"})


def test_suggestions_are_refused_for_matching(pairs):
    with pytest.raises(ApplicationError, match="Product matching has no model suggestions"):
        export_create(dataset=pairs, user=None, fmt="jsonl", policy="final", options={"include_suggestions": True})


def test_the_api_answers_400_with_the_reason(pairs):
    api = APIClient()
    api.force_authenticate(pairs.memberships.get(user__username="lead").user)
    url = reverse("api-export-list", args=[pairs.pk])
    response = api.post(url, {"format": "spacy", "policy": "final"}, format="json")
    assert response.status_code == 400
    assert "cannot be exported as spaCy" in json.dumps(response.json())
    assert api.post(url, {"format": "ditto", "policy": "final"}, format="json").status_code == 202


def test_the_page_offers_only_the_kinds_formats(pairs, client):
    lead = pairs.memberships.get(user__username="lead").user
    client.force_login(lead)
    page = client.get(reverse("workspace:exports", args=[pairs.pk])).content.decode()
    assert 'value="ditto"' in page and 'value="parquet"' in page
    assert 'value="spacy"' not in page and 'value="labelstudio"' not in page
    assert 'name="include_suggestions"' not in page
    response = client.post(reverse("workspace:exports", args=[pairs.pk]), {"format": "spacy", "policy": "final"})
    assert response.status_code == 400
    assert not Export.objects.exists()


# -- snapshots and the command -----------------------------------------------------------------------


def test_a_ditto_snapshot_is_stored_as_text(pairs):
    export = export_run(export_id=export_create(dataset=pairs, user=None, fmt="ditto", policy="final").pk)
    assert (export.status, export.row_count) == ("succeeded", 4)
    assert export.filename.endswith("-final.txt")
    with export.file.open("rb") as stored:
        assert stored.read().count(b"\n") == 4


def test_the_command_writes_a_csv_of_pairs(pairs, tmp_path):
    out, stdout = tmp_path / "pairs.csv", StringIO()
    call_command("export_dataset", dataset=str(pairs.pk), format="csv", out=str(out), stdout=stdout)
    rows = list(csv.DictReader(StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [(row["left_id"], row["right_id"], row["label"]) for row in rows] == [
        ("a", "b", "1"),
        ("c", "d", "0"),
        ("b", "d", "0"),
        ("e", "f", "1"),
    ]
    assert json.loads(stdout.getvalue())["rows"] == 4
