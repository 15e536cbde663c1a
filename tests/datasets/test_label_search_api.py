"""The labels API answers one shape, a page, whether or not it searches."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import member

pytestmark = pytest.mark.django_db


def test_a_label_search_answers_a_page_of_every_match(catalog):
    api = APIClient()
    api.force_authenticate(member(catalog, "ann", Role.ANNOTATOR))
    url = reverse("api-label-list", args=[catalog.pk])
    response = api.get(url, {"search": "o", "page_size": 1})
    assert response.status_code == 200
    page = response.json()
    # "Audio", "Phones" and "Shoes" all contain an "o": one per page, the first leaves first.
    assert (page["count"], len(page["results"]), page["next"] is not None) == (3, 1, True)
    assert page["results"][0]["name"] == "Audio"
