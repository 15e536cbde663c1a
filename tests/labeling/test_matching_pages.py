"""The annotate and review pages of a matching dataset: the pair side by side, its differences marked."""

from decimal import Decimal

import pytest
from django.urls import reverse

from datasets.models import Role
from labeling.models import Annotation
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

HX = {"HX-Request": "true"}


@pytest.fixture
def pair(db):
    dataset = MatchingDatasetFactory(name="Pairs")
    left = ProductFactory(
        dataset=dataset,
        title="Sony WH-1000XM4 headphones 16GB black",
        brand="Sony",
        price=Decimal("199.00"),
        currency="EUR",
        description="<p>Great <b>sound</b></p><script>alert(1)</script>",
        image_url="https://img.example/left.jpg",
        attributes={"Color": "Black", "Weight": "250 g"},
    )
    right = ProductFactory(
        dataset=dataset,
        title="SONY WH-1000XM5 headphones 16 GB",
        brand="Sony",
        price=Decimal("249.00"),
        currency="EUR",
        attributes={"color": "black", "Weight": "260 g", "Ports": "USB-C"},
    )
    task = pair_task(dataset, left, right)
    return {"dataset": dataset, "task": task, "left": left, "right": right, "labels": labels_of(dataset)}


def labels_of(dataset) -> dict[str, object]:
    return {label.name: label for label in dataset.labels.all()}


def annotate(client, dataset, username: str = "ann", **headers):
    client.force_login(member(dataset, username))
    return client.get(reverse("labeling:annotate", args=[dataset.pk]), headers=headers)


def test_the_pair_is_shown_side_by_side_field_by_field(pair, client):
    html = annotate(client, pair["dataset"]).content.decode()
    assert f'data-task-id="{pair["task"].pk}"' in html
    assert 'id="pair"' in html and 'id="pair-left"' in html and 'id="pair-right"' in html
    assert pair["left"].external_id in html and pair["right"].external_id in html
    assert 'src="https://img.example/left.jpg"' in html and 'loading="lazy"' in html
    assert "<b>sound</b>" in html and "alert(1)" not in html  # the description is sanitized
    assert "USB-C" in html  # the attributes' union


def test_what_differs_is_marked(pair, client):
    html = annotate(client, pair["dataset"]).content.decode()
    assert '<mark class="diff diff-model">WH-1000XM4</mark>' in html
    assert '<mark class="diff diff-model">WH-1000XM5</mark>' in html
    assert '<mark class="diff diff-word">black</mark>' in html
    assert "16GB</mark>" not in html and "16 GB</mark>" not in html  # equal sizes, however written
    assert 'id="pair-price" class="differs"' in html
    assert 'id="pair-brand" class="differs"' not in html
    assert '<tr class="pair-attribute differs">' in html  # the weights
    conflicts = html[html.index('id="pair-conflicts"') :]
    assert "Model number" in conflicts and "Price" in conflicts and "Weight" in conflicts


def test_the_answers_are_three_buttons_with_their_keys(pair, client):
    html = annotate(client, pair["dataset"]).content.decode()
    match, no_match = pair["labels"]["match"], pair["labels"]["no match"]
    assert f'name="label" value="{match.pk}"' in html and 'data-submit-key="1"' in html
    assert f'name="label" value="{no_match.pk}"' in html and 'data-submit-key="2"' in html
    assert 'name="flagged" value="true"' in html and 'data-submit-key="3" data-flag="true"' in html
    assert 'id="label-search"' not in html  # no taxonomy to search


def test_the_model_probability_shows_when_the_dataset_shows_suggestions(pair, client):
    task, match = pair["task"], pair["labels"]["match"]
    task.suggestions = [[match.pk, 0.87], [pair["labels"]["no match"].pk, 0.13]]
    task.save(update_fields=["suggestions"])
    html = annotate(client, pair["dataset"]).content.decode()
    assert "model 87%" in html and "model 13%" in html
    assert 'name="suggestions_shown" value="true"' in html


def test_the_model_probability_is_hidden_when_the_dataset_hides_suggestions(pair, client):
    dataset, task = pair["dataset"], pair["task"]
    dataset.show_suggestions = False
    dataset.save(update_fields=["show_suggestions"])
    task.suggestions = [[pair["labels"]["match"].pk, 0.87]]
    task.save(update_fields=["suggestions"])
    html = annotate(client, dataset).content.decode()
    assert "model 87%" not in html and 'name="suggestions_shown" value="false"' in html


def test_a_match_posted_without_javascript_is_recorded(pair, client):
    annotate(client, pair["dataset"])
    match = pair["labels"]["match"]
    response = client.post(
        reverse("labeling:submit", args=[pair["task"].pk]), {"label": ["", str(match.pk)], "flagged": "false"}
    )
    assert response.status_code == 302
    assert Annotation.objects.get(task=pair["task"]).label == match


def test_unsure_posted_is_a_flag_without_a_label_and_goes_to_review(pair, client):
    annotate(client, pair["dataset"])
    response = client.post(
        reverse("labeling:submit", args=[pair["task"].pk]), {"label": "", "flagged": ["false", "true"]}, headers=HX
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    annotation = Annotation.objects.get(task=pair["task"])
    assert (annotation.label, annotation.flagged) == (None, True)
    pair["task"].refresh_from_db()
    assert pair["task"].needs_review


def test_a_label_of_another_dataset_is_refused_on_the_page(pair, client):
    annotate(client, pair["dataset"])
    foreign = MatchingDatasetFactory().labels.get(code="1")
    response = client.post(reverse("labeling:submit", args=[pair["task"].pk]), {"label": foreign.pk}, headers=HX)
    assert response.status_code == 400 and "No such label in this dataset." in response.content.decode()
    assert not Annotation.objects.exists()


def test_the_help_lists_the_matching_keys(pair, client):
    html = annotate(client, pair["dataset"]).content.decode()
    help_rows = html[html.index('id="help-overlay"') :]
    assert "Match: the same product" in help_rows and "Unsure" in help_rows
    assert "Search the whole taxonomy" not in help_rows


def test_the_review_shows_the_pair_and_offers_match_or_no_match(pair, client):
    dataset, task, labels = pair["dataset"], pair["task"], pair["labels"]
    annotation_submit(task=task, user=member(dataset, "ann1"), label=None, flagged=True)
    client.force_login(member(dataset, "lead", Role.LEAD))
    html = client.get(reverse("labeling:review", args=[dataset.pk])).content.decode()
    assert f'data-task-id="{task.pk}"' in html and 'id="pair"' in html
    assert '<mark class="diff diff-model">WH-1000XM4</mark>' in html
    assert f'value="{labels["match"].pk}" required data-key="1"' in html
    assert f'value="{labels["no match"].pk}" required data-key="2"' in html
    assert 'id="label-search"' not in html


def test_a_review_decision_on_a_pair_names_both_products(pair, client):
    dataset, task = pair["dataset"], pair["task"]
    annotation_submit(task=task, user=member(dataset, "ann1"), label=None, flagged=True)
    client.force_login(member(dataset, "lead", Role.LEAD))
    response = client.post(
        reverse("labeling:review-decide", args=[dataset.pk, task.pk]),
        {"label": pair["labels"]["no match"].pk},
        headers=HX,
    )
    decided = response.content.decode()
    assert f"Decided: {pair['left'].title} ↔ {pair['right'].title} is <strong>no match</strong>" in decided
    assert task.review.label == pair["labels"]["no match"]


def test_the_categorization_page_keeps_its_search_and_shortcuts(client):
    dataset = DatasetFactory()
    LabelFactory(dataset=dataset, name="Audio", path="Audio")
    TaskFactory(dataset=dataset)
    html = annotate(client, dataset).content.decode()
    assert 'id="label-search"' in html and 'id="product-title"' in html
    assert "data-submit-key" not in html and 'id="pair"' not in html


def test_photos_are_buttons_to_enlarge_and_image_columns_are_shown_too(pair, client):
    right = pair["right"]
    right.attributes = {"additional_image_link": "https://img.example/r1.jpg,javascript:alert(1)", "Ports": "USB-C"}
    right.save(update_fields=["attributes"])
    html = annotate(client, pair["dataset"]).content.decode()
    assert (
        'data-zoom-src="https://img.example/left.jpg"' in html and 'data-zoom-src="https://img.example/r1.jpg"' in html
    )
    assert "javascript:" not in html
    assert 'width="400" height="400"' in html and "product_photos.js" in html
