"""The rejected rows of an import that has not finished: a conflict with its state, not bad input."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import DatasetFactory, member
from workspace.models import ImportKind
from workspace.services.imports import import_job_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_errors_of_an_import_not_finished_are_a_409():
    dataset = DatasetFactory()
    lead = member(dataset, "lead", Role.LEAD)
    job = import_job_create(
        dataset=dataset, user=lead, kind=ImportKind.PRODUCTS, file=ContentFile(b"id,title\n", name="a.csv")
    )
    api = APIClient()
    api.force_authenticate(lead)
    response = api.get(reverse("api-import-errors", args=[job.pk]))
    assert response.status_code == 409
    assert response.json()["detail"] == "The import has not finished and has rejected no rows so far."
