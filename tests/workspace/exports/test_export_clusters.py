"""The product clusters export of a matching dataset: one row per product of any pair, with its cluster from labeled
matches only (the default) or from labeled + predicted matches (average linkage of the active matcher's scores, cut
at its threshold)."""

import csv
import io
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.models import Product
from labeling.imports import imported_answers_write
from labeling.models import Task
from models_app.models import ModelVersion, VersionStatus
from tests.factories import DatasetFactory, MatchingDatasetFactory, ProductFactory, member, pair_task
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_create, export_run, export_write

pytestmark = pytest.mark.django_db

HEADER = ["external_id", "title", "cluster_id", "cluster_size", "joined"]


class Catalog:
    """Labeled: A = B, B = C, C != D (the matcher says 0.97 match: people's no wins). Open, scored: D ~ E 0.9,
    E ~ F 0.3 (below the threshold), F ~ G 0.6. G is only in an open pair nobody scored beyond that."""

    def __init__(self) -> None:
        self.dataset = MatchingDatasetFactory()
        self.match = self.dataset.labels.get(code="1")
        self.no_match = self.dataset.labels.get(code="0")
        self.products = {
            name: ProductFactory(dataset=self.dataset, external_id=f"ext-{name}", title=f"Offer {name}")
            for name in "ABCDEFGH"
        }
        p = self.products
        self.ab, self.bc = pair_task(self.dataset, p["A"], p["B"]), pair_task(self.dataset, p["C"], p["B"])
        self.cd = pair_task(self.dataset, p["C"], p["D"], suggestions=self.scored(0.97))
        imported_answers_write(
            dataset=self.dataset,
            answers={self.ab.pk: self.match, self.bc.pk: self.match, self.cd.pk: self.no_match},
            source_name="import",
        )
        pair_task(self.dataset, p["D"], p["E"], suggestions=self.scored(0.9))
        pair_task(self.dataset, p["E"], p["F"], suggestions=self.scored(0.3))
        pair_task(self.dataset, p["G"], p["F"], suggestions=self.scored(0.6))
        # H is a product of the dataset in no pair: not exported.

    def scored(self, p: float) -> list:
        return [[self.match.pk, p], [self.no_match.pk, round(1 - p, 4)]]

    def activate_matcher(self, threshold: float = 0.5) -> ModelVersion:
        return ModelVersion.objects.create(
            dataset=self.dataset, number=1, status=VersionStatus.SUCCEEDED, is_active=True,
            metrics={"threshold": threshold, "f1": 0.9},
        )

    def id(self, name: str) -> int:
        return self.products[name].pk


@pytest.fixture
def catalog(db) -> Catalog:
    return Catalog()


def exported(catalog: Catalog, fmt: str, **options) -> bytes:
    params = export_params_clean(dataset=catalog.dataset, fmt=fmt, policy="final", options=options)
    out = io.BytesIO()
    export_write(dataset=catalog.dataset, params=params, out=out)
    return out.getvalue()


def csv_rows(data: bytes) -> list[dict]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    assert reader.fieldnames == HEADER
    return list(reader)


def test_labeled_clusters_by_default(catalog):
    rows = {row["external_id"]: row for row in csv_rows(exported(catalog, "clusters_csv"))}
    assert sorted(rows) == [f"ext-{name}" for name in "ABCDEFG"]
    a = str(catalog.id("A"))
    assert [(rows[f"ext-{n}"]["cluster_id"], rows[f"ext-{n}"]["cluster_size"]) for n in "ABC"] == [(a, "3")] * 3
    assert all(rows[f"ext-{n}"]["joined"] == "labeled" for n in "ABC")
    for name in "DEFG":  # alone: their own id, size 1, joined by nothing
        row = rows[f"ext-{name}"]
        assert (row["cluster_id"], row["cluster_size"], row["joined"]) == (str(catalog.id(name)), "1", "")
    assert rows["ext-A"]["title"] == "Offer A"


def test_labeled_and_predicted_clusters_at_the_active_matchers_threshold(catalog):
    catalog.activate_matcher(threshold=0.5)
    rows = {row["external_id"]: row for row in map(json.loads, exported(
        catalog, "clusters_jsonl", cluster_matches="predicted"
    ).splitlines())}
    # C != D is labeled: the matcher's 0.97 does not join them. D ~ E joins; E ~ F is below the threshold.
    assert rows["ext-A"]["cluster_id"] == rows["ext-C"]["cluster_id"] == catalog.id("A")
    assert rows["ext-D"]["cluster_id"] == rows["ext-E"]["cluster_id"] == catalog.id("D")
    assert rows["ext-F"]["cluster_id"] == rows["ext-G"]["cluster_id"] == catalog.id("F")
    assert {name: rows[f"ext-{name}"]["joined"] for name in "ABCDEFG"} == {
        "A": "labeled", "B": "labeled", "C": "labeled",
        "D": "predicted", "E": "predicted", "F": "predicted", "G": "predicted",
    }
    assert rows["ext-D"]["cluster_size"] == 2 and rows["ext-A"]["cluster_size"] == 3
    assert set(rows["ext-A"]) == set(HEADER)


def test_the_threshold_is_the_matchers_and_fixed_with_the_snapshot(catalog):
    catalog.activate_matcher(threshold=0.65)
    params = export_params_clean(
        dataset=catalog.dataset, fmt="clusters_csv", policy="final", options={"cluster_matches": "predicted"}
    )
    assert params["cluster_threshold"] == 0.65
    rows = {row["external_id"]: row for row in csv_rows(exported(catalog, "clusters_csv", cluster_matches="predicted"))}
    assert rows["ext-F"]["cluster_size"] == "1"  # 0.6 is below 0.65
    assert rows["ext-E"]["cluster_id"] == str(catalog.id("D"))


def chain(catalog: Catalog, *scores: tuple[str, str, float]) -> dict[str, Product]:
    """More offers X, Y, Z... scored by the matcher as given."""
    names = sorted({name for a, b, _ in scores for name in (a, b)})
    offers = {name: ProductFactory(dataset=catalog.dataset, external_id=f"ext-{name}") for name in names}
    for a, b, p in scores:
        pair_task(catalog.dataset, offers[a], offers[b], suggestions=catalog.scored(p))
    return offers


def test_a_chain_of_predicted_matches_does_not_join_offers_never_compared(catalog):
    # X ~ Y and Y ~ Z match, X and Z were never paired: on average Z matches half of {X, Y}, below 0.5.
    catalog.activate_matcher(threshold=0.5)
    offers = chain(catalog, ("X", "Y", 0.95), ("Y", "Z", 0.9))
    rows = {row["external_id"]: row for row in csv_rows(exported(catalog, "clusters_csv", cluster_matches="predicted"))}
    assert rows["ext-X"]["cluster_id"] == rows["ext-Y"]["cluster_id"] == str(offers["X"].pk)
    assert (rows["ext-Z"]["cluster_id"], rows["ext-Z"]["cluster_size"]) == (str(offers["Z"].pk), "1")


def test_pairs_below_the_threshold_count_in_the_average(catalog):
    # The same chain with X ~ Z scored 0.3: Z's average to {X, Y} is 0.6, and the three are one cluster.
    catalog.activate_matcher(threshold=0.5)
    offers = chain(catalog, ("X", "Y", 0.95), ("Y", "Z", 0.9), ("X", "Z", 0.3))
    rows = {row["external_id"]: row for row in csv_rows(exported(catalog, "clusters_csv", cluster_matches="predicted"))}
    assert {rows[f"ext-{name}"]["cluster_id"] for name in "XYZ"} == {str(offers["X"].pk)}
    assert {rows[f"ext-{name}"]["joined"] for name in "XYZ"} == {"predicted"}


def test_a_resolved_pair_is_never_a_prediction(catalog):
    catalog.activate_matcher(threshold=0.5)
    # The reviewer says D and E differ: the matcher's 0.9 no longer counts.
    low, high = sorted((catalog.id("D"), catalog.id("E")))
    de = Task.objects.get(dataset=catalog.dataset, product_id=low, other_product_id=high)
    imported_answers_write(dataset=catalog.dataset, answers={de.pk: catalog.no_match}, source_name="import")
    rows = {row["external_id"]: row for row in csv_rows(exported(catalog, "clusters_csv", cluster_matches="predicted"))}
    assert rows["ext-D"]["cluster_size"] == rows["ext-E"]["cluster_size"] == "1"


def test_predicted_clusters_need_an_active_matcher(catalog):
    with pytest.raises(ApplicationError, match="need an active matcher"):
        export_create(dataset=catalog.dataset, user=None, fmt="clusters_csv", policy="final",
                      options={"cluster_matches": "predicted"})


@pytest.mark.parametrize(
    ("fmt", "policy", "options", "message"),
    [
        ("clusters_csv", "final", {"cluster_matches": "maybe"}, "Unknown cluster_matches"),
        ("csv", "final", {"cluster_matches": "labeled"}, "product clusters formats only"),
        ("clusters_csv", "raw", {}, "one answer per pair"),
        ("clusters_jsonl", "final", {"split": "0.8,0.1,0.1"}, "no split"),
    ],
)
def test_bad_cluster_parameters_are_refused(catalog, fmt, policy, options, message):
    with pytest.raises(ApplicationError, match=message):
        export_params_clean(dataset=catalog.dataset, fmt=fmt, policy=policy, options=options)


def test_a_categorization_dataset_has_no_cluster_export(db):
    with pytest.raises(ApplicationError, match="cannot be exported as Product clusters"):
        export_create(dataset=DatasetFactory(), user=None, fmt="clusters_csv", policy="final")


def test_a_cluster_snapshot_is_stored_with_its_own_name(catalog):
    export = export_run(export_id=export_create(
        dataset=catalog.dataset, user=None, fmt="clusters_csv", policy="majority"
    ).pk)
    assert export.status == "succeeded", export.message
    assert export.row_count == 7 and export.filename.endswith(".clusters.csv")
    assert export.params["cluster_matches"] == "labeled" and "cluster_threshold" not in export.params
    with export.file.open("rb") as handle:
        assert len(csv_rows(handle.read())) == 7


def test_the_api_offers_the_cluster_formats(catalog):
    api = APIClient()
    api.force_authenticate(member(catalog.dataset, "lead", role="lead"))
    url = reverse("api-export-list", args=[catalog.dataset.pk])
    body = {"format": "clusters_jsonl", "policy": "final", "cluster_matches": "labeled"}
    response = api.post(url, body, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["params"]["cluster_matches"] == "labeled"
    refused = api.post(url, {"format": "clusters_csv", "cluster_matches": "predicted"}, format="json")
    assert refused.status_code == 400 and "active matcher" in refused.json()["detail"]
    catalog.activate_matcher(threshold=0.5)
    response = api.post(url, {"format": "clusters_csv", "cluster_matches": "predicted"}, format="json")
    assert response.status_code == 202 and response.json()["params"]["cluster_threshold"] == 0.5


def test_the_page_offers_the_cluster_formats_to_a_matching_dataset_only(catalog, client):
    lead = member(catalog.dataset, "lead", role="lead")
    client.force_login(lead)
    page = client.get(reverse("workspace:exports", args=[catalog.dataset.pk])).content.decode()
    assert 'value="clusters_csv"' in page and 'value="clusters_jsonl"' in page and 'name="cluster_matches"' in page
    response = client.post(
        reverse("workspace:exports", args=[catalog.dataset.pk]),
        {"format": "clusters_csv", "policy": "final", "cluster_matches": "predicted"},
        follow=True,
    )
    assert "active matcher" in response.content.decode()
    catalog.activate_matcher(threshold=0.5)
    response = client.post(
        reverse("workspace:exports", args=[catalog.dataset.pk]),
        {"format": "clusters_csv", "policy": "final", "cluster_matches": "predicted"},
        follow=True,
    )
    assert "Product clusters (CSV)" in response.content.decode()
    assert "labeled + predicted matches (average p ≥ 0.5)" in response.content.decode()
    other = DatasetFactory()
    member(other, "lead2", role="lead")
    client.force_login(other.memberships.get().user)
    page = client.get(reverse("workspace:exports", args=[other.pk])).content.decode()
    assert "clusters_csv" not in page and 'name="cluster_matches"' not in page
