"""An import through the API runs in a real Celery worker, over the configured broker (Redis in CI)."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Product
from tests.conftest import wait_until_finished
from tests.factories import DatasetFactory, member
from workspace.models import ImportJob


@pytest.mark.worker
def test_an_api_import_is_run_by_the_worker(celery_worker):
    dataset = DatasetFactory()
    api = APIClient()
    api.force_authenticate(member(dataset, "lead", "lead"))
    upload = SimpleUploadedFile("p.csv", b"id,title\nW1,Walnut desk\nW2,\n", content_type="text/csv")
    response = api.post(reverse("api-import-list", args=[dataset.pk]), {"kind": "products", "file": upload})
    assert response.status_code == 202

    job = ImportJob.objects.get(pk=response.json()["id"])
    wait_until_finished(job)
    assert (job.status, job.created_count, job.error_count) == ("succeeded", 1, 1)
    assert Product.objects.get(dataset=dataset).title == "Walnut desk"
    progress = api.get(reverse("api-import-detail", args=[job.pk])).json()
    assert progress["progress"] == 1.0
    # Which worker ran it: here the thread's worker in this process (worker processes give their node name,
    # tests/jobs/test_scale_out.py).
    assert progress["worker"].endswith(f" pid {os.getpid()}")
