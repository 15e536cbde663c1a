"""The review API: the waiting tasks of a dataset, and a lead's decision on one of them."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from labeling.models import EventAction, LabelEvent, Review
from labeling.selectors import review_queue
from labeling.services import annotation_submit
from tests.factories import (
    DatasetFactory,
    LabelFactory,
    MatchingDatasetFactory,
    ProductFactory,
    TaskFactory,
    member,
    pair_task,
)

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


def test_a_label_of_another_dataset_is_a_400_as_unknown_as_a_missing_one(disputed):
    foreign = LabelFactory(dataset=DatasetFactory())
    response = client_of(disputed["dataset"], "lead").post(
        review_url(disputed["split"]), {"label": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "No such label in this dataset.", "extra": {"label": foreign.pk}}
    assert not Review.objects.exists()


def test_an_unknown_or_missing_label_is_a_400(disputed):
    api = client_of(disputed["dataset"], "lead")
    assert decide(api, disputed["split"], label=999_999).json()["detail"] == "No such label in this dataset."
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


def test_a_single_product_in_the_queue_is_titled_by_its_product_and_has_no_items(disputed):
    first = client_of(disputed["dataset"], "lead").get(queue_url(disputed["dataset"])).json()["results"][0]
    assert (first["title"], first["items"]) == (disputed["split"].product.title, [])


@pytest.fixture
def disputed_pairs(db):
    """Three pairs on which ann1 says match and ann2 no match."""
    dataset = MatchingDatasetFactory(overlap=2)
    labels = {label.name: label for label in dataset.labels.all()}
    ann1, ann2 = member(dataset, "ann1"), member(dataset, "ann2")
    member(dataset, "lead", Role.LEAD)
    pairs = []
    for n in range(3):
        left = ProductFactory(dataset=dataset, external_id=f"L{n}", title=f"Acme phone {n}")
        right = ProductFactory(dataset=dataset, external_id=f"R{n}", title=f"ACME phone {n} GB")
        pairs.append(pair_task(dataset, left, right))
        annotation_submit(task=pairs[-1], user=ann1, label=labels["match"])
        annotation_submit(task=pairs[-1], user=ann2, label=labels["no match"])
    return dataset, pairs


def test_a_pair_in_the_queue_carries_its_items_and_a_readable_title(disputed_pairs):
    dataset, pairs = disputed_pairs
    first = client_of(dataset, "lead").get(queue_url(dataset)).json()["results"][0]
    assert first["task"] == pairs[0].pk
    assert (first["title"], first["product"]) == ("Acme phone 0 ↔ ACME phone 0 GB", None)
    assert first["items"] == [
        {"role": "left", "product": {"external_id": "L0", "title": "Acme phone 0"}},
        {"role": "right", "product": {"external_id": "R0", "title": "ACME phone 0 GB"}},
    ]
    assert sorted(vote["path"] for vote in first["votes"]) == ["match", "no match"]


def test_a_queue_of_pairs_takes_no_query_per_pair(disputed_pairs, django_assert_max_num_queries):
    dataset, _ = disputed_pairs
    api = client_of(dataset, "lead")
    # The dataset with the role, the count, the page, the votes, the items with their products.
    with django_assert_max_num_queries(5):
        body = api.get(queue_url(dataset)).json()
    assert body["count"] == 3 and all(len(row["items"]) == 2 for row in body["results"])
