"""A small relevance dataset for the candidate and ranking tests: a catalog and three queries, no tasks yet."""

from datasets.models import Dataset, Query
from tests.factories import ProductFactory, UserFactory
from tests.labeling.kinds.relevance import test_candidates as relevance_candidates_test
from workspace.services.datasets import dataset_create

CATALOG = [*relevance_candidates_test.CATALOG, ("kettle", "Electric kettle 1.7l", "Russell", "", {})]
QUERIES = [("q1", "iphone 13", 1.0), ("q2", "samsung black", 2.0), ("q3", "kettle", 1.0)]


def search_dataset(name: str = "Search", **settings: object) -> Dataset:
    lead = UserFactory(username=f"owner-{name.lower().replace(' ', '-')}")
    dataset = dataset_create(user=lead, name=name, task_type="relevance", **settings)
    for external_id, title, brand, description, attributes in CATALOG:
        ProductFactory(
            dataset=dataset, external_id=external_id, title=title, brand=brand, description=description,
            attributes=attributes,
        )
    for external_id, text, weight in QUERIES:
        Query.objects.create(dataset=dataset, external_id=external_id, text=text, weight=weight)
    return dataset
