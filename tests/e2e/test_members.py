"""A lead adds a team at once and invites a newcomer, who signs up through the link and lands on the dataset."""

import re

import pytest

from datasets.models import Membership, Role
from tests.conftest import log_in
from tests.factories import DatasetFactory, UserFactory, member


@pytest.mark.browser
def test_a_lead_adds_a_team_and_an_invited_newcomer_signs_up(page, browser, live_server):
    dataset = DatasetFactory(name="Team shop")
    member(dataset, "boss", role=Role.LEAD)
    UserFactory(username="ana")
    UserFactory(username="bo", email="bo@example.org")

    log_in(page, "boss")
    page.goto(f"/datasets/{dataset.pk}/")
    page.fill("#id_usernames", "ana\nbo@example.org, nobody")
    page.click("#member-add button")
    assert "cannot be added" in page.inner_text(".messages") and "nobody" in page.inner_text(".messages")
    page.fill("#id_usernames", "ana\nbo@example.org")
    page.click("#member-add button")
    assert "2 annotators: ana, bo." in page.inner_text(".messages")

    page.click("#invite-new button")
    link = re.search(r"http://\S+/datasets/invite/\S+/", page.inner_text(".messages")).group(0)

    newcomer = browser.new_context(base_url=live_server.url).new_page()
    newcomer.goto(link)
    assert "Join Team shop" in newcomer.inner_text("h1")
    newcomer.fill("#id_username", "newbie")
    newcomer.fill("#id_password", "a long passphrase")
    newcomer.fill("#id_password_again", "a long passphrase")
    newcomer.click("button:has-text('Create my account')")
    newcomer.wait_for_url(f"**/datasets/{dataset.pk}/")
    assert "Team shop" in newcomer.inner_text("h1") and "newbie" in newcomer.inner_text(".who")

    newcomer.goto(link)
    assert "already been used" in newcomer.inner_text("#invite-refused")
    assert set(Membership.objects.filter(dataset=dataset).values_list("user__username", flat=True)) == {
        "boss", "ana", "bo", "newbie"
    }

    page.goto(f"/datasets/{dataset.pk}/")
    page.click("text=newbie")
    assert page.inner_text("#member-answers") == "0"
