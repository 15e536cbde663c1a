"""A quality report requested through the API is computed by a real Celery worker (Redis broker in CI)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labeling.models import QualityReport
from tests.conftest import wait_until_finished
from tests.labeling.quality_team import quality_team


@pytest.mark.worker
def test_an_api_quality_report_is_computed_by_the_worker(celery_worker):
    team = quality_team()
    api = APIClient()
    api.force_authenticate(team.lead)
    response = api.post(reverse("api-quality", args=[team.dataset.pk]))
    assert response.status_code == 202

    report = QualityReport.objects.get(pk=response.json()["id"])
    wait_until_finished(report)
    assert report.status == "succeeded"
    body = api.get(reverse("api-quality", args=[team.dataset.pk])).json()
    assert body["id"] == report.pk and body["pending"] is None
    assert body["figures"]["answers"] == 96 and len(body["figures"]["annotators"]) == 4
