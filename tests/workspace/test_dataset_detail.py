"""The dataset page counts what a task is of its kind: pairs for a matching dataset, products for categorization."""

import re

import pytest
from django.urls import reverse

from datasets.models import Role
from labeling.services import annotation_submit
from tests.factories import (
    DatasetFactory,
    LabelFactory,
    MatchingDatasetFactory,
    ProductFactory,
    TaskFactory,
    member,
    pair_task,
)

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_a_matching_dataset_page_counts_pairs(client):
    dataset = MatchingDatasetFactory()
    pairs = [pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset)) for _ in range(3)]
    annotation_submit(task=pairs[0], user=member(dataset, "ann"), label=dataset.labels.get(code="1"))
    client.force_login(member(dataset, "lead", Role.LEAD))
    page = text(client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode())
    assert "You have labeled 0 pairs and skipped 0." in page
    assert "1 of 3 pairs complete · 6 products · 1 annotations" in page
    assert "labels in the taxonomy" not in page


def test_an_annotator_of_a_matching_dataset_reads_their_pairs(client):
    dataset = MatchingDatasetFactory()
    pair = pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset))
    annotator = member(dataset, "ann")
    annotation_submit(task=pair, user=annotator, label=dataset.labels.get(code="0"))
    client.force_login(annotator)
    page = text(client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode())
    assert "You have labeled 1 pairs and skipped 0." in page


def test_a_categorization_dataset_page_keeps_its_wording(client):
    dataset = DatasetFactory()
    LabelFactory(dataset=dataset)
    TaskFactory.create_batch(2, dataset=dataset)
    client.force_login(member(dataset, "lead", Role.LEAD))
    page = text(client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode())
    assert "You have labeled 0 products and skipped 0." in page
    assert "0 of 2 tasks complete · 2 products · 1 labels in the taxonomy · 0 annotations" in page
