"""A lead edits a label's synonyms through the API; annotators read them."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Label, Role
from tests.factories import LabelFactory, member

pytestmark = pytest.mark.django_db


def api_as(dataset, username, role):
    api = APIClient()
    api.force_authenticate(member(dataset, username, role))
    return api


def test_a_lead_sets_a_labels_synonyms_cleaned(catalog):
    label = Label.objects.get(dataset=catalog, name="Shoes")
    url = reverse("api-label-detail", args=[catalog.pk, label.pk])
    response = api_as(catalog, "lead", Role.LEAD).patch(
        url, {"synonyms": [" Trainers ", "kicks", "trainers", ""]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["synonyms"] == ["Trainers", "kicks"]
    label.refresh_from_db()
    assert label.synonyms == ["Trainers", "kicks"]


def test_an_annotator_reads_synonyms_but_cannot_set_them(catalog):
    label = Label.objects.get(dataset=catalog, name="Shoes")
    url = reverse("api-label-detail", args=[catalog.pk, label.pk])
    api = api_as(catalog, "ann", Role.ANNOTATOR)
    assert api.patch(url, {"synonyms": ["kicks"]}, format="json").status_code == 403
    assert api.get(url).json()["synonyms"] == []


def test_another_datasets_label_is_not_found(catalog):
    other = LabelFactory()
    url = reverse("api-label-detail", args=[catalog.pk, other.pk])
    response = api_as(catalog, "lead", Role.LEAD).patch(url, {"synonyms": ["x"]}, format="json")
    assert response.status_code == 404
