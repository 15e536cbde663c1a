"""Bring labels from Label Studio and take a snapshot out, through the API and a real Celery worker."""

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import wait_until_finished
from tests.factories import DatasetFactory, LabelFactory, member
from workspace.models import Export, ImportJob


@pytest.mark.worker
def test_label_studio_in_and_a_snapshot_out_through_the_worker(celery_worker):
    dataset = DatasetFactory()
    for name in ("Audio", "Shoes"):
        LabelFactory(dataset=dataset, name=name, path=name)
    api = APIClient()
    api.force_authenticate(member(dataset, "lead", "lead"))
    tasks = [
        {"id": n, "data": {"text": f"Item {n}"},
         "annotations": [{"result": [{"type": "choices", "value": {"choices": ["Audio" if n % 2 else "Shoes"]}}]}]}
        for n in range(1, 21)
    ]
    upload = SimpleUploadedFile("project.json", json.dumps(tasks).encode(), content_type="application/json")
    response = api.post(reverse("api-import-list", args=[dataset.pk]), {"kind": "labelstudio", "file": upload})
    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get(pk=response.json()["id"])
    wait_until_finished(job)
    assert (job.status, job.created_count, job.label_count) == ("succeeded", 20, 20), job.message

    response = api.post(
        reverse("api-export-list", args=[dataset.pk]),
        {"format": "csv", "policy": "final", "split": "0.5,0.25,0.25", "seed": 3},
        format="json",
    )
    assert response.status_code == 202, response.json()
    export = Export.objects.get(pk=response.json()["id"])
    wait_until_finished(export)
    assert (export.status, export.row_count) == ("succeeded", 20), export.message
    detail = api.get(reverse("api-export-detail", args=[export.pk])).json()
    assert detail["progress"] == 1.0
    assert detail["split_counts"] == {"train": 10, "dev": 5, "test": 5, "warnings": []}
    body = b"".join(api.get(detail["download_url"]).streaming_content)
    assert hashlib.sha256(body).hexdigest() == export.sha256
    assert body.count(b"\n") == 21
