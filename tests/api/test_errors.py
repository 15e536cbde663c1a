"""Every API error is the one JSON shape the schema's `Error` component describes."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_url_no_api_route_matches_answers_a_json_404():
    response = APIClient().get("/api/datasets/not-a-number/")
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "Not found.", "extra": {}}


def test_a_url_no_page_matches_still_answers_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_drf_own_errors_carry_an_empty_extra():
    response = APIClient().get("/api/datasets/")
    assert (response.status_code, response.json()) == (401, {"detail": response.json()["detail"], "extra": {}})
