import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labeling.models import Annotation, LabelSource, Task
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(db):
    dataset = DatasetFactory()
    label = LabelFactory(dataset=dataset, name="A")
    tasks = TaskFactory.create_batch(5, dataset=dataset)
    Annotation.objects.bulk_create(
        Annotation(dataset=dataset, task=task, label=label, source=LabelSource.IMPORT, source_name="checked")
        for task in tasks
    )
    return dataset


def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_lead_sees_the_sources_and_promotes_one(imported):
    api = client(member(imported, "lead", "lead"))
    url = reverse("api-gold", args=[imported.pk])
    assert api.get(url).json() == {"gold_items": 0, "sources": [{"source": "checked", "tasks": 5}]}
    response = api.post(url, {"source": "checked", "limit": 3}, format="json")
    assert response.status_code == 200 and response.json() == {"promoted": 3}
    assert Task.objects.filter(dataset=imported, is_gold=True).count() == 3


def test_bad_input_is_a_json_400(imported):
    api = client(member(imported, "lead", "lead"))
    url = reverse("api-gold", args=[imported.pk])
    assert api.post(url, {"source": "nobody"}, format="json").json()["detail"].startswith("No imported labels")
    assert api.post(url, {"source": "checked", "limit": 0}, format="json").status_code == 400


def test_annotators_and_outsiders_cannot(imported):
    url = reverse("api-gold", args=[imported.pk])
    assert client(member(imported, "ann")).get(url).status_code == 403
    assert client(member(DatasetFactory(), "other")).post(url, {"source": "checked"}, format="json").status_code == 404


def test_the_quality_page_promotes_a_source_to_gold(imported, client):
    lead = member(imported, "lead", "lead")
    client.force_login(lead)
    page = client.get(reverse("labeling:quality", args=[imported.pk]))
    assert b"checked (5 products)" in page.content
    response = client.post(reverse("labeling:quality-gold", args=[imported.pk]), {"source": "checked", "limit": "2"})
    assert response.status_code == 302
    assert Task.objects.filter(dataset=imported, is_gold=True).count() == 2
    response = client.post(reverse("labeling:quality-gold", args=[imported.pk]), {"source": "nobody"}, follow=True)
    assert "No imported labels" in str(list(response.context["messages"]))
