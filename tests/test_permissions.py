"""Scoping: another dataset is a 404 in pages and API; an annotator cannot import or manage."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import DatasetFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_datasets():
    a, b = DatasetFactory(name="A"), DatasetFactory(name="B")
    TaskFactory(dataset=b)
    return a, b, member(a, "ann")


@pytest.mark.parametrize(
    "name",
    ["datasets:detail", "labeling:annotate", "labeling:label-search"],
)
def test_pages_of_another_dataset_are_404(client, two_datasets, name):
    _, b, ann = two_datasets
    client.force_login(ann)
    assert client.get(reverse(name, args=[b.pk])).status_code == 404


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "api-dataset-detail"),
        ("get", "api-label-list"),
        ("post", "api-task-next"),
        ("post", "api-task-undo"),
        ("get", "api-import-list"),
        ("get", "api-dataset-progress"),
    ],
)
def test_api_of_another_dataset_is_404(two_datasets, method, name):
    _, b, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    response = getattr(api, method)(reverse(name, args=[b.pk]))
    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_task_of_another_dataset_is_404_on_submit(two_datasets):
    _, b, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    task = b.tasks.first()
    assert api.post(reverse("api-task-submit", args=[task.pk]), {"flagged": True}).status_code == 404


def test_the_dataset_list_shows_only_memberships(two_datasets):
    a, _, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    assert [d["id"] for d in api.get(reverse("api-dataset-list")).json()["results"]] == [a.pk]


def test_an_annotator_cannot_import(two_datasets):
    a, _, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    upload = SimpleUploadedFile("p.csv", b"id,title\n1,x\n", content_type="text/csv")
    response = api.post(reverse("api-import-list", args=[a.pk]), {"kind": "products", "file": upload})
    assert response.status_code == 403
    assert not a.import_jobs.exists()


def test_an_annotator_cannot_import_from_the_page(client, two_datasets):
    a, _, ann = two_datasets
    client.force_login(ann)
    upload = SimpleUploadedFile("p.csv", b"id,title\n1,x\n", content_type="text/csv")
    assert (
        client.post(reverse("datasets:import-upload", args=[a.pk]), {"kind": "products", "file": upload}).status_code
        == 403
    )


def test_an_annotator_cannot_change_settings_or_members(two_datasets):
    a, _, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    assert api.patch(reverse("api-dataset-detail", args=[a.pk]), {"overlap": 3}).status_code == 403
    assert api.post(reverse("api-member-list", args=[a.pk]), {"username": "ann", "role": "lead"}).status_code == 403


def test_a_lead_can_manage_members(two_datasets):
    a, _, _ = two_datasets
    lead = member(a, "lead", Role.LEAD)
    member(DatasetFactory(), "newcomer")
    api = APIClient()
    api.force_authenticate(lead)
    response = api.post(reverse("api-member-list", args=[a.pk]), {"username": "newcomer", "role": "annotator"})
    assert response.status_code == 201


def test_anonymous_requests_are_refused(two_datasets, client):
    a, _, _ = two_datasets
    assert APIClient().get(reverse("api-dataset-detail", args=[a.pk])).status_code in (401, 403)
    assert client.get(reverse("datasets:detail", args=[a.pk])).status_code == 302
