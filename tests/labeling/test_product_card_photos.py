"""The product card's photos and probability bars on the annotate and review pages."""

import pytest
from django.urls import reverse

from datasets.models import Role
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


def annotate_html(client, dataset) -> str:
    client.force_login(member(dataset, "ann"))
    return client.get(reverse("labeling:annotate", args=[dataset.pk])).content.decode()


def test_the_card_shows_every_photo_lazily_in_a_sized_box(client):
    dataset = DatasetFactory()
    product = ProductFactory(
        dataset=dataset,
        image_url="https://cdn.example/1.jpg",
        attributes={"image_url_2": "https://cdn.example/2.jpg", "color": "red"},
    )
    TaskFactory(dataset=dataset, product=product)
    html = annotate_html(client, dataset)
    assert html.count('class="product-photo"') == 2
    assert 'src="https://cdn.example/2.jpg" alt="" loading="lazy"' in html
    assert 'aria-label="Enlarge photo 1 of 2 of ' in html
    assert '<th scope="row">image_url_2</th>' not in html and '<th scope="row">color</th>' in html


def test_a_url_that_is_not_http_is_never_rendered(client):
    dataset = DatasetFactory()
    product = ProductFactory(
        dataset=dataset, image_url="javascript:alert(1)", attributes={"images": ["data:text/html,x", "vbscript:x"]}
    )
    TaskFactory(dataset=dataset, product=product)
    html = annotate_html(client, dataset)
    assert "product-photo" not in html.replace("product_photos", "")
    assert "javascript:alert" not in html and "data:text/html" not in html


def test_suggestions_carry_their_probability_as_a_bar_and_the_unlikely_are_muted(client):
    dataset = DatasetFactory()
    likely, unlikely = LabelFactory(dataset=dataset), LabelFactory(dataset=dataset)
    TaskFactory(dataset=dataset, suggestions=[[likely.pk, 0.74], [unlikely.pk, 0.02]])
    html = annotate_html(client, dataset)
    assert 'class="prob-fill p-75"' in html and 'class="prob-fill p-0"' in html
    assert 'class="shortcut suggestion prob-strong"' in html and 'class="shortcut suggestion prob-weak"' in html
    assert "74%" in html and "2%" in html


def test_the_review_page_shows_the_photos_and_the_model_bars(client):
    dataset = DatasetFactory()
    label = LabelFactory(dataset=dataset)
    product = ProductFactory(dataset=dataset, image_url="http://cdn.example/r.jpg")
    task = TaskFactory(dataset=dataset, product=product, needs_review=True, suggestions=[[label.pk, 0.4]])
    client.force_login(member(dataset, "lead", role=Role.LEAD))
    html = client.get(reverse("labeling:review", args=[dataset.pk]) + f"?task={task.pk}").content.decode()
    assert 'data-zoom-src="http://cdn.example/r.jpg"' in html and "product_photos.js" in html
    assert "prob-medium" in html and 'class="prob-fill p-40"' in html
