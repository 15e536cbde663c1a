"""Candidate runs asked for through the API and run by a real Celery worker: a matching and a relevance one."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labeling.kinds.relevance.models import QueryResult
from labeling.models import Task
from tests.conftest import wait_until_finished
from tests.factories import member
from tests.workspace.candidates.conftest import build_catalog
from tests.workspace.candidates.relevance import search_dataset
from workspace.models import CandidateRun


@pytest.mark.worker
def test_a_run_through_the_api_and_the_worker(celery_worker):
    shops = build_catalog()
    api = APIClient()
    api.force_authenticate(member(shops.dataset, "lead", role="lead"))
    response = api.post(
        reverse("api-candidate-list", args=[shops.dataset.pk]),
        {"k": 3, "source_field": "shop", "skip_same_source": True},
        format="json",
    )
    assert response.status_code == 202, response.json()
    run = CandidateRun.objects.get(pk=response.json()["id"])
    wait_until_finished(run)
    assert run.status == "succeeded", run.message
    assert run.report["new_pairs"] == Task.objects.filter(dataset=shops.dataset).count() > 20


@pytest.mark.worker
def test_a_relevance_run_through_the_api_and_the_worker(celery_worker):
    search = search_dataset()
    api = APIClient()
    api.force_authenticate(member(search, "lead", role="lead"))
    response = api.post(reverse("api-candidate-list", args=[search.pk]), {"depth": 5, "pool": 2}, format="json")
    assert response.status_code == 202, response.json()
    run = CandidateRun.objects.get(pk=response.json()["id"])
    wait_until_finished(run)
    assert run.status == "succeeded", run.message
    assert run.report["created"] == Task.objects.filter(dataset=search, query__isnull=False).count() >= 3
    assert QueryResult.objects.filter(dataset=search, ranker="bm25", rank__gt=5).count() == 0
