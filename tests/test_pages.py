import pytest
from django.urls import reverse

from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def test_an_expired_session_on_an_htmx_request_redirects_the_whole_page(client):
    dataset = DatasetFactory()
    response = client.get(reverse("labeling:annotate", args=[dataset.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_the_api_docs_page_is_served(client):
    assert client.get(reverse("api-docs")).status_code == 200


def test_healthz_answers(client):
    assert client.get("/healthz").content == b"ok"
