"""The Members card: several accounts at once, invite links, a member's page; and the same in the API."""

from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Membership, Role
from labeling.models import Annotation, QualityReport, Task
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, UserFactory, member
from workspace.models import Invite
from workspace.services.invites import invite_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client):
    dataset = DatasetFactory(name="Shoes")
    client.force_login(member(dataset, "boss", role=Role.LEAD))
    client.dataset = dataset
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_lead_adds_several_annotators_from_one_box(lead_client):
    UserFactory(username="ana")
    UserFactory(username="bo", email="bo@x.org")
    url = reverse("workspace:member-add", args=[lead_client.dataset.pk])
    response = lead_client.post(url, {"usernames": "ana\nbo@x.org", "role": "annotator"}, follow=True)
    assert messages_of(response) == ["2 annotators: ana, bo."]
    assert Membership.objects.filter(dataset=lead_client.dataset, role="annotator").count() == 2


def test_an_unknown_name_refuses_the_list_and_names_it(lead_client):
    UserFactory(username="ana")
    url = reverse("workspace:member-add", args=[lead_client.dataset.pk])
    response = lead_client.post(url, {"usernames": "ana, anna", "role": "annotator"}, follow=True)
    assert "No member added" in messages_of(response)[0] and messages_of(response)[0].endswith(": anna.")
    assert not Membership.objects.filter(dataset=lead_client.dataset, user__username="ana").exists()


def test_the_api_adds_a_list_of_usernames(lead_client):
    UserFactory(username="ana")
    UserFactory(username="bo")
    api = APIClient()
    api.force_login(Membership.objects.get(role="lead").user)
    url = reverse("api-member-list", args=[lead_client.dataset.pk])
    response = api.post(url, {"usernames": ["ana", "bo"], "role": "annotator"}, format="json")
    assert response.status_code == 201
    assert response.json() == [{"username": "ana", "role": "annotator"}, {"username": "bo", "role": "annotator"}]
    refused = api.post(url, {"usernames": ["ana", "nobody"], "role": "lead"}, format="json")
    assert refused.status_code == 400 and refused.json()["extra"] == {"refused": ["nobody"]}


def test_the_api_makes_an_invite_link(lead_client):
    api = APIClient()
    api.force_login(Membership.objects.get(role="lead").user)
    response = api.post(reverse("api-invite-list", args=[lead_client.dataset.pk]), {"role": "annotator"}, format="json")
    assert response.status_code == 201
    assert "/datasets/invite/" in response.json()["url"] and response.json()["role"] == "annotator"


def test_an_invite_link_creates_the_account_logs_in_and_lands_on_the_dataset(lead_client, client):
    url = reverse("workspace:member-add", args=[lead_client.dataset.pk]).replace("members", "invites")
    message = messages_of(lead_client.post(url, {"role": "annotator"}, follow=True))[0]
    link = message.split(": ", 1)[1].removeprefix("http://testserver")
    lead_client.logout()
    form = lead_client.get(link)
    assert form.status_code == 200 and "Join Shoes" in form.content.decode()
    response = lead_client.post(
        link, {"username": "newbie", "password": "a long passphrase", "password_again": "a long passphrase"}
    )
    assert response.status_code == 302 and response["Location"] == f"/datasets/{lead_client.dataset.pk}/"
    assert Membership.objects.get(dataset=lead_client.dataset, user__username="newbie").role == "annotator"
    page = lead_client.get(response["Location"])
    assert page.context["user"].username == "newbie"


def test_a_used_invite_link_says_so(lead_client):
    link = invite_create(dataset=lead_client.dataset, role=Role.ANNOTATOR, user=None)
    url = reverse("workspace:invite", args=[link.token])
    data = {"username": "first", "password": "a long passphrase", "password_again": "a long passphrase"}
    lead_client.logout()
    assert lead_client.post(url, data).status_code == 302
    again = lead_client.get(url)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_an_expired_invite_link_says_so(lead_client, settings):
    link = invite_create(dataset=lead_client.dataset, role=Role.ANNOTATOR, user=None)
    settings.INVITE_MAX_AGE = timedelta(seconds=-1)
    response = lead_client.get(reverse("workspace:invite", args=[link.token]))
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_a_damaged_invite_link_says_so(lead_client):
    link = invite_create(dataset=lead_client.dataset, role=Role.ANNOTATOR, user=None)
    response = lead_client.get(reverse("workspace:invite", args=[link.token[:-2] + "xx"]))
    assert response.status_code == 410 and "not valid" in response.content.decode()
    assert Invite.objects.get().used_at is None


def test_an_invite_refuses_a_taken_username_and_keeps_the_link(lead_client):
    link = invite_create(dataset=lead_client.dataset, role=Role.LEAD, user=None)
    response = lead_client.post(
        reverse("workspace:invite", args=[link.token]),
        {"username": "Boss", "password": "a long passphrase", "password_again": "a long passphrase"},
    )
    assert response.status_code == 400 and "taken" in response.content.decode()
    assert Invite.objects.get().used_at is None


def test_a_members_page_shows_their_figures_and_the_reports(lead_client):
    dataset = lead_client.dataset
    ana = member(dataset, "ana")
    label = LabelFactory(dataset=dataset)
    for seconds, task in zip((4.0, 6.0, 8.0), TaskFactory.create_batch(3, dataset=dataset), strict=True):
        Annotation.objects.create(dataset=dataset, task=task, user=ana, label=label, active_seconds=seconds)
    QualityReport.objects.create(
        dataset=dataset,
        status="succeeded",
        figures={"annotators": [{"rater": ana.pk, "labels": 3, "majority_agreement": 0.75, "majority_items": 4,
                                 "gold_accuracy": 0.5, "gold_correct": 1, "gold_items": 2, "flags": []}]},
    )
    response = lead_client.get(reverse("workspace:member", args=[dataset.pk, "ana"]))
    page = response.content.decode()
    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures["answers"], figures["today"], figures["speed"]["median_seconds"]) == (3, 3, 6.0)
    assert figures["speed"]["per_hour"] == 600.0
    assert 'id="member-agreement">75%' in page and 'id="member-gold">50%' in page


def test_a_members_page_is_for_leads(client):
    dataset = DatasetFactory()
    member(dataset, "other")
    client.force_login(member(dataset, "ana"))
    assert client.get(reverse("workspace:member", args=[dataset.pk, "other"])).status_code == 403


def test_the_datasets_list_shows_progress_in_one_query(client, django_assert_max_num_queries):
    user = UserFactory(username="ana")
    for complete in (1, 2):
        dataset = DatasetFactory()
        Membership.objects.create(dataset=dataset, user=user)
        TaskFactory.create_batch(3, dataset=dataset)
        Task.objects.filter(pk__in=Task.objects.filter(dataset=dataset).values("pk")[:complete]).update(
            is_complete=True
        )
    client.force_login(user)
    with django_assert_max_num_queries(6):
        page = client.get(reverse("workspace:list")).content.decode()
    assert "1 / 3" in page and "2 / 3" in page
