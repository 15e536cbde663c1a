"""A matching dataset through the API, role by role: annotators answer pairs, leads review them, and each role
gets what it gets on a categorization dataset (see test_permissions.py)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from labeling.models import Annotation, AnnotationStatus, EventAction, LabelEvent, Review
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, MatchingDatasetFactory, ProductFactory, UserFactory, member, pair_task

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "annotator", "lead", "admin")


@pytest.fixture
def pairs():
    """Four pairs at overlap 2; ann1 and ann2 disagree on the first, which waits for review."""
    dataset = MatchingDatasetFactory(name="Pairs", overlap=2)
    labels = {label.name: label for label in dataset.labels.all()}
    tasks = [
        pair_task(
            dataset,
            ProductFactory(dataset=dataset, external_id=f"L{n}", title=f"Acme phone {n}"),
            ProductFactory(dataset=dataset, external_id=f"R{n}", title=f"ACME phone {n} GB"),
        )
        for n in range(4)
    ]
    users = {
        "outsider": member(DatasetFactory(), "outsider"),
        "annotator": member(dataset, "ann"),
        "lead": member(dataset, "lead", Role.LEAD),
        "admin": UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    annotation_submit(task=tasks[0], user=member(dataset, "ann1"), label=labels["match"])
    annotation_submit(task=tasks[0], user=member(dataset, "ann2"), label=labels["no match"])
    return {"dataset": dataset, "labels": labels, "tasks": tasks, "users": users}


def as_role(pairs, role: str) -> APIClient:
    api = APIClient()
    if role != "anonymous":
        api.force_authenticate(pairs["users"][role])
    return api


def next_task(api: APIClient, dataset) -> dict:
    response = api.post(reverse("api-task-next", args=[dataset.pk]))
    assert response.status_code == 200
    return response.json()


def test_an_annotator_is_served_a_pair_with_its_two_items(pairs):
    task = next_task(as_role(pairs, "annotator"), pairs["dataset"])
    assert (task["kind"], task["product"]) == ("matching", None)
    assert [item["role"] for item in task["items"]] == ["left", "right"]
    left, right = (item["product"] for item in task["items"])
    assert left["external_id"].startswith("L") and right["external_id"] == "R" + left["external_id"][1:]


def test_an_annotator_answers_skips_and_undoes_on_pairs(pairs):
    api, dataset, labels = as_role(pairs, "annotator"), pairs["dataset"], pairs["labels"]
    first = next_task(api, dataset)
    response = api.post(reverse("api-task-submit", args=[first["id"]]), {"answer": "match"}, format="json")
    assert response.status_code == 201 and response.json()["label"] == labels["match"].pk

    second = next_task(api, dataset)
    assert second["id"] != first["id"]
    response = api.post(reverse("api-task-submit", args=[second["id"]]), {"label": labels["no match"].pk})
    assert response.status_code == 201 and response.json()["label"] == labels["no match"].pk

    third = next_task(api, dataset)
    response = api.post(reverse("api-task-skip", args=[third["id"]]), {"active_seconds": 2.5}, format="json")
    assert response.status_code == 201 and response.json()["status"] == AnnotationStatus.SKIPPED

    undone = api.post(reverse("api-task-undo", args=[dataset.pk]))
    assert undone.status_code == 200
    assert undone.json()["id"] == third["id"] and len(undone.json()["items"]) == 2
    annotator = pairs["users"]["annotator"]
    assert not Annotation.objects.filter(task_id=third["id"], user=annotator).exists()
    assert LabelEvent.objects.filter(task_id=third["id"], user=annotator, action=EventAction.UNDO).exists()


def test_an_unsure_answer_flags_the_pair_for_review(pairs):
    api, dataset = as_role(pairs, "annotator"), pairs["dataset"]
    task = next_task(api, dataset)
    response = api.post(reverse("api-task-submit", args=[task["id"]]), {"answer": "unsure"}, format="json")
    assert response.status_code == 201 and (response.json()["label"], response.json()["flagged"]) == (None, True)


def test_a_lead_decides_a_disagreement_on_a_pair_with_the_match_label(pairs):
    api, dataset, labels, disputed = as_role(pairs, "lead"), pairs["dataset"], pairs["labels"], pairs["tasks"][0]
    waiting = api.get(reverse("api-review-queue", args=[dataset.pk])).json()["results"]
    assert [row["task"] for row in waiting] == [disputed.pk]
    assert waiting[0]["title"] == "Acme phone 0 ↔ ACME phone 0 GB"
    response = api.post(reverse("api-task-review", args=[disputed.pk]), {"label": labels["match"].pk}, format="json")
    assert response.status_code == 200 and response.json()["label"] == {"id": labels["match"].pk, "path": "match"}
    assert Review.objects.get(task=disputed).label == labels["match"]
    assert api.get(reverse("api-review-queue", args=[dataset.pk])).json()["count"] == 0


def test_an_annotator_is_forbidden_to_review_a_pair(pairs):
    api, dataset, disputed = as_role(pairs, "annotator"), pairs["dataset"], pairs["tasks"][0]
    assert api.get(reverse("api-review-queue", args=[dataset.pk])).status_code == 403
    response = api.post(
        reverse("api-task-review", args=[disputed.pk]), {"label": pairs["labels"]["match"].pk}, format="json"
    )
    assert response.status_code == 403
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("method", "name", "on", "expected"),
    [
        ("post", "api-task-next", "dataset", (401, 404, 200, 200, 200)),
        ("get", "api-annotation-list", "dataset", (401, 404, 200, 200, 200)),
        ("get", "api-review-queue", "dataset", (401, 404, 403, 200, 200)),
        ("get", "api-gold", "dataset", (401, 404, 403, 200, 200)),
        ("get", "api-dataset-progress", "dataset", (401, 404, 403, 200, 200)),
        ("get", "api-export-list", "dataset", (401, 404, 403, 200, 200)),
        ("get", "api-task-history", "task", (401, 404, 403, 200, 200)),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_the_endpoints_of_a_matching_dataset_answer_each_role(pairs, method, name, on, expected, role):
    target = pairs["dataset"].pk if on == "dataset" else pairs["tasks"][0].pk
    response = getattr(as_role(pairs, role), method)(reverse(name, args=[target]))
    assert response.status_code == expected[ROLES.index(role)]
