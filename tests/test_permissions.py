"""Scoping: another dataset is a 404 in pages and API; an annotator cannot import or manage."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Dataset, Membership, Role
from tests.factories import DatasetFactory, TaskFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_datasets():
    a, b = DatasetFactory(name="A"), DatasetFactory(name="B")
    TaskFactory(dataset=b)
    return a, b, member(a, "ann")


@pytest.mark.parametrize(
    "name",
    ["workspace:detail", "labeling:annotate", "labeling:label-search"],
)
def test_pages_of_another_dataset_are_404(client, two_datasets, name):
    _, b, ann = two_datasets
    client.force_login(ann)
    assert client.get(reverse(name, args=[b.pk])).status_code == 404


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "api-dataset-detail"),
        ("get", "api-label-list"),
        ("post", "api-task-next"),
        ("post", "api-task-undo"),
        ("get", "api-import-list"),
        ("post", "api-candidate-list"),
        ("get", "api-ranking"),
        ("get", "api-dataset-progress"),
    ],
)
def test_api_of_another_dataset_is_404(two_datasets, method, name):
    _, b, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    response = getattr(api, method)(reverse(name, args=[b.pk]))
    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_task_of_another_dataset_is_404_on_submit(two_datasets):
    _, b, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    task = b.tasks.first()
    assert api.post(reverse("api-task-submit", args=[task.pk]), {"flagged": True}).status_code == 404


def test_the_dataset_list_shows_only_memberships(two_datasets):
    a, _, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    assert [d["id"] for d in api.get(reverse("api-dataset-list")).json()["results"]] == [a.pk]


def test_an_annotator_cannot_import(two_datasets):
    a, _, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    upload = SimpleUploadedFile("p.csv", b"id,title\n1,x\n", content_type="text/csv")
    response = api.post(reverse("api-import-list", args=[a.pk]), {"kind": "products", "file": upload})
    assert response.status_code == 403
    assert not a.import_jobs.exists()


def test_an_annotator_cannot_import_from_the_page(client, two_datasets):
    a, _, ann = two_datasets
    client.force_login(ann)
    upload = SimpleUploadedFile("p.csv", b"id,title\n1,x\n", content_type="text/csv")
    assert (
        client.post(reverse("workspace:import-upload", args=[a.pk]), {"kind": "products", "file": upload}).status_code
        == 403
    )


def test_an_annotator_cannot_change_settings_or_members(two_datasets):
    a, _, ann = two_datasets
    api = APIClient()
    api.force_authenticate(ann)
    assert api.patch(reverse("api-dataset-detail", args=[a.pk]), {"overlap": 3}).status_code == 403
    assert api.post(reverse("api-member-list", args=[a.pk]), {"username": "ann", "role": "lead"}).status_code == 403


def test_a_lead_can_manage_members(two_datasets):
    a, _, _ = two_datasets
    lead = member(a, "lead", Role.LEAD)
    member(DatasetFactory(), "newcomer")
    api = APIClient()
    api.force_authenticate(lead)
    response = api.post(reverse("api-member-list", args=[a.pk]), {"username": "newcomer", "role": "annotator"})
    assert response.status_code == 201


def test_anonymous_requests_are_refused(two_datasets, client):
    a, _, _ = two_datasets
    assert APIClient().get(reverse("api-dataset-detail", args=[a.pk])).status_code in (401, 403)
    assert client.get(reverse("workspace:detail", args=[a.pk])).status_code == 302


# The whole matrix of dataset and membership endpoints: who gets what, for each role.
ROLES = ("anonymous", "outsider", "annotator", "lead", "admin")


@pytest.fixture
def matrix():
    dataset = DatasetFactory(name="Matrix")
    users = {
        "outsider": member(DatasetFactory(), "outsider"),
        "annotator": member(dataset, "ann"),
        "lead": member(dataset, "lead", Role.LEAD),
        "admin": UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    member(dataset, "leaving")
    UserFactory(username="newcomer")
    return dataset, users


def as_role(users, role) -> APIClient:
    api = APIClient()
    if role != "anonymous":
        api.force_authenticate(users[role])
    return api


@pytest.mark.parametrize(
    ("method", "name", "data", "expected"),
    [
        ("get", "api-dataset-list", None, (401, 200, 200, 200, 200)),
        ("post", "api-dataset-list", {"name": "New"}, (401, 403, 403, 201, 201)),
        ("get", "api-dataset-detail", None, (401, 404, 200, 200, 200)),
        ("patch", "api-dataset-detail", {"overlap": 2}, (401, 404, 403, 200, 200)),
        ("get", "api-dataset-progress", None, (401, 404, 403, 200, 200)),
        ("get", "api-member-list", None, (401, 404, 403, 200, 200)),
        ("post", "api-member-list", {"username": "newcomer", "role": "annotator"}, (401, 404, 403, 201, 201)),
        ("delete", "api-member-detail", None, (401, 404, 403, 204, 204)),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_dataset_and_member_endpoints_answer_each_role(matrix, method, name, data, expected, role):
    dataset, users = matrix
    args = {
        "api-dataset-list": [],
        "api-member-detail": [dataset.pk, "leaving"],
    }.get(name, [dataset.pk])
    response = getattr(as_role(users, role), method)(reverse(name, args=args), data, format="json")
    assert response.status_code == expected[ROLES.index(role)]


def test_an_annotator_cannot_create_a_dataset_through_the_api(matrix):
    _, users = matrix
    response = as_role(users, "annotator").post(reverse("api-dataset-list"), {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert not Dataset.objects.filter(name="Mine").exists()
    assert not Membership.objects.filter(user=users["annotator"], role=Role.LEAD).exists()


def test_the_create_page_and_the_api_follow_one_rule(client, matrix):
    _, users = matrix
    client.force_login(users["annotator"])
    assert client.get(reverse("workspace:create")).status_code == 403
    assert client.post(reverse("workspace:create"), {"name": "Mine"}).status_code == 403
    assert not Dataset.objects.filter(name="Mine").exists()


def test_a_staff_account_may_create_a_dataset_through_the_api():
    staff = UserFactory(username="staff", is_staff=True)
    response = as_role({"staff": staff}, "staff").post(reverse("api-dataset-list"), {"name": "S"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "target",
    [
        {"username": "root", "is_superuser": True, "is_staff": True},
        {"username": "staffer", "is_staff": True},
        {"username": "gone", "is_active": False},
    ],
    ids=["superuser", "staff", "deactivated"],
)
def test_a_lead_cannot_add_an_admin_or_a_deactivated_account(matrix, target):
    dataset, users = matrix
    user = UserFactory(**target)
    response = as_role(users, "lead").post(
        reverse("api-member-list", args=[dataset.pk]), {"username": user.username, "role": "lead"}, format="json"
    )
    assert response.status_code == 400
    assert not Membership.objects.filter(dataset=dataset, user=user).exists()


@pytest.mark.parametrize("username", ["root", "staffer", "gone"])
def test_adding_an_unknown_username_answers_like_adding_one_you_may_not_add(matrix, username):
    dataset, users = matrix
    UserFactory(username="staffer", is_staff=True)
    UserFactory(username="gone", is_active=False)
    api = as_role(users, "lead")
    url = reverse("api-member-list", args=[dataset.pk])
    refused = api.post(url, {"username": username, "role": "lead"}, format="json")
    unknown = api.post(url, {"username": "nobody-at-all", "role": "lead"}, format="json")
    assert (refused.status_code, refused.content) == (unknown.status_code, unknown.content)


def test_the_member_page_answers_an_unknown_username_like_an_admin(client, matrix):
    dataset, users = matrix
    client.force_login(users["lead"])
    url = reverse("workspace:member-add", args=[dataset.pk])
    replies = []
    for username in ("root", "nobody-at-all"):
        response = client.post(url, {"usernames": username, "role": "lead"}, follow=True)
        replies.append([str(m).replace(username, "<name>") for m in response.context["messages"]])
    assert replies[0] == replies[1] and "cannot be added" in replies[0][0]


def test_the_last_lead_cannot_demote_themselves(matrix):
    dataset, users = matrix
    response = as_role(users, "lead").post(
        reverse("api-member-list", args=[dataset.pk]), {"username": "lead", "role": "annotator"}, format="json"
    )
    assert response.status_code == 400
    assert Membership.objects.get(dataset=dataset, user=users["lead"]).role == Role.LEAD


def test_a_lead_can_hand_over_to_another_lead_then_step_down(matrix):
    dataset, users = matrix
    api = as_role(users, "lead")
    url = reverse("api-member-list", args=[dataset.pk])
    assert api.post(url, {"username": "ann", "role": "lead"}, format="json").status_code == 201
    assert api.post(url, {"username": "lead", "role": "annotator"}, format="json").status_code == 201


def test_removing_a_non_member_answers_like_removing_an_unknown_username(matrix):
    dataset, users = matrix
    api = as_role(users, "lead")
    outsider = api.delete(reverse("api-member-detail", args=[dataset.pk, "outsider"]))
    unknown = api.delete(reverse("api-member-detail", args=[dataset.pk, "nobody-at-all"]))
    assert outsider.status_code == unknown.status_code == 400
    assert outsider.json()["detail"].replace("outsider", "X") == unknown.json()["detail"].replace("nobody-at-all", "X")
