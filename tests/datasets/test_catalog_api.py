"""The catalog API lists one dataset's labels (by path) and products (in import order), nothing of another's."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import LabelFactory, ProductFactory, member

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_label_list_is_the_datasets_labels_by_path(catalog):
    LabelFactory(name="Apparel")  # another dataset's
    LabelFactory(dataset=catalog, name="Bags")
    response = client_for(member(catalog, "ann")).get(reverse("api-label-list", args=[catalog.pk]))
    assert [row["name"] for row in response.json()["results"]] == ["Audio", "Bags", "Phones", "Shoes"]


def test_the_product_list_is_the_datasets_products_in_import_order(catalog):
    ProductFactory()  # another dataset's
    products = [task.product for task in catalog.tasks.order_by("product_id")]
    response = client_for(member(catalog, "lead", Role.LEAD)).get(reverse("api-product-list", args=[catalog.pk]))
    assert [row["id"] for row in response.json()["results"]] == [product.pk for product in products]
