"""The exports API: queue a snapshot, list and filter, follow it, download the very bytes it stored."""

import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import DatasetFactory, UserFactory, member
from workspace.models import Export
from workspace.services.exports import export_create, export_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # Stored exports land in a fresh directory: a name left by an earlier run would make storage rename the file.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def lead_api(voted) -> APIClient:
    api = APIClient()
    api.force_authenticate(voted.memberships.get(user__username="lead").user)
    return api


def create(api: APIClient, dataset, **body):
    return api.post(reverse("api-export-list", args=[dataset.pk]), {"format": "jsonl", **body}, format="json")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_create_queues_an_export_with_its_parameters(lead_api, voted):
    response = create(lead_api, voted, policy="majority", min_agreement=0.6, split="0.8,0.1,0.1", seed=7)
    assert response.status_code == 202
    data = response.json()
    summary = (data["status"], data["format"], data["policy"], data["created_by"])
    assert summary == ("queued", "jsonl", "majority", "lead")
    assert data["download_url"] is None
    export = Export.objects.get(pk=data["id"])
    assert (export.params["min_agreement"], export.params["split"], export.params["seed"]) == (0.6, [0.8, 0.1, 0.1], 7)


def test_create_takes_the_split_as_a_list_and_fills_defaults(lead_api, voted):
    response = create(lead_api, voted, split=[0.7, 0.2, 0.1])
    assert response.status_code == 202
    params = response.json()["params"]
    assert (params["policy"], params["split"], params["min_votes"], params["include_flagged"]) == (
        "final",
        [0.7, 0.2, 0.1],
        1,
        False,
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"format": "xml"}, "csv, jsonl"),
        ({"policy": "loudest"}, "final, majority, raw"),
        ({"split": "0.5,0.5"}, "three fractions"),
        ({"split": "0.8,0.3,0.1"}, "add up to 1"),
        ({"split": 0.8}, "split must be"),
        ({"min_agreement": 2}, "min_agreement"),
        ({"seed": -1}, "seed"),
    ],
)
def test_create_refuses_bad_parameters_with_a_json_400_naming_them(lead_api, voted, body, named):
    response = create(lead_api, voted, **body)
    assert response.status_code == 400
    assert named in str(response.json())
    assert not Export.objects.exists()


def test_list_is_newest_first_and_filters_by_status_and_format(lead_api, voted):
    lead = voted.memberships.get(user__username="lead").user
    csv = export_create(dataset=voted, user=lead, fmt="csv", policy="final")
    jsonl = export_create(dataset=voted, user=lead, fmt="jsonl", policy="raw")
    export_run(export_id=csv.pk)
    url = reverse("api-export-list", args=[voted.pk])
    assert [e["id"] for e in lead_api.get(url).json()["results"]] == [jsonl.pk, csv.pk]
    assert [e["id"] for e in lead_api.get(url, {"status": "succeeded"}).json()["results"]] == [csv.pk]
    assert [e["id"] for e in lead_api.get(url, {"format": "jsonl"}).json()["results"]] == [jsonl.pk]
    assert lead_api.get(url, {"format": "csv", "status": "queued"}).json()["results"] == []


def test_list_is_paginated(lead_api, voted):
    for _ in range(3):
        export_create(dataset=voted, user=None, fmt="csv", policy="final")
    data = lead_api.get(reverse("api-export-list", args=[voted.pk]), {"page_size": 2}).json()
    assert (data["count"], len(data["results"]), data["next"] is not None) == (3, 2, True)
    assert data["results"][0]["created_by"] is None


@pytest.mark.parametrize(("name", "allowed"), [("status", "queued, running, succeeded, failed"), ("format", "csv")])
def test_list_refuses_an_unknown_filter_value_naming_the_allowed_ones(lead_api, voted, name, allowed):
    response = lead_api.get(reverse("api-export-list", args=[voted.pk]), {name: "bogus"})
    assert response.status_code == 400
    assert "bogus" in response.json()["detail"]
    assert allowed in response.json()["detail"]


def test_detail_shows_progress_and_an_absolute_download_url_once_ready(lead_api, voted):
    export = export_create(dataset=voted, user=None, fmt="jsonl", policy="final", options={"split": "0.8,0.1,0.1"})
    url = reverse("api-export-detail", args=[export.pk])
    before = lead_api.get(url).json()
    assert (before["progress"], before["download_url"]) == (0.0, None)
    export_run(export_id=export.pk)
    after = lead_api.get(url).json()
    assert (after["status"], after["progress"], after["row_count"]) == ("succeeded", 1.0, 3)
    assert after["download_url"] == f"http://testserver{reverse('api-export-download', args=[export.pk])}"
    assert sum(after["split_counts"][part] for part in ("train", "dev", "test")) == 3


def test_detail_carries_the_split_warnings(lead_api, voted):
    queued = export_create(dataset=voted, user=None, fmt="jsonl", policy="final", options={"split": "0.8,0.1,0.1"})
    export = export_run(export_id=queued.pk)
    detail = lead_api.get(reverse("api-export-detail", args=[export.pk])).json()
    assert detail["split_counts"]["warnings"][1] == "test is empty: 10% of 3 products is 0.3, which rounds to none."


def test_download_before_ready_is_a_409(lead_api, voted):
    export = export_create(dataset=voted, user=None, fmt="csv", policy="final")
    response = lead_api.get(reverse("api-export-download", args=[export.pk]))
    assert response.status_code == 409
    assert response.json() == {"detail": "The export is not ready: queued.", "extra": {}}


def test_download_serves_the_stored_bytes_with_their_sha256(lead_api, voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="jsonl", policy="final").pk)
    response = lead_api.get(reverse("api-export-download", args=[export.pk]))
    assert response.status_code == 200
    body = body_of(response)
    with export.file.open("rb") as stored:
        assert body == stored.read()
    assert hashlib.sha256(body).hexdigest() == export.sha256
    assert response["ETag"] == f'"{export.sha256}"'
    assert int(response["Content-Length"]) == len(body) == export.size_bytes
    assert f'filename="{export.filename}"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")


def test_downloading_twice_gives_identical_bytes(lead_api, voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="parquet", policy="raw").pk)
    url = reverse("api-export-download", args=[export.pk])
    assert body_of(lead_api.get(url)) == body_of(lead_api.get(url))


@pytest.fixture
def queued(voted) -> Export:
    return export_create(dataset=voted, user=None, fmt="csv", policy="final")


def _calls(voted, queued) -> list[tuple[str, str, list[int]]]:
    return [
        ("get", "api-export-list", [voted.pk]),
        ("post", "api-export-list", [voted.pk]),
        ("get", "api-export-detail", [queued.pk]),
        ("get", "api-export-download", [queued.pk]),
    ]


def call(api: APIClient, method: str, name: str, args: list[int]):
    if method == "post":
        return api.post(reverse(name, args=args), {"format": "csv"}, format="json")
    return api.get(reverse(name, args=args))


def test_an_annotator_of_the_dataset_gets_403_everywhere(voted, queued):
    api = APIClient()
    api.force_authenticate(voted.memberships.get(user__username="ann1").user)
    for method, name, args in _calls(voted, queued):
        response = call(api, method, name, args)
        assert response.status_code == 403, name
    assert Export.objects.count() == 1


def test_a_lead_of_another_dataset_gets_404_everywhere(voted, queued):
    api = APIClient()
    api.force_authenticate(member(DatasetFactory(), "elsewhere", Role.LEAD))
    for method, name, args in _calls(voted, queued):
        response = call(api, method, name, args)
        assert response.status_code == 404, name
        assert "detail" in response.json()


def test_anonymous_requests_are_refused(voted, queued):
    api = APIClient()
    for method, name, args in _calls(voted, queued):
        assert call(api, method, name, args).status_code in (401, 403), name


def test_a_superuser_may_download_without_membership(voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="csv", policy="final").pk)
    api = APIClient()
    api.force_authenticate(UserFactory(username="root", is_superuser=True))
    assert api.get(reverse("api-export-download", args=[export.pk])).status_code == 200
