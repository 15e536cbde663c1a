"""The `predicted` export: every product of a categorization dataset once, its final label or else the prediction of
the model version recorded with the snapshot."""

import csv
import io
import json
from collections import Counter

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from labeling.kinds.categorization import export as categorization_export
from labeling.models import Annotation, Task
from models_app.ml import ModelConfig, load_pipeline, product_text
from models_app.models import ModelVersion
from models_app.services.training import model_version_train, training_request
from tests.factories import MatchingDatasetFactory, member
from workspace.models import Export
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_create, export_run, export_write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # Stored exports and model artifacts land in a fresh directory.
    settings.MEDIA_ROOT = tmp_path / "media"


def train(dataset) -> ModelVersion:
    return model_version_train(version_id=training_request(dataset=dataset, enqueue=False).pk)


def write(dataset, fmt: str = "jsonl", **options) -> bytes:
    params = export_params_clean(fmt=fmt, policy="predicted", options=options, dataset=dataset)
    out = io.BytesIO()
    export_write(dataset=dataset, params=params, out=out)
    return out.getvalue()


def jsonl_rows(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.splitlines()]


def final_labels(dataset) -> dict[str, str]:
    """Each labeled product's title and its (one) answer's label path."""
    answers = Annotation.objects.filter(dataset=dataset).values_list("task__product__title", "label__path")
    return dict(answers)


def predictions(version: ModelVersion, titles: list[str]) -> dict[str, tuple[int, float]]:
    """What the version's own pipeline says of each title: its top label id and probability."""
    with version.artifact.open("rb") as artifact:
        pipeline = load_pipeline(artifact.read())
    fields = ModelConfig.from_dict(version.config).features.fields
    probabilities = pipeline.predict_proba([product_text({"title": title}, fields) for title in titles])
    best = probabilities.argmax(axis=1)
    return {
        title: (int(pipeline.classes_[column]), round(float(probabilities[row, column]), 4))
        for row, (title, column) in enumerate(zip(titles, best, strict=True))
    }


def test_every_product_is_written_once_with_its_final_label_or_the_models_prediction(labeled_catalog):
    version = train(labeled_catalog)
    rows = jsonl_rows(write(labeled_catalog))
    titles = [row["title"] for row in rows]
    assert len(titles) == len(set(titles)) == Task.objects.filter(dataset=labeled_catalog).count() == 36
    final = final_labels(labeled_catalog)
    by_title = {row["title"]: row for row in rows}
    assert {title: row["label"] for title, row in by_title.items() if title in final} == final
    assert {(row["label_source"], row["probability"]) for title, row in by_title.items() if title in final} == {
        ("final", None)
    }
    unlabeled = sorted(set(titles) - set(final))
    assert len(unlabeled) == 12
    expected = predictions(version, unlabeled)
    paths = dict(labeled_catalog.labels.values_list("pk", "path"))
    for title in unlabeled:
        row = by_title[title]
        label_id, probability = expected[title]
        assert (row["label_source"], row["label_id"], row["probability"]) == ("model", label_id, probability)
        assert row["label"] == paths[label_id] and row["votes"] is None
    # The catalog's words are well separated: the model puts the open earbuds among the audio products.
    assert by_title["Brand9 earbuds model 9"]["label"] == "Shop > Audio"


def test_rows_keep_task_order_across_prediction_batches(labeled_catalog, monkeypatch):
    train(labeled_catalog)
    whole = write(labeled_catalog)
    monkeypatch.setattr(categorization_export, "PREDICT_BATCH", 5)
    assert write(labeled_catalog) == whole
    order = list(Task.objects.filter(dataset=labeled_catalog).order_by("pk").values_list("product__title", flat=True))
    assert [row["title"] for row in jsonl_rows(whole)] == order


def test_min_confidence_leaves_out_less_confident_predictions_and_keeps_every_final_label(labeled_catalog):
    train(labeled_catalog)
    every = jsonl_rows(write(labeled_catalog))
    model_probabilities = sorted(row["probability"] for row in every if row["label_source"] == "model")
    threshold = (model_probabilities[0] + model_probabilities[-1]) / 2
    assert model_probabilities[0] < threshold <= model_probabilities[-1]
    kept = jsonl_rows(write(labeled_catalog, min_confidence=threshold))
    expected = [row for row in every if row["label_source"] == "final" or row["probability"] >= threshold]
    assert kept == expected
    assert len(kept) < len(every) and sum(row["label_source"] == "final" for row in kept) == 24


def test_the_snapshot_keeps_its_model_version_after_another_becomes_active(labeled_catalog):
    first = train(labeled_catalog)
    export = export_create(dataset=labeled_catalog, user=None, fmt="jsonl", policy="predicted")
    assert export.params["model_version"] == {"id": first.pk, "number": first.number}
    labeled_catalog.model_config = {"C": 0.01}  # a much flatter model: other probabilities
    labeled_catalog.save()
    second = train(labeled_catalog)
    assert ModelVersion.objects.get(is_active=True, dataset=labeled_catalog) == second
    export = export_run(export_id=export.pk)
    assert export.status == "succeeded", export.message
    with export.file.open("rb") as handle:
        rows = [row for row in jsonl_rows(handle.read()) if row["label_source"] == "model"]
    titles = [row["title"] for row in rows]
    written = {row["title"]: (row["label_id"], row["probability"]) for row in rows}
    assert written == predictions(first, titles) != predictions(second, titles)
    assert export.filename.endswith("-predicted.jsonl")


def test_a_snapshot_whose_model_version_is_gone_fails_saying_so(labeled_catalog):
    version = train(labeled_catalog)
    export = export_create(dataset=labeled_catalog, user=None, fmt="csv", policy="predicted")
    version.delete()
    export = export_run(export_id=export.pk)
    assert export.status == "failed"
    assert export.message == "Model version 1, recorded with this export, is gone: export again with the active model."


def test_no_active_model_is_a_clear_error_when_the_export_is_asked_for(labeled_catalog):
    with pytest.raises(ApplicationError, match="Predicted labels need an active model: train one first"):
        export_create(dataset=labeled_catalog, user=None, fmt="jsonl", policy="predicted")
    assert not Export.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "options", "message"),
    [
        ("jsonl", {"split": "0.8,0.1,0.1"}, "the catalog's output, not a training set: it takes no split"),
        ("spacy", {}, "a table of products: choose one of CSV, JSON Lines, JSON, Parquet"),
        ("jsonl", {"min_confidence": 1}, "min_confidence must be a number from 0"),
        ("jsonl", {"min_confidence": -0.1}, "min_confidence must be a number from 0"),
    ],
)
def test_what_a_predicted_export_cannot_take_is_refused(labeled_catalog, fmt, options, message):
    train(labeled_catalog)
    with pytest.raises(ApplicationError, match=message):
        export_params_clean(fmt=fmt, policy="predicted", options=options, dataset=labeled_catalog)


def test_a_matching_dataset_has_no_predicted_export(db):
    with pytest.raises(ApplicationError, match="A product matching dataset has no predicted export"):
        export_params_clean(fmt="csv", policy="predicted", dataset=MatchingDatasetFactory())


def test_the_tabular_formats_carry_the_source_and_probability_columns_for_this_policy_only(labeled_catalog):
    train(labeled_catalog)
    header = next(csv.reader(io.StringIO(write(labeled_catalog, "csv").decode())))
    assert header[header.index("gold") + 1 : header.index("gold") + 3] == ["label_source", "probability"]
    final = io.BytesIO()
    export_write(dataset=labeled_catalog, params=export_params_clean(fmt="csv", policy="final"), out=final)
    assert "label_source" not in final.getvalue().decode().splitlines()[0]
    table = pq.read_table(io.BytesIO(write(labeled_catalog, "parquet")))
    assert str(table.schema.field("probability").type) == "double"
    probabilities = [p for p in table.column("probability").to_pylist() if p is not None]
    assert len(probabilities) == 12 and all(0 < p <= 1 for p in probabilities)
    assert Counter(table.column("label_source").to_pylist()) == {"final": 24, "model": 12}


def test_the_api_takes_the_policy_and_min_confidence(labeled_catalog):
    version = train(labeled_catalog)
    api = APIClient()
    api.force_authenticate(member(labeled_catalog, "lead", role="lead"))
    url = reverse("api-export-list", args=[labeled_catalog.pk])
    response = api.post(url, {"format": "csv", "policy": "predicted", "min_confidence": 0.6}, format="json")
    assert response.status_code == 202, response.json()
    params = response.json()["params"]
    assert (params["min_confidence"], params["model_version"]) == (0.6, {"id": version.pk, "number": 1})
    refused = api.post(url, {"format": "csv", "policy": "predicted", "split": "0.8,0.1,0.1"}, format="json")
    assert refused.status_code == 400 and "takes no split" in refused.json()["detail"]


def test_the_page_offers_the_policy_to_a_categorization_dataset_only(labeled_catalog, client):
    train(labeled_catalog)
    client.force_login(member(labeled_catalog, "lead", role="lead"))
    url = reverse("workspace:exports", args=[labeled_catalog.pk])
    page = client.get(url).content.decode()
    policy = '<option value="predicted">Final labels, else'
    assert policy in page and 'name="min_confidence"' in page
    form = {"format": "jsonl", "policy": "predicted", "min_agreement": "0.5", "min_votes": "1", "seed": "0"}
    response = client.post(url, form | {"min_confidence": "0.7"}, follow=True)
    export = Export.objects.get(dataset=labeled_catalog)
    assert (export.policy, export.params["min_confidence"]) == ("predicted", 0.7)
    assert "model v1 · probability ≥ 0.7" in response.content.decode()
    refused = client.post(url, form | {"split": "0.8,0.1,0.1"})
    assert refused.status_code == 400 and "takes no split" in refused.content.decode()
    other = MatchingDatasetFactory()
    client.force_login(member(other, "lead2", role="lead"))
    page = client.get(reverse("workspace:exports", args=[other.pk])).content.decode()
    assert policy not in page and 'name="min_confidence"' not in page


def test_the_export_command_writes_a_predicted_export_with_min_confidence(labeled_catalog, tmp_path):
    train(labeled_catalog)
    out = tmp_path / "predicted.jsonl"
    call_command(
        "export_dataset", dataset=str(labeled_catalog.pk), format="jsonl", out=str(out), policy="predicted",
        min_confidence=0.99999, stdout=io.StringIO(),
    )
    rows = jsonl_rows(out.read_bytes())
    assert {row["label_source"] for row in rows} == {"final"} and len(rows) == len(final_labels(labeled_catalog))
