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


@pytest.mark.browser
def test_an_existing_account_joins_through_a_link_and_a_lead_withdraws_another(page, browser, live_server):
    dataset = DatasetFactory(name="Team shop")
    member(dataset, "boss", role=Role.LEAD)
    UserFactory(username="cy")

    log_in(page, "boss")
    page.goto(f"/datasets/{dataset.pk}/")
    links = []
    for _ in range(2):
        page.click("#invite-new button")
        links.append(re.search(r"http://\S+/datasets/invite/\S+/", page.inner_text(".messages")).group(0))
    assert page.locator("#invites tbody tr").count() == 2 and "boss" in page.inner_text("#invites")

    # The one with an account opens the link logged out, logs in from it, comes back and joins in one click.
    cy = browser.new_context(base_url=live_server.url).new_page()
    cy.goto(links[0])
    cy.click("#invite-login a")
    cy.fill("#id_username", "cy")
    cy.fill("#id_password", "pw")
    cy.click("button[type=submit]")
    cy.wait_for_url(links[0])
    cy.click("#invite-join button:has-text('Join Team shop as annotator')")
    cy.wait_for_url(f"**/datasets/{dataset.pk}/")
    assert "You joined Team shop as annotator." in cy.inner_text(".messages")
    assert Membership.objects.get(dataset=dataset, user__username="cy").role == Role.ANNOTATOR

    # The lead sees one open link left and withdraws it in place; the link then says so.
    page.goto(f"/datasets/{dataset.pk}/")
    assert page.locator("#invites tbody tr").count() == 1
    page.click("#invites button:has-text('Withdraw')")
    page.wait_for_selector("#no-invites")
    cy.goto(links[1])
    assert "was withdrawn" in cy.inner_text("#invite-refused")
