"""The Taxonomy page at the size of Google's taxonomy: one level at a time, branches and paths fetched as asked,
and a label's synonyms edited there (issue 15)."""

import time

import pytest
from django.db import connection
from django.urls import reverse

from datasets.importers import TaxonomyRow
from datasets.models import Label
from datasets.services.taxonomy import taxonomy_upsert
from tests.e2e.test_label_picker import google_shaped_paths
from tests.factories import DatasetFactory, LabelFactory, member

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def shop(db):
    dataset = DatasetFactory()
    shoes = LabelFactory(dataset=dataset, name="Shoes", path="Shoes")
    for name in ("Boots", "Sneakers"):
        LabelFactory(dataset=dataset, parent=shoes, depth=1, name=name, path=f"Shoes > {name}")
    LabelFactory(dataset=dataset, name="Old", path="Old", deprecated=True)
    return dataset, shoes, member(dataset, "lead", "lead")


def test_the_page_shows_the_roots_and_a_branch_opens_on_request(client, shop):
    dataset, shoes, lead = shop
    client.force_login(lead)
    page = client.get(reverse("labeling:taxonomy", args=[dataset.pk])).content.decode()
    assert 'data-path="Shoes"' in page and 'data-path="Shoes &gt; Boots"' not in page
    branch = client.get(reverse("labeling:taxonomy-branch", args=[dataset.pk]), {"parent": shoes.pk}, headers=HX)
    children = branch.content.decode()
    assert 'data-path="Shoes &gt; Boots"' in children and 'data-path="Shoes"' not in children


def test_the_tree_search_lists_the_nodes_whose_path_matches(client, shop):
    dataset, _, lead = shop
    client.force_login(lead)
    found = client.get(reverse("labeling:taxonomy", args=[dataset.pk]), {"q": "sneak"}).content.decode()
    assert 'data-path="Shoes &gt; Sneakers"' in found and 'data-path="Shoes &gt; Boots"' not in found


def test_the_action_forms_suggest_only_paths_still_offered(client, shop):
    dataset, _, lead = shop
    client.force_login(lead)
    url = reverse("labeling:taxonomy-paths", args=[dataset.pk])
    options = client.get(url, {"target": "o"}, headers=HX).content.decode()
    assert '<option value="Shoes &gt; Boots">' in options and "Old" not in options


def test_a_lead_sets_a_labels_synonyms_on_the_page(client, shop):
    dataset, _, lead = shop
    client.force_login(lead)
    sneakers = Label.objects.get(path="Shoes > Sneakers")
    before = sneakers.updated_at
    url = reverse("labeling:taxonomy-synonyms", args=[dataset.pk, sneakers.pk])
    assert 'id="form-synonyms"' in client.get(url, headers=HX).content.decode()
    response = client.post(url, {"synonyms": "trainers\n  Kicks \n\nTRAINERS"}, headers=HX)
    sneakers.refresh_from_db()
    assert sneakers.synonyms == ["trainers", "Kicks"] and sneakers.updated_at > before
    assert "Saved 2 synonyms" in response.content.decode()


def test_synonyms_on_the_page_work_without_javascript(client, shop):
    dataset, _, lead = shop
    client.force_login(lead)
    sneakers = Label.objects.get(path="Shoes > Sneakers")
    url = reverse("labeling:taxonomy-synonyms", args=[dataset.pk, sneakers.pk])
    response = client.post(url, {"synonyms": "trainers"}, follow=True)
    assert "trainers</textarea>" in response.content.decode()


def test_annotators_cannot_set_synonyms_on_the_page(client, shop):
    dataset, _, _ = shop
    client.force_login(member(dataset, "ann"))
    sneakers = Label.objects.get(path="Shoes > Sneakers")
    url = reverse("labeling:taxonomy-synonyms", args=[dataset.pk, sneakers.pk])
    assert client.post(url, {"synonyms": "trainers"}).status_code == 403


def test_the_page_at_the_size_of_googles_taxonomy_is_small_and_quick(client, capsys):
    dataset = DatasetFactory()
    paths = google_shaped_paths()
    taxonomy_upsert(dataset=dataset, rows=[TaxonomyRow(i, "", tuple(p.split(" > "))) for i, p in enumerate(paths, 1)])
    client.force_login(member(dataset, "lead", "lead"))
    url = reverse("labeling:taxonomy", args=[dataset.pk])
    client.get(url)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
    page = response.content
    root = Label.objects.filter(dataset=dataset, depth=0).first()
    started = time.perf_counter()
    branch = client.get(reverse("labeling:taxonomy-branch", args=[dataset.pk]), {"parent": root.pk}, headers=HX)
    branch_seconds = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nTaxonomy page, {len(paths)} nodes on {connection.vendor}: best {min(timings) * 1000:.0f} ms, "
            f"{len(page) / 1024:.1f} KiB; a root's branch {branch_seconds * 1000:.0f} ms, "
            f"{len(branch.content) / 1024:.1f} KiB"
        )
    assert len(paths) == 5595 and page.count(b"<li data-path=") == 21
    assert len(page) < 300_000 and min(timings) < 5
