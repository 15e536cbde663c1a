"""Pairs files on the dataset page and through the imports API: offered, and accepted, for matching datasets only
(a categorization dataset page refuses a judgments file as it does a pairs file)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import DatasetFactory, MatchingDatasetFactory, member
from workspace.models import ImportKind

pytestmark = pytest.mark.django_db

PAIRS = b"left_id,left_title,right_id,right_title,label\na1,Lamp,b1,Lamp LX,1\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload_choices(client, dataset) -> str:
    page = client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode()
    return page[page.index('name="kind"') : page.index("</select>", page.index('name="kind"'))]


def test_the_upload_form_offers_pairs_to_a_matching_dataset_only(client):
    matching, catalog = MatchingDatasetFactory(), DatasetFactory()
    lead = member(matching, "lead", Role.LEAD)
    member(catalog, "lead", Role.LEAD)
    client.force_login(lead)
    offered = upload_choices(client, matching)
    assert f'value="{ImportKind.PAIRS}"' in offered and f'value="{ImportKind.TAXONOMY}"' not in offered
    assert f'value="{ImportKind.PAIRS}"' not in upload_choices(client, catalog)


def test_a_pairs_file_uploaded_on_the_page_starts_at_once(client):
    dataset = MatchingDatasetFactory()
    client.force_login(member(dataset, "lead", Role.LEAD))
    upload = SimpleUploadedFile("pairs.csv", PAIRS)
    response = client.post(reverse("workspace:import-upload", args=[dataset.pk]), {"kind": "pairs", "file": upload})
    job = dataset.import_jobs.get()
    assert response["Location"] == reverse("workspace:import-detail", args=[job.pk])
    assert (job.kind, job.status, job.options["label_source"]) == ("pairs", "queued", "import")


@pytest.mark.parametrize(
    "kind, content, owner",
    [
        ("pairs", PAIRS, "product matching"),
        ("judgments", b"query_id,product_id,grade\nq1,a1,E\n", "search relevance"),
    ],
)
def test_a_file_of_another_kinds_tasks_posted_to_a_categorization_dataset_page_gets_the_reason(
    client, kind, content, owner
):
    dataset = DatasetFactory()
    client.force_login(member(dataset, "lead", Role.LEAD))
    upload = SimpleUploadedFile(f"{kind}.csv", content)
    response = client.post(reverse("workspace:import-upload", args=[dataset.pk]), {"kind": kind, "file": upload})
    assert f"A {kind} file goes into a {owner} dataset" in client.get(response["Location"]).content.decode()
    assert not dataset.import_jobs.exists()


def test_the_imports_api_takes_pairs_for_a_matching_dataset_and_refuses_them_elsewhere():
    matching, catalog = MatchingDatasetFactory(), DatasetFactory()
    api = APIClient()
    lead = member(matching, "lead", Role.LEAD)
    member(catalog, "lead", Role.LEAD)
    api.force_authenticate(lead)
    url = reverse("api-import-list", args=[matching.pk])
    accepted = api.post(url, {"kind": "pairs", "file": SimpleUploadedFile("pairs.csv", PAIRS)})
    assert (accepted.status_code, accepted.json()["kind"]) == (202, "pairs")
    refused = api.post(
        reverse("api-import-list", args=[catalog.pk]), {"kind": "pairs", "file": SimpleUploadedFile("p.csv", PAIRS)}
    )
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("A pairs file goes into a product matching dataset")


def test_the_mapping_page_of_a_product_file_offers_no_label_column_in_a_matching_dataset(client):
    matching, catalog = MatchingDatasetFactory(), DatasetFactory()
    for dataset in (matching, catalog):
        client.force_login(member(dataset, f"lead{dataset.pk}", Role.LEAD))
        upload = SimpleUploadedFile("products.csv", b"id,title,label\nP1,Lamp,1\n")
        url = reverse("workspace:import-upload", args=[dataset.pk])
        response = client.post(url, {"kind": "products", "file": upload})
        page = client.get(response["Location"]).content.decode()
        assert ('name="label_column"' in page) == (dataset is catalog)
