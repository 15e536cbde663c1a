"""The annotations list API: a lead sees every answer of the dataset, an annotator only their own."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from datasets.models import Role
from labeling.imports import imported_answers_write
from labeling.models import Annotation
from labeling.services import annotation_skip, annotation_submit
from tests.factories import (
    DatasetFactory,
    LabelFactory,
    MatchingDatasetFactory,
    ProductFactory,
    TaskFactory,
    UserFactory,
    member,
    pair_task,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(catalog):
    """Five tasks: ann1 labels t0 (Audio), flags t1 (Phones) and skips t2; ann2 labels t3; an import labels t4."""
    audio, phones, shoes = (catalog.labels.get(name=name) for name in ("Audio", "Phones", "Shoes"))
    audio.code = "A-1"
    audio.save()
    ann1, ann2 = member(catalog, "ann1"), member(catalog, "ann2")
    member(catalog, "lead", role=Role.LEAD)
    tasks = list(catalog.tasks.select_related("product").order_by("pk"))
    annotation_submit(task=tasks[0], user=ann1, label=audio)
    annotation_submit(task=tasks[1], user=ann1, label=phones, flagged=True)
    annotation_skip(task=tasks[2], user=ann1)
    annotation_submit(task=tasks[3], user=ann2, label=shoes)
    imported_answers_write(dataset=catalog, answers={tasks[4].pk: shoes}, source_name="legacy")
    return catalog


def client_of(dataset, username: str) -> APIClient:
    api = APIClient()
    api.force_authenticate(dataset.memberships.get(user__username=username).user)
    return api


def listing(api: APIClient, dataset, **params):
    return api.get(reverse("api-annotation-list", args=[dataset.pk]), params)


def annotators(response) -> list[str | None]:
    return [row["annotator"] for row in response.json()["results"]]


def test_a_lead_sees_every_annotation_newest_first(answered):
    response = listing(client_of(answered, "lead"), answered)
    assert response.status_code == 200
    assert annotators(response) == [None, "ann2", "ann1", "ann1", "ann1"]
    assert [row["status"] for row in response.json()["results"]][2] == "skipped"


def test_a_row_names_the_product_label_and_annotator(answered):
    task = answered.tasks.order_by("pk").select_related("product").first()
    row = listing(client_of(answered, "lead"), answered, product=task.product.external_id).json()["results"][0]
    audio = answered.labels.get(name="Audio")
    assert row["task"] == task.pk
    assert row["product"] == {"external_id": task.product.external_id, "title": task.product.title}
    assert row["label"] == {"id": audio.pk, "path": "Audio", "code": "A-1"}
    assert (row["status"], row["flagged"], row["source"], row["source_name"], row["annotator"]) == (
        "submitted",
        False,
        "human",
        "",
        "ann1",
    )
    assert {"active_seconds", "suggestions_shown", "created_at", "updated_at"} <= row.keys()


def test_a_label_without_a_code_shows_null_and_a_skip_has_no_label(answered):
    rows = listing(client_of(answered, "lead"), answered, user="ann1").json()["results"]
    assert rows[0]["label"] is None
    assert rows[1]["label"]["code"] is None


def test_an_imported_label_has_no_annotator_and_names_its_source(answered):
    rows = listing(client_of(answered, "lead"), answered, source="import").json()["results"]
    assert [(row["annotator"], row["source_name"]) for row in rows] == [(None, "legacy")]


def test_an_annotator_sees_only_their_own(answered):
    response = listing(client_of(answered, "ann2"), answered)
    assert response.status_code == 200
    assert annotators(response) == ["ann2"]


def test_an_annotator_may_name_themselves(answered):
    assert annotators(listing(client_of(answered, "ann1"), answered, user="ann1")) == ["ann1"] * 3


def test_an_annotator_asking_for_another_user_gets_a_json_403(answered):
    response = listing(client_of(answered, "ann1"), answered, user="ann2")
    assert response.status_code == 403
    assert response.json()["detail"] == "An annotator can list only their own annotations."


def test_a_superuser_sees_every_annotation(answered):
    api = APIClient()
    api.force_authenticate(UserFactory(username="root", is_superuser=True))
    assert listing(api, answered).json()["count"] == 5


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"user": "ann2"}, ["ann2"]),
        ({"user": "nobody"}, []),
        ({"status": "skipped"}, ["ann1"]),
        ({"status": "submitted"}, [None, "ann2", "ann1", "ann1"]),
        ({"source": "human"}, ["ann2", "ann1", "ann1", "ann1"]),
        ({"source": "review"}, []),
        ({"flagged": "true"}, ["ann1"]),
        ({"flagged": "false"}, [None, "ann2", "ann1", "ann1"]),
        ({"user": "ann1", "status": "submitted", "flagged": "false"}, ["ann1"]),
    ],
)
def test_filters(answered, params, expected):
    assert annotators(listing(client_of(answered, "lead"), answered, **params)) == expected


def test_the_label_filter_takes_a_label_id(answered):
    shoes = answered.labels.get(name="Shoes")
    assert annotators(listing(client_of(answered, "lead"), answered, label=shoes.pk)) == [None, "ann2"]


def test_the_product_filter_takes_the_external_id(answered):
    task = answered.tasks.order_by("pk").select_related("product")[3]
    assert annotators(listing(client_of(answered, "lead"), answered, product=task.product.external_id)) == ["ann2"]


def test_since_keeps_answers_changed_at_or_after_it(answered):
    long_ago = timezone.now() - timedelta(days=30)
    Annotation.objects.exclude(user__username="ann2").update(updated_at=long_ago)
    since = (long_ago + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert annotators(listing(client_of(answered, "lead"), answered, since=since)) == ["ann2"]


def test_since_with_an_encoded_offset_is_understood(answered):
    Annotation.objects.update(updated_at=timezone.now() - timedelta(days=30))
    since = (timezone.now() - timedelta(days=31)).isoformat()  # "+00:00", URL-encoded by the test client
    assert listing(client_of(answered, "lead"), answered, since=since).json()["count"] == 5


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"status": "done"}, ["status", "submitted, skipped"]),
        ({"source": "robot"}, ["source", "human, import, review, model"]),
        ({"flagged": "maybe"}, ["flagged", "true, false"]),
        ({"label": "audio"}, ["label", "of this dataset"]),
        ({"label": "²"}, ["label", "of this dataset"]),
        ({"label": "9" * 30}, ["label", "of this dataset"]),
        ({"since": "yesterday"}, ["since", "ISO 8601"]),
        ({"since": "2025-01-31T12:00:00 01:00"}, ["since", "%2B"]),
        ({"since": "2025-02-30T12:00:00Z"}, ["since", "ISO 8601"]),
    ],
)
def test_a_bad_filter_value_is_a_json_400_naming_the_parameter(answered, params, words):
    response = listing(client_of(answered, "lead"), answered, **params)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert all(word in detail for word in words), detail
    assert list(params) == list(response.json()["extra"])


def test_a_label_of_another_dataset_is_a_400(answered):
    response = listing(client_of(answered, "lead"), answered, label=LabelFactory().pk)
    assert response.status_code == 400
    assert "label" in response.json()["detail"]


def test_pages_follow_page_size_with_a_next_link(answered):
    api = client_of(answered, "lead")
    first = listing(api, answered, page_size=2).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "page=2" in first["next"]
    last = api.get(first["next"]).json()
    assert len(last["results"]) == 2
    seen = {row["id"] for row in first["results"] + last["results"]}
    assert len(seen) == 4


def test_a_member_of_another_dataset_gets_404(answered):
    stranger = member(DatasetFactory(), "stranger")
    api = APIClient()
    api.force_authenticate(stranger)
    response = listing(api, answered)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_anonymous_requests_are_refused(answered):
    assert listing(APIClient(), answered).status_code in (401, 403)


@pytest.mark.parametrize("page_size", [2, 50])
def test_the_query_count_does_not_grow_with_the_page(catalog, django_assert_max_num_queries, page_size):
    lead = member(catalog, "lead", role=Role.LEAD)
    labels = list(catalog.labels.all())
    users = [member(catalog, f"ann{n}") for n in range(6)]
    for n, task in enumerate([*catalog.tasks.all(), *TaskFactory.create_batch(25, dataset=catalog)]):
        annotation_submit(task=task, user=users[n % 6], label=labels[n % 3])
    api = APIClient()
    api.force_authenticate(lead)
    # The dataset with the user's role, the label check, the count, the page.
    with django_assert_max_num_queries(4):
        response = listing(api, catalog, page_size=page_size, label=labels[0].pk)
    assert len(response.json()["results"]) == min(page_size, 10)


@pytest.fixture
def matched(db):
    """Two pairs sharing their left product: ann1 says match to the first and no match to the second."""
    dataset = MatchingDatasetFactory()
    labels = {label.name: label for label in dataset.labels.all()}
    shared, first, second = (
        ProductFactory(dataset=dataset, external_id=external_id, title=title)
        for external_id, title in (("S", "Acme phone"), ("F", "ACME phone 16GB"), ("X", "Bose speaker"))
    )
    pairs = [pair_task(dataset, shared, first), pair_task(dataset, second, ProductFactory(dataset=dataset))]
    ann1 = member(dataset, "ann1")
    member(dataset, "lead", role=Role.LEAD)
    annotation_submit(task=pairs[0], user=ann1, label=labels["match"])
    annotation_submit(task=pairs[1], user=ann1, label=labels["no match"])
    return dataset, pairs


def test_a_pair_row_has_no_product_and_lists_its_items_left_then_right(matched):
    dataset, pairs = matched
    rows = {row["task"]: row for row in listing(client_of(dataset, "lead"), dataset).json()["results"]}
    row = rows[pairs[0].pk]
    assert row["product"] is None
    assert row["items"] == [
        {"role": "left", "product": {"external_id": "S", "title": "Acme phone"}},
        {"role": "right", "product": {"external_id": "F", "title": "ACME phone 16GB"}},
    ]
    assert row["label"]["path"] == "match"


def test_a_single_product_row_has_no_items(answered):
    rows = listing(client_of(answered, "lead"), answered).json()["results"]
    assert all(row["items"] == [] and row["product"] is not None for row in rows)


@pytest.mark.parametrize(("external_id", "expected"), [("S", 0), ("F", 0), ("X", 1), ("nope", None)])
def test_the_product_filter_finds_the_pairs_a_product_is_in(matched, external_id, expected):
    dataset, pairs = matched
    rows = listing(client_of(dataset, "lead"), dataset, product=external_id).json()["results"]
    assert [row["task"] for row in rows] == ([] if expected is None else [pairs[expected].pk])


def test_the_query_count_does_not_grow_with_a_page_of_pairs(django_assert_max_num_queries):
    dataset = MatchingDatasetFactory()
    match = dataset.labels.get(code="1")
    lead = member(dataset, "lead", role=Role.LEAD)
    users = [member(dataset, f"ann{n}") for n in range(3)]
    for n in range(12):
        task = pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset))
        annotation_submit(task=task, user=users[n % 3], label=match)
    api = APIClient()
    api.force_authenticate(lead)
    # The dataset with the user's role, the count, the page, the page's items with their products.
    with django_assert_max_num_queries(4):
        response = listing(api, dataset, page_size=10)
    assert len(response.json()["results"]) == 10
    assert all(len(row["items"]) == 2 for row in response.json()["results"])
