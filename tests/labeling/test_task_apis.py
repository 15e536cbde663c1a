import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labeling.apis.tasks import TaskOutputSerializer
from labeling.models import Annotation
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task

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


def test_a_categorization_task_has_its_kind_and_no_items(catalog, api_user):
    api, _user = api_user
    task = api.post(reverse("api-task-next", args=[catalog.pk])).json()
    assert (task["kind"], task["items"]) == ("categorization", [])


@pytest.fixture
def pairs(db):
    """A matching dataset with two pairs, and a token client of an annotator."""
    dataset = MatchingDatasetFactory()
    a, b, c = (ProductFactory(dataset=dataset, title=title) for title in ("Acme 16GB", "Acme 16 GB", "Acme 32GB"))
    tasks = [pair_task(dataset, a, b), pair_task(dataset, a, c)]
    user = member(dataset, "pairs-ann")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return {"dataset": dataset, "tasks": tasks, "api": api, "user": user, "products": (a, b, c)}


def next_pair(pairs) -> dict:
    return pairs["api"].post(reverse("api-task-next", args=[pairs["dataset"].pk])).json()


def submit(pairs, task: dict, **body):
    return pairs["api"].post(reverse("api-task-submit", args=[task["id"]]), body, format="json")


def test_next_gives_a_pair_its_items_left_then_right(pairs):
    task = next_pair(pairs)
    assert (task["kind"], task["product"]) == ("matching", None)
    assert [item["role"] for item in task["items"]] == ["left", "right"]
    served = next(t for t in pairs["tasks"] if t.pk == task["id"])
    assert [item["product"]["id"] for item in task["items"]] == [served.left_id, served.right_id]
    assert task["items"][0]["product"]["title"].startswith("Acme")


def test_the_items_are_read_in_one_query(pairs, django_assert_num_queries):
    task = pairs["tasks"][0]
    task.dataset  # noqa: B018 - loaded before counting, as the queue's caller has it
    with django_assert_num_queries(1):
        items = TaskOutputSerializer(task).data["items"]
    assert len(items) == 2


@pytest.mark.parametrize("answer", ["match", "1", "Yes"])
def test_submit_a_match_by_value(pairs, answer):
    task = next_pair(pairs)
    response = submit(pairs, task, answer=answer, active_seconds=1.5)
    assert response.status_code == 201
    annotation = Annotation.objects.get(user=pairs["user"])
    assert (annotation.label.code, annotation.flagged) == ("1", False)


def test_submit_no_match_by_value(pairs):
    submit(pairs, next_pair(pairs), answer="no match")
    assert Annotation.objects.get(user=pairs["user"]).label.code == "0"


def test_unsure_is_a_flag_without_a_label(pairs):
    task = next_pair(pairs)
    response = submit(pairs, task, answer="unsure")
    assert response.status_code == 201 and (response.json()["label"], response.json()["flagged"]) == (None, True)
    assert Annotation.objects.get(user=pairs["user"]).task.needs_review


def test_an_unknown_answer_is_a_400_naming_the_choices(pairs):
    response = submit(pairs, next_pair(pairs), answer="perhaps")
    assert response.status_code == 400
    assert response.json()["detail"] == "Unknown answer 'perhaps'; choose one of: match, no match, unsure."
    assert not Annotation.objects.exists()


def test_a_label_and_an_answer_together_are_refused(pairs):
    match = pairs["dataset"].labels.get(code="1")
    response = submit(pairs, next_pair(pairs), label=match.pk, answer="match")
    assert response.status_code == 400
    assert response.json()["detail"] == "Give either label or answer, not both."


def test_a_pair_may_still_be_answered_with_a_label_id(pairs):
    no_match = pairs["dataset"].labels.get(code="0")
    assert submit(pairs, next_pair(pairs), label=no_match.pk).status_code == 201
    assert Annotation.objects.get(user=pairs["user"]).label == no_match


def test_a_categorization_answer_by_value_is_refused(catalog, api_user):
    api, _ = api_user
    task = api.post(reverse("api-task-next", args=[catalog.pk])).json()
    response = api.post(reverse("api-task-submit", args=[task["id"]]), {"answer": "Audio"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "A product categorization answer is a label id, not a value."


def test_undo_gives_the_pair_back_with_its_items(pairs):
    submit(pairs, next_pair(pairs), answer="match")
    task = pairs["api"].post(reverse("api-task-undo", args=[pairs["dataset"].pk])).json()
    assert [item["role"] for item in task["items"]] == ["left", "right"]


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
