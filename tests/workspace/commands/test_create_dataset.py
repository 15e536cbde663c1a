import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from datasets.models import Dataset, Role
from tests.factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db


def create(*argv: str) -> dict:
    out = StringIO()
    call_command("create_dataset", *argv, stdout=out)
    return json.loads(out.getvalue())


def test_creates_a_matching_dataset_with_its_labels_and_lead():
    UserFactory(username="maria")
    made = create("WDC computers", "--kind", "matching", "--lead", "maria")
    dataset = Dataset.objects.get(pk=made["dataset"])
    assert (made["name"], made["kind"], dataset.task_type) == ("WDC computers", "matching", "matching")
    assert dict(dataset.memberships.values_list("user__username", "role")) == {"maria": Role.LEAD}
    assert sorted(dataset.labels.values_list("name", flat=True)) == ["match", "no match"]


def test_without_a_lead_the_first_admin_leads_a_categorization_dataset():
    UserFactory(username="root", is_superuser=True)
    made = create("Catalog")
    dataset = Dataset.objects.get(pk=made["dataset"])
    assert (dataset.task_type, dataset.memberships.get().user.username) == ("categorization", "root")


def test_an_unknown_kind_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'ranking'"):
        create("Queries", "--kind", "ranking", "--lead", UserFactory().username)


def test_an_unknown_lead_and_a_missing_admin_are_refused():
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        create("Offers", "--lead", "nobody")
    with pytest.raises(CommandError, match="Name the dataset's lead with --lead"):
        create("Offers")
    assert not Dataset.objects.exists()


def test_a_name_already_taken_is_refused():
    taken = DatasetFactory(name="Offers")
    with pytest.raises(CommandError, match=f"A dataset named 'Offers' already exists \\(id {taken.pk}\\)"):
        create("Offers", "--lead", UserFactory().username)
