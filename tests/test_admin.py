import pytest
from django.urls import reverse

from tests.factories import TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    [
        "datasets_dataset",
        "datasets_product",
        "datasets_label",
        "datasets_importjob",
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
