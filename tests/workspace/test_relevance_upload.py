"""Queries and judgments files on the dataset page and through the imports API: offered, and accepted, for
relevance datasets only, and started at once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import DatasetFactory, ProductFactory, UserFactory, member
from workspace.models import ImportKind
from workspace.services.datasets import dataset_create
from workspace.services.imports import import_job_run

pytestmark = pytest.mark.django_db

QUERIES = b"query_id,query\nq1,desk lamp\n"
JUDGMENTS = b"query_id,query,product_id,grade\nq1,desk lamp,p1,E\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dataset():
    dataset = dataset_create(user=UserFactory(username="owner"), name="Search", task_type="relevance")
    ProductFactory(dataset=dataset, external_id="p1")
    return dataset


def upload_choices(client, dataset) -> str:
    page = client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode()
    return page[page.index('name="kind"') : page.index("</select>", page.index('name="kind"'))]


def test_the_upload_form_offers_queries_and_judgments_to_a_relevance_dataset_only(client, dataset):
    catalog = DatasetFactory()
    client.force_login(member(dataset, "lead", Role.LEAD))
    member(catalog, "lead", Role.LEAD)
    offered = upload_choices(client, dataset)
    assert f'value="{ImportKind.QUERIES}"' in offered and f'value="{ImportKind.JUDGMENTS}"' in offered
    assert f'value="{ImportKind.PAIRS}"' not in offered and f'value="{ImportKind.TAXONOMY}"' not in offered
    assert f'value="{ImportKind.QUERIES}"' not in upload_choices(client, catalog)


@pytest.mark.parametrize("kind, content", [(ImportKind.QUERIES, QUERIES), (ImportKind.JUDGMENTS, JUDGMENTS)])
def test_a_file_uploaded_on_the_page_starts_at_once_and_lands(client, dataset, kind, content):
    client.force_login(member(dataset, "lead", Role.LEAD))
    upload = SimpleUploadedFile(f"{kind}.csv", content)
    response = client.post(reverse("workspace:import-upload", args=[dataset.pk]), {"kind": kind, "file": upload})
    job = dataset.import_jobs.get()
    assert response["Location"] == reverse("workspace:import-detail", args=[job.pk])
    assert (job.kind, job.status) == (kind, "queued")
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_count, job.error_count) == ("succeeded", 1, 0)
    assert f"1 {kind} created" in client.get(response["Location"]).content.decode()


def test_the_imports_api_takes_queries_and_judgments_for_a_relevance_dataset_and_refuses_them_elsewhere(dataset):
    catalog = DatasetFactory()
    api = APIClient()
    api.force_authenticate(member(dataset, "lead", Role.LEAD))
    member(catalog, "lead", Role.LEAD)
    url = reverse("api-import-list", args=[dataset.pk])
    for kind, content in ((ImportKind.QUERIES, QUERIES), (ImportKind.JUDGMENTS, JUDGMENTS)):
        accepted = api.post(url, {"kind": kind, "file": SimpleUploadedFile(f"{kind}.csv", content)})
        assert (accepted.status_code, accepted.json()["kind"], accepted.json()["status"]) == (202, kind, "queued")
    judged = import_job_run(job_id=accepted.json()["id"])
    detail = api.get(reverse("api-import-detail", args=[judged.pk])).json()
    assert (detail["outcome"], detail["created_count"], detail["label_count"]) == ("succeeded", 1, 1)
    refused = api.post(
        reverse("api-import-list", args=[catalog.pk]),
        {"kind": "queries", "file": SimpleUploadedFile("q.csv", QUERIES)},
    )
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("A queries file goes into a search relevance dataset")
