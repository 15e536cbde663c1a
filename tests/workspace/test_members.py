"""The Members card: several accounts at once, invite links, a member's page; and the same in the API."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
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
    lead_client.logout()
    response = lead_client.post(
        reverse("workspace:invite", args=[link.token]),
        {"username": "Boss", "password": "a long passphrase", "password_again": "a long passphrase"},
    )
    assert response.status_code == 400 and "taken" in response.content.decode()
    assert Invite.objects.get().used_at is None


def test_an_invite_page_offers_the_log_in_that_comes_back(client):
    link = invite_create(dataset=DatasetFactory(name="Bags"), role=Role.ANNOTATOR, user=None)
    url = reverse("workspace:invite", args=[link.token])
    page = client.get(url)
    assert page.status_code == 200 and "Create my account" in page.content.decode()
    assert page.context["login_url"] == f"/login/?next={quote(url, safe='')}"
    UserFactory(username="known")
    response = client.post(page.context["login_url"], {"username": "known", "password": "pw", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert "Join Bags as annotator" in client.get(url).content.decode()


def test_a_logged_in_account_joins_with_one_post_and_spends_the_link(client):
    dataset = DatasetFactory(name="Bags")
    link = invite_create(dataset=dataset, role=Role.ANNOTATOR, user=None)
    client.force_login(UserFactory(username="known"))
    response = client.post(reverse("workspace:invite", args=[link.token]))
    assert response.status_code == 302 and response["Location"] == f"/datasets/{dataset.pk}/"
    assert Membership.objects.get(dataset=dataset, user__username="known").role == Role.ANNOTATOR
    assert Invite.objects.get().used_by.username == "known"
    again = client.get(reverse("workspace:invite", args=[link.token]))
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_an_invite_raises_a_members_role_and_never_lowers_it(client):
    dataset = DatasetFactory(name="Bags")
    client.force_login(member(dataset, "ann", role=Role.ANNOTATOR))
    raise_link = invite_create(dataset=dataset, role=Role.LEAD, user=None)
    client.post(reverse("workspace:invite", args=[raise_link.token]))
    assert Membership.objects.get(dataset=dataset, user__username="ann").role == Role.LEAD

    lower_link = invite_create(dataset=dataset, role=Role.ANNOTATOR, user=None)
    response = client.post(reverse("workspace:invite", args=[lower_link.token]), follow=True)
    assert Membership.objects.get(dataset=dataset, user__username="ann").role == Role.LEAD
    assert "nothing changed" in messages_of(response)[-1]
    # Nothing happened, so the link is still there for whom it was meant.
    assert Invite.objects.get(pk=lower_link.invite.pk).used_at is None


def test_an_admin_cannot_join_through_an_invite(client, django_user_model):
    link = invite_create(dataset=DatasetFactory(), role=Role.ANNOTATOR, user=None)
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))
    response = client.post(reverse("workspace:invite", args=[link.token]))
    assert response.status_code == 400 and "Admin accounts" in response.content.decode()
    assert not Membership.objects.exists() and Invite.objects.get().used_at is None


def test_the_members_card_lists_open_invites_and_withdraws_one_with_htmx(lead_client, settings):
    dataset = lead_client.dataset
    boss = Membership.objects.get(role="lead").user
    kept = invite_create(dataset=dataset, role=Role.LEAD, user=boss)
    gone = invite_create(dataset=dataset, role=Role.ANNOTATOR, user=boss)
    used = invite_create(dataset=dataset, role=Role.ANNOTATOR, user=boss)
    Invite.objects.filter(pk=used.invite.pk).update(used_at=timezone.now())
    page = lead_client.get(reverse("workspace:detail", args=[dataset.pk]))
    assert [invite.pk for invite in page.context["invites"]] == [gone.invite.pk, kept.invite.pk]
    assert f'id="invite-{gone.invite.pk}"' in page.content.decode()

    url = reverse("workspace:invite-withdraw", args=[dataset.pk, gone.invite.pk])
    partial = lead_client.post(url, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200 and html.lstrip().startswith('<div id="invites">')
    assert f'id="invite-{kept.invite.pk}"' in html and f'id="invite-{gone.invite.pk}"' not in html
    lead_client.logout()
    refused = lead_client.get(reverse("workspace:invite", args=[gone.token]))
    assert refused.status_code == 410 and "was withdrawn" in refused.content.decode()


def test_withdrawing_is_for_the_datasets_leads_and_open_invites(lead_client):
    link = invite_create(dataset=lead_client.dataset, role=Role.ANNOTATOR, user=None)
    url = reverse("workspace:invite-withdraw", args=[lead_client.dataset.pk, link.invite.pk])
    assert lead_client.post(url).status_code == 302
    assert lead_client.post(url).status_code == 404  # already withdrawn: no such open invite
    annotator = Client()
    annotator.force_login(member(lead_client.dataset, "ann", role=Role.ANNOTATOR))
    other = invite_create(dataset=lead_client.dataset, role=Role.LEAD, user=None)
    url = reverse("workspace:invite-withdraw", args=[lead_client.dataset.pk, other.invite.pk])
    assert annotator.post(url).status_code in (403, 404)
    assert Invite.objects.get(pk=other.invite.pk).withdrawn_at is None


def test_the_api_lists_open_invites_and_withdraws_one(lead_client):
    api = APIClient()
    api.force_login(Membership.objects.get(role="lead").user)
    made = api.post(reverse("api-invite-list", args=[lead_client.dataset.pk]), {"role": "lead"}, format="json")
    invite_id = made.json()["id"]
    listed = api.get(reverse("api-invite-list", args=[lead_client.dataset.pk])).json()
    assert [(row["id"], row["role"], row["created_by"]) for row in listed] == [(invite_id, "lead", "boss")]
    detail = reverse("api-invite-detail", args=[lead_client.dataset.pk, invite_id])
    assert api.delete(detail).status_code == 204
    assert api.get(reverse("api-invite-list", args=[lead_client.dataset.pk])).json() == []
    assert api.delete(detail).status_code == 404


def test_expired_invites_are_not_listed(lead_client, settings):
    invite_create(dataset=lead_client.dataset, role=Role.ANNOTATOR, user=None)
    settings.INVITE_MAX_AGE = timedelta(seconds=-1)
    page = lead_client.get(reverse("workspace:detail", args=[lead_client.dataset.pk]))
    assert list(page.context["invites"]) == [] and 'id="no-invites"' in page.content.decode()


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
