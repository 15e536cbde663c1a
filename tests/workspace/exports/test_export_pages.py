"""The lead's exports page: the form queues a snapshot, the table follows it, the link downloads it."""

import hashlib

import pytest
from django.urls import reverse

from workspace.models import Export, ExportStatus
from workspace.services.exports import export_create, export_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # Stored exports land in a fresh directory: a name left by an earlier run would make storage rename the file.
    settings.MEDIA_ROOT = tmp_path / "media"

HTMX = {"HX-Request": "true"}


@pytest.fixture
def lead_client(client, voted):
    client.force_login(voted.memberships.get(user__username="lead").user)
    return client


@pytest.fixture
def annotator_client(client, voted):
    client.force_login(voted.memberships.get(user__username="ann1").user)
    return client


def page_url(dataset) -> str:
    return reverse("workspace:exports", args=[dataset.pk])


def form_data(**changes) -> dict:
    data = {"format": "jsonl", "policy": "final", "min_agreement": "0.5", "min_votes": "1", "split": "", "seed": "0"}
    return data | changes


def test_a_lead_sees_the_page_with_its_form(lead_client, voted):
    response = lead_client.get(page_url(voted))
    assert response.status_code == 200
    assert b'name="policy"' in response.content and b'name="split"' in response.content
    assert b"No exports yet." in response.content


def test_posting_the_form_queues_an_export_and_redirects_back(lead_client, voted):
    response = lead_client.post(page_url(voted), form_data(split="0.8,0.1,0.1", seed="7", include_flagged="on"))
    assert response.status_code == 302
    export = Export.objects.get()
    assert response["Location"] == f"{page_url(voted)}?export={export.pk}"
    assert (export.status, export.created_by.username) == (ExportStatus.QUEUED, "lead")
    params = export.params
    assert (params["split"], params["seed"], params["include_flagged"]) == ([0.8, 0.1, 0.1], 7, True)


def test_a_queued_export_is_listed_and_polled_then_ready_with_a_download_link(lead_client, voted):
    lead_client.post(page_url(voted), form_data(split="0.8,0.1,0.1", seed="7"))
    export = Export.objects.get()
    queued = lead_client.get(page_url(voted)).content.decode()
    assert 'hx-trigger="every 2s"' in queued
    assert "Download" not in queued
    export = export_run(export_id=export.pk)
    ready = lead_client.get(page_url(voted)).content.decode()
    assert reverse("workspace:export-download", args=[export.pk]) in ready
    assert "split 0.8/0.1/0.1, seed 7" in ready
    assert f'title="{export.sha256}">{export.sha256[:12]}</code>' in ready
    assert 'hx-trigger="every 2s"' not in ready


def test_a_bad_split_is_shown_on_the_form_and_nothing_is_queued(lead_client, voted):
    response = lead_client.post(page_url(voted), form_data(split="0.8,0.3,0.1"))
    assert response.status_code == 400
    assert b"add up to 1" in response.content
    assert not Export.objects.exists()


def test_an_htmx_request_gets_only_the_snapshots_partial(lead_client, voted):
    export_create(dataset=voted, user=None, fmt="csv", policy="final")
    response = lead_client.get(page_url(voted), headers=HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="export-snapshots"')
    assert "<html" not in content and 'name="policy"' not in content


def test_the_download_link_serves_the_stored_file(lead_client, voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="csv", policy="raw").pk)
    response = lead_client.get(reverse("workspace:export-download", args=[export.pk]))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert hashlib.sha256(body).hexdigest() == export.sha256
    assert response["ETag"] == f'"{export.sha256}"'


def test_the_download_link_of_an_unfinished_export_goes_back_with_a_message(lead_client, voted):
    export = export_create(dataset=voted, user=None, fmt="csv", policy="final")
    response = lead_client.get(reverse("workspace:export-download", args=[export.pk]), follow=True)
    assert response.redirect_chain[-1][0] == page_url(voted)
    assert b"The export is not ready: queued." in response.content


def test_the_dataset_page_links_the_exports_for_a_lead(lead_client, voted):
    assert page_url(voted).encode() in lead_client.get(reverse("workspace:detail", args=[voted.pk])).content


def test_an_annotator_sees_no_link_and_gets_403(annotator_client, voted):
    export = export_run(export_id=export_create(dataset=voted, user=None, fmt="csv", policy="final").pk)
    assert page_url(voted).encode() not in annotator_client.get(reverse("workspace:detail", args=[voted.pk])).content
    assert annotator_client.get(page_url(voted)).status_code == 403
    assert annotator_client.post(page_url(voted), form_data()).status_code == 403
    assert annotator_client.get(reverse("workspace:export-download", args=[export.pk])).status_code == 403
    assert Export.objects.count() == 1


def test_the_banner_of_an_export_says_ready_once_it_is_ready(lead_client, voted):
    location = lead_client.post(page_url(voted), form_data(split="0.8,0.1,0.1"))["Location"]
    export = export_run(export_id=Export.objects.get().pk)
    polled = lead_client.get(location, headers=HTMX).content.decode()
    assert f"Export {export.pk} is ready: 3 rows." in polled
    assert "queued" not in polled


def test_the_banner_says_queued_while_the_export_waits(lead_client, voted):
    location = lead_client.post(page_url(voted), form_data())["Location"]
    page = lead_client.get(location).content.decode()
    assert f"Export {Export.objects.get().pk} is queued; the worker builds it." in page


def test_the_poll_keeps_following_the_export_of_the_banner(lead_client, voted):
    location = lead_client.post(page_url(voted), form_data())["Location"]
    assert f'hx-get="{location}"' in lead_client.get(location).content.decode()


def test_a_ready_export_shows_its_split_warning(lead_client, voted):
    queued = export_create(dataset=voted, user=None, fmt="csv", policy="final", options={"split": "0.8,0.1,0.1"})
    export_run(export_id=queued.pk)
    page = lead_client.get(page_url(voted)).content.decode()
    assert '<div class="hint split-warning">dev is empty: 10% of 3 products is 0.3, which rounds to none.</div>' in page
    assert "train 3 · dev 0 · test 0" in page
