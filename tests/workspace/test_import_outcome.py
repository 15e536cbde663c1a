"""An import that rejected rows reads as such on its page and in the API; malformed uploads are refused, never a 500."""

import os
import random
import socket

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import DatasetFactory, member
from workspace.models import ImportJob, ImportKind, ImportStatus
from workspace.services.imports import import_job_create, import_job_run

pytestmark = pytest.mark.django_db

DEEP_JSON = b"[" * 10_000 + b"]" * 10_000


@pytest.fixture
def dataset():
    return DatasetFactory()


@pytest.fixture
def lead(dataset):
    return member(dataset, "lead", Role.LEAD)


@pytest.fixture
def api(lead) -> APIClient:
    client = APIClient()
    client.force_authenticate(lead)
    return client


def finished(dataset, content: bytes) -> ImportJob:
    job = import_job_create(
        dataset=dataset, user=None, kind=ImportKind.PRODUCTS, file=ContentFile(content, name="p.csv")
    )
    return import_job_run(job_id=job.pk)


def test_the_api_reads_an_import_with_rejected_rows_as_such(api, dataset):
    job = finished(dataset, b"id,title\n1,Lamp\n2,\n")
    data = api.get(reverse("api-import-detail", args=[job.pk])).json()
    assert (data["status"], data["outcome"]) == ("succeeded", "succeeded_with_rejections")
    assert data["outcome_display"] == "Finished with 1 rejected row"
    assert (data["lines_read"], data["lines_skipped"]) == (3, 1)


def test_the_api_reads_a_clean_import_as_a_success(api, dataset):
    job = finished(dataset, b"id,title\n1,Lamp\n")
    data = api.get(reverse("api-import-detail", args=[job.pk])).json()
    assert (data["outcome"], data["outcome_display"]) == ("succeeded", "Succeeded")


def test_the_dataset_page_lists_an_import_with_rejected_rows_as_such(client, lead, dataset):
    finished(dataset, b"id,title\n1,Lamp\n2,\n")
    client.force_login(lead)
    assert "Finished with 1 rejected row" in client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode()


def test_the_page_warns_of_rejected_rows_and_links_the_report(client, lead, dataset):
    job = finished(dataset, b"id,title\n1,Lamp\n2,\n3,\n")
    client.force_login(lead)
    html = client.get(reverse("workspace:import-detail", args=[job.pk])).content.decode()
    assert 'class="warning" data-outcome="succeeded_with_rejections"' in html
    assert "Finished with 2 rejected rows" in html
    assert reverse("workspace:import-errors", args=[job.pk]) in html


def test_the_page_of_a_clean_import_shows_no_warning(client, lead, dataset):
    job = finished(dataset, b"id,title\n1,Lamp\n")
    client.force_login(lead)
    html = client.get(reverse("workspace:import-detail", args=[job.pk])).content.decode()
    assert 'class="warning"' not in html and 'data-outcome="succeeded"' in html


def test_the_downloaded_report_gives_line_ranges(client, lead, dataset):
    job = finished(dataset, b'id,title\n1,Lamp\n2,"Desk\n3,Chair\n')
    client.force_login(lead)
    response = client.get(reverse("workspace:import-errors", args=[job.pk]))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "line,last_line,external_id,reason" and lines[1].startswith("3,4,,")


def test_uploading_json_nested_too_deep_is_a_clear_400(api, dataset):
    upload = SimpleUploadedFile("feed.json", DEEP_JSON)
    response = api.post(reverse("api-import-list", args=[dataset.pk]), {"kind": "products", "file": upload})
    assert response.status_code == 400
    assert "more than 64 levels deep" in response.json()["detail"]
    assert not dataset.import_jobs.exists()


def test_uploading_json_nested_too_deep_on_the_page_is_refused_with_a_message(client, lead, dataset):
    client.force_login(lead)
    upload = SimpleUploadedFile("feed.json", DEEP_JSON)
    response = client.post(reverse("workspace:import-upload", args=[dataset.pk]), {"kind": "products", "file": upload})
    assert response.status_code == 302 and not dataset.import_jobs.exists()
    page = client.get(response["Location"]).content.decode()
    assert "more than 64 levels deep" in page


def test_a_waiting_draft_with_too_deep_json_gets_a_message_on_its_mapping_page(client, lead, dataset):
    # Stored before uploads were checked for depth: its mapping page must still answer.
    job = ImportJob.objects.create(dataset=dataset, kind=ImportKind.PRODUCTS, status=ImportStatus.DRAFT)
    job.file.save("feed.json", ContentFile(DEEP_JSON))
    job.filename = "feed.json"
    job.save()
    client.force_login(lead)
    response = client.get(reverse("workspace:import-mapping", args=[job.pk]))
    assert response.status_code == 302
    assert "levels deep" in client.get(response["Location"]).content.decode()


def test_a_stored_import_of_too_deep_json_fails_with_the_reason_in_the_worker(dataset):
    job = ImportJob.objects.create(
        dataset=dataset, kind=ImportKind.PRODUCTS, filename="feed.json", options={"format": "json"}
    )
    job.file.save("feed.json", ContentFile(DEEP_JSON))
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and "levels deep" in job.message


def test_uploading_binary_bytes_without_nul_is_refused_in_plain_words(api, dataset):
    blob = bytes(byte for byte in random.Random(5).randbytes(20_000) if byte)
    upload = SimpleUploadedFile("products.csv", blob)
    response = api.post(reverse("api-import-list", args=[dataset.pk]), {"kind": "products", "file": upload})
    assert response.status_code == 400
    assert response.json()["detail"] == "This file contains binary data (control characters), not CSV, JSON or JSONL."


def test_the_page_says_which_worker_ran_the_import(client, lead, dataset):
    job = finished(dataset, b"id,title\n1,Lamp\n")
    assert job.worker == f"{socket.gethostname()} pid {os.getpid()}"  # outside a Celery task: this process
    client.force_login(lead)
    html = client.get(reverse("workspace:import-detail", args=[job.pk])).content.decode()
    assert f"on {job.worker}</span>" in html
