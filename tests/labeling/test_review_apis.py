"""The review API: the waiting tasks of a dataset, and a lead's decision on one of them."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from labeling.models import EventAction, LabelEvent, Review
from labeling.selectors import review_queue
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed(db):
    """Overlap 3: answers A, B, B on `split`; ann1 flags `flagged` with label A; everyone says C on `agreed`."""
    dataset = DatasetFactory(overlap=3)
    labels = {name: LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}") for name in "ABC"}
    split, agreed, flagged = TaskFactory.create_batch(3, dataset=dataset)
    users = [member(dataset, f"ann{i}") for i in (1, 2, 3)]
    member(dataset, "lead", Role.LEAD)
    for user, name in zip(users, "ABB", strict=True):
        annotation_submit(task=split, user=user, label=labels[name])
        annotation_submit(task=agreed, user=user, label=labels["C"])
    annotation_submit(task=flagged, user=users[0], label=labels["A"], flagged=True)
    return {"dataset": dataset, "labels": labels, "split": split, "flagged": flagged, "agreed": agreed}


def client_of(dataset, username: str) -> APIClient:
    api = APIClient()
    api.force_authenticate(dataset.memberships.get(user__username=username).user)
    return api


def queue_url(dataset) -> str:
    return reverse("api-review-queue", args=[dataset.pk])


def review_url(task) -> str:
    return reverse("api-task-review", args=[task.pk])


def decide(api: APIClient, task, **body):
    return api.post(review_url(task), body, format="json")


def test_the_queue_lists_waiting_tasks_oldest_first_with_their_votes(disputed):
    response = client_of(disputed["dataset"], "lead").get(queue_url(disputed["dataset"]))
    assert response.status_code == 200
    body = response.json()
    split, flagged, labels = disputed["split"], disputed["flagged"], disputed["labels"]
    assert body["count"] == 2
    assert [row["task"] for row in body["results"]] == [split.pk, flagged.pk]
    first, second = body["results"]
    assert first["product"] == {"external_id": split.product.external_id, "title": split.product.title}
    assert (first["answers"], first["flagged"]) == (3, 0)
    assert first["votes"] == [
        {"label": labels["B"].pk, "path": "Shop > B", "votes": 2},
        {"label": labels["A"].pk, "path": "Shop > A", "votes": 1},
    ]
    assert (second["answers"], second["flagged"], len(second["votes"])) == (1, 1, 1)


def test_the_queue_is_paginated_in_a_constant_number_of_queries(disputed, django_assert_max_num_queries):
    dataset, api = disputed["dataset"], client_of(disputed["dataset"], "lead")
    annotator = dataset.memberships.get(user__username="ann1").user
    for _ in range(5):
        annotation_submit(task=TaskFactory(dataset=dataset), user=annotator, label=None, flagged=True)
    with django_assert_max_num_queries(8):
        body = api.get(queue_url(dataset), {"page_size": 4}).json()
    assert body["count"] == 7 and len(body["results"]) == 4 and body["next"]


def test_a_decision_returns_the_review_and_leaves_the_queue(disputed):
    split, label = disputed["split"], disputed["labels"]["A"]
    response = client_of(disputed["dataset"], "lead").post(
        review_url(split), {"label": label.pk, "note": "per the maker"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("task", "label", "reviewer", "note", "gold")} == {
        "task": split.pk,
        "label": {"id": label.pk, "path": "Shop > A"},
        "reviewer": "lead",
        "note": "per the maker",
        "gold": False,
    }
    assert body["updated_at"]
    assert list(review_queue(dataset=disputed["dataset"])) == [disputed["flagged"]]
    assert LabelEvent.objects.get(task=split, action=EventAction.REVIEW).new_label == label


def test_a_decision_can_make_the_task_gold(disputed):
    flagged, label = disputed["flagged"], disputed["labels"]["B"]
    response = client_of(disputed["dataset"], "lead").post(
        review_url(flagged), {"label": label.pk, "gold": True}, format="json"
    )
    flagged.refresh_from_db()
    assert response.json()["gold"] is True
    assert (flagged.is_gold, flagged.gold_label) == (True, label)


def test_a_decided_task_can_be_decided_again(disputed):
    api, split, labels = client_of(disputed["dataset"], "lead"), disputed["split"], disputed["labels"]
    api.post(review_url(split), {"label": labels["A"].pk}, format="json")
    assert api.post(review_url(split), {"label": labels["C"].pk}, format="json").status_code == 200
    assert Review.objects.get(task=split).label == labels["C"]
    assert LabelEvent.objects.filter(task=split, action=EventAction.REVIEW).count() == 2


def test_a_label_of_another_dataset_is_a_400_with_the_service_message(disputed):
    foreign = LabelFactory(dataset=DatasetFactory())
    response = client_of(disputed["dataset"], "lead").post(
        review_url(disputed["split"]), {"label": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "This label belongs to another dataset.", "extra": {"label": foreign.pk}}
    assert not Review.objects.exists()


def test_an_unknown_or_missing_label_is_a_400(disputed):
    api = client_of(disputed["dataset"], "lead")
    assert decide(api, disputed["split"], label=999_999).json()["detail"] == "No such label."
    missing = decide(api, disputed["split"], note="?")
    assert missing.status_code == 400 and "label" in missing.json()["extra"]["fields"]


def test_an_annotator_is_forbidden(disputed):
    api, dataset = client_of(disputed["dataset"], "ann1"), disputed["dataset"]
    assert api.get(queue_url(dataset)).status_code == 403
    assert decide(api, disputed["split"], label=disputed["labels"]["A"].pk).status_code == 403
    assert not Review.objects.exists()


def test_an_outsider_finds_nothing(disputed):
    stranger = member(DatasetFactory(), "stranger", Role.LEAD)
    api = APIClient()
    api.force_authenticate(stranger)
    assert api.get(queue_url(disputed["dataset"])).status_code == 404
    assert decide(api, disputed["split"], label=disputed["labels"]["A"].pk).status_code == 404


def test_anonymous_requests_are_refused(disputed):
    api = APIClient()
    assert api.get(queue_url(disputed["dataset"])).status_code == 401
    assert decide(api, disputed["split"], label=disputed["labels"]["A"].pk).status_code == 401
