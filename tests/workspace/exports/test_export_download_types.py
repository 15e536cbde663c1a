"""A download names its format's media type, the same on every machine (no guess from the file's extension)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from workspace.services.exports import export_create, export_run


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("jsonl", "application/jsonl; charset=utf-8"),
        ("json", "application/json"),
        ("labelstudio", "application/json"),
        ("parquet", "application/vnd.apache.parquet"),
        ("spacy", "application/octet-stream"),
    ],
)
def test_download_is_served_as_its_formats_media_type(voted, fmt, media_type):
    api = APIClient()
    api.force_authenticate(voted.memberships.get(user__username="lead").user)
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt=fmt, policy="final").pk)
    response = api.get(reverse("api-export-download", args=[export.pk]))
    assert (response.status_code, response["Content-Type"]) == (200, media_type)
