"""A dataset's model settings are a JSON object: anything else is refused before it is saved."""

import pytest

from config.errors import ApplicationError
from datasets.models import Dataset
from datasets.services.datasets import dataset_create, dataset_update
from tests.factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", [None, [], "", 0, False])
def test_create_refuses_model_settings_that_are_not_an_object(value):
    with pytest.raises(ApplicationError, match="model_config"):
        dataset_create(user=UserFactory(), name="Shoes", model_config=value)
    assert not Dataset.objects.exists()


def test_update_refuses_null_model_settings():
    dataset = DatasetFactory(model_config={"classifier": "sgd"})
    with pytest.raises(ApplicationError, match="model_config"):
        dataset_update(dataset=dataset, model_config=None)
    dataset.refresh_from_db()
    assert dataset.model_config == {"classifier": "sgd"}
