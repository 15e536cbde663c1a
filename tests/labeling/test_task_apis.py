import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labeling.models import Annotation
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_user(catalog):
    user = member(catalog, "ann")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api, user


def test_next_submit_with_token_auth(catalog, api_user):
    api, user = api_user
    task = api.post(reverse("api-task-next", args=[catalog.pk])).json()
    label = catalog.labels.first()
    response = api.post(
        reverse("api-task-submit", args=[task["id"]]), {"label": label.pk, "active_seconds": 2.5}, format="json"
    )
    assert response.status_code == 201
    assert Annotation.objects.get(user=user).label == label
    assert task["product"]["title"]


def test_skip_and_undo(catalog, api_user):
    api, _user = api_user
    task = api.post(reverse("api-task-next", args=[catalog.pk])).json()
    assert api.post(reverse("api-task-skip", args=[task["id"]]), {}, format="json").json()["status"] == "skipped"
    assert api.post(reverse("api-task-undo", args=[catalog.pk])).json()["id"] == task["id"]


def test_an_unknown_label_is_a_json_400(catalog, api_user):
    api, _ = api_user
    task = api.post(reverse("api-task-next", args=[catalog.pk])).json()
    response = api.post(reverse("api-task-submit", args=[task["id"]]), {"label": 999999}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "No such label in this dataset."


def test_a_malformed_body_is_a_json_400_naming_the_field(catalog, api_user):
    api, _ = api_user
    task = api.post(reverse("api-task-next", args=[catalog.pk])).json()
    response = api.post(reverse("api-task-submit", args=[task["id"]]), {"active_seconds": "soon"}, format="json")
    assert response.status_code == 400
    assert "active_seconds" in response.json()["extra"]["fields"]


def test_an_empty_queue_is_204(catalog, api_user):
    api, _ = api_user
    catalog.tasks.update(is_complete=True)
    assert api.post(reverse("api-task-next", args=[catalog.pk])).status_code == 204


def test_openapi_schema_is_served(api_user):
    api, _ = api_user
    response = api.get(reverse("schema"))
    assert response.status_code == 200
    assert b"/api/datasets/{dataset_id}/tasks/next/" in response.content
