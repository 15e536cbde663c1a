import re

import pytest
from django.urls import reverse

from tests.factories import MatchingDatasetFactory, ProductFactory, TaskFactory, UserFactory, pair_task

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    [
        "datasets_dataset",
        "datasets_product",
        "datasets_label",
        "workspace_importjob",
        "labeling_task",
        "labeling_annotation",
        "labeling_labelevent",
    ],
)
def test_admin_changelists_render_for_an_admin(client, model):
    TaskFactory()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200


def test_label_history_cannot_be_edited_in_the_admin(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert client.get(reverse("admin:labeling_labelevent_add")).status_code == 403


def test_the_task_list_names_a_pair_by_its_items_without_a_query_per_row(client, django_assert_max_num_queries):
    dataset = MatchingDatasetFactory()
    for n in range(5):
        left = ProductFactory(dataset=dataset, title=f"Left offer {n}")
        pair_task(dataset, left, ProductFactory(dataset=dataset, title=f"Right offer {n}"))
    TaskFactory(product=ProductFactory(title="A lone product"))
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    # The session, the user, the count, the page with its products and datasets, its items, the dataset filter.
    with django_assert_max_num_queries(6):
        html = client.get(reverse("admin:labeling_task_changelist")).content.decode()
    assert "left: Left offer 3 ↔ right: Right offer 3" in html and "A lone product" in html


def test_a_pair_shows_its_two_products_and_which_is_left_in_the_admin(client):
    dataset = MatchingDatasetFactory()
    right, left = ProductFactory(dataset=dataset), ProductFactory(dataset=dataset)  # left has the higher id
    task = pair_task(dataset, left, right)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    html = client.get(reverse("admin:labeling_task_change", args=[task.pk])).content.decode()
    assert re.search(rf'name="product"[^>]*value="{right.pk}"|value="{right.pk}"[^>]*name="product"', html)
    assert re.search(rf'name="other_product"[^>]*value="{left.pk}"|value="{left.pk}"[^>]*name="other_product"', html)
    assert re.search(r'<input[^>]*name="swapped"[^>]*checked|<input[^>]*checked[^>]*name="swapped"', html)
