"""A small attribute span dataset for the tests: products whose brand and color are in their titles."""

from datasets.importers import ProductRow
from labeling.kinds import kind_get
from labeling.models import Task
from tests.factories import UserFactory
from workspace.services.datasets import dataset_create

TITLES = (
    ("sku-1", "Sony WH-1000XM4 Wireless Headphones Black", "Sony", {"color": "Black"}),
    ("sku-2", "Apple iPhone 13 128GB Blue", "Apple", {"colour": "Blue", "storage": "128GB"}),
    ("sku-3", "Bosch Serie 4 Dishwasher Silver", "Bosch", {"material": "steel"}),
)


def span_dataset(*, name: str = "Attributes", **settings):
    dataset = dataset_create(user=UserFactory(), name=name, task_type="spans", **settings)
    rows = [
        ProductRow(line=i, external_id=external_id, title=title, brand=brand, attributes=attributes)
        for i, (external_id, title, brand, attributes) in enumerate(TITLES, start=1)
    ]
    kind_get("spans").products_write(dataset=dataset, rows=rows)
    return dataset


def span_task(dataset, external_id: str) -> Task:
    return Task.objects.select_related("product", "dataset").get(dataset=dataset, product__external_id=external_id)


def type_id(dataset, code: str) -> int:
    return dataset.labels.get(code=code).pk
