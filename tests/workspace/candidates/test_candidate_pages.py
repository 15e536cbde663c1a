"""The candidates page and API: settings prefilled from the last run, the run followed live, leads only."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import DatasetFactory, member
from workspace.models import CandidateRun
from workspace.services.candidates import candidate_run_create
from workspace.tasks import candidates_run

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def page_url(dataset) -> str:
    return reverse("workspace:candidates", args=[dataset.pk])


def form_data(**changes) -> dict:
    data = {
        "k": "4",
        "fields": ["title"],
        "min_similarity": "0.25",
        "keys": ["model"],
        "source_field": "shop",
        "skip_same_source": "on",
    }
    return data | changes


def test_the_dataset_page_links_the_candidates_page_for_its_leads(client, shops, lead, annotator):
    client.force_login(lead)
    assert f'href="{page_url(shops.dataset)}"' in client.get(reverse("workspace:detail", args=[shops.dataset.pk])).text
    client.force_login(annotator)
    assert page_url(shops.dataset) not in client.get(reverse("workspace:detail", args=[shops.dataset.pk])).text


def test_a_lead_starts_a_run_and_follows_it_until_its_report(client, shops, lead):
    client.force_login(lead)
    assert 'name="k" value="10"' in client.get(page_url(shops.dataset)).text  # the defaults before any run

    response = client.post(page_url(shops.dataset), form_data())

    assert response.status_code == 302
    run = CandidateRun.objects.get()
    assert run.params == {
        "k": 4,
        "fields": ["title"],
        "min_similarity": 0.25,
        "keys": ["model"],
        "skip_same_source": True,
        "source_field": "shop",
        "threads": 2,
    }
    live = client.get(page_url(shops.dataset), headers=HTMX).text
    assert live.lstrip().startswith('<div id="candidate-runs" hx-get=') and 'data-status="queued"' in live

    candidates_run(run.pk)

    done = client.get(page_url(shops.dataset), headers=HTMX).text
    run.refresh_from_db()
    assert "hx-get" not in done and 'data-status="succeeded"' in done
    assert f"<td>{run.report['candidates']}<br>" in done and "no known matches" in done
    page = client.get(page_url(shops.dataset)).text
    assert 'name="k" value="4"' in page and 'name="source_field" value="shop"' in page  # the last run's settings


def test_bad_settings_come_back_on_the_form(client, shops, lead):
    client.force_login(lead)
    response = client.post(page_url(shops.dataset), form_data(k="0"))
    assert response.status_code == 400 and "greater than or equal to 1" in response.text
    response = client.post(page_url(shops.dataset), form_data(source_field="merchant", skip_same_source="on"))
    assert response.status_code == 302  # the sources are known once the products are read: the run says it
    response = client.post(page_url(shops.dataset), form_data())
    assert response.status_code == 400 and "is waiting; wait for it or cancel it first" in response.text


def test_cancel_from_the_page(client, shops, lead):
    client.force_login(lead)
    run = candidate_run_create(dataset=shops.dataset, user=lead, params={})
    response = client.post(reverse("workspace:candidate-action", args=[run.pk, "cancel"]))
    assert response.status_code == 302
    assert CandidateRun.objects.get(pk=run.pk).status == "cancelled"


def test_annotators_and_other_kinds_have_no_candidates_page(client, shops, annotator):
    client.force_login(annotator)
    assert client.get(page_url(shops.dataset)).status_code == 403
    assert client.post(page_url(shops.dataset), form_data()).status_code == 403
    categorization = DatasetFactory()
    client.force_login(member(categorization, "lead2", role="lead"))
    assert client.get(page_url(categorization)).status_code == 404


def test_the_api_starts_lists_and_shows_runs(shops, lead, annotator):
    api = APIClient()
    api.force_authenticate(lead)
    url = reverse("api-candidate-list", args=[shops.dataset.pk])

    bad = api.post(url, {"k": 0, "fields": ["title"]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["extra"]["fields"] == {"k": ["k must be a whole number from 1 to 100."]}
    assert api.post(url, {"fields": ["colour"]}, format="json").status_code == 400

    response = api.post(url, {"k": 3, "source_field": "shop", "skip_same_source": True}, format="json")
    assert response.status_code == 202, response.json()
    run_id = response.json()["id"]
    assert api.post(url, {}, format="json").status_code == 409
    candidates_run(run_id)

    listed = api.get(url).json()
    assert [run["id"] for run in listed["results"]] == [run_id]
    detail = api.get(reverse("api-candidate-detail", args=[run_id])).json()
    assert detail["status"] == "succeeded" and detail["report"]["new_pairs"] > 20 and detail["progress"] == 1.0

    api.force_authenticate(annotator)
    assert api.get(url).status_code == 403
    assert api.post(url, {}, format="json").status_code == 403
    assert api.get(reverse("api-candidate-detail", args=[run_id])).status_code == 403
    assert api.post(reverse("api-candidate-cancel", args=[run_id])).status_code == 403


def test_the_api_cancels_and_retries(shops, lead):
    api = APIClient()
    api.force_authenticate(lead)
    run = candidate_run_create(dataset=shops.dataset, user=lead, params={"k": 2})
    assert api.post(reverse("api-candidate-retry", args=[run.pk])).status_code == 409
    assert api.post(reverse("api-candidate-cancel", args=[run.pk])).json()["status"] == "cancelled"
    again = api.post(reverse("api-candidate-retry", args=[run.pk])).json()
    assert again["id"] != run.pk and again["params"]["k"] == 2 and again["status"] == "queued"
