"""A relevance dataset whose queries each pool exactly their own products, for the judge's pages and lists."""

from datasets.models import Dataset, Query
from labeling.kinds.relevance.candidates import relevance_candidates
from tests.factories import ProductFactory, UserFactory
from workspace.services.datasets import dataset_create

QUERIES = ("red running shoes", "wireless headphones", "coffee grinder", "garden hose", "desk lamp")
MAKERS = ("Acme", "Zenith", "Orbit", "Nimbus", "Vertex", "Helix", "Pioneer", "Summit", "Aurora", "Quartz")


def search_dataset(*, name: str = "Search", queries: int = 3, products: int = 10, **settings: object) -> Dataset:
    """`queries` queries with `products` candidate products each (no word shared across queries, so BM25 pools
    each query's own products and no other's), the tasks made by the candidates step with a pool of 10."""
    lead = UserFactory(username=f"lead-{name.lower().replace(' ', '-')}")
    dataset = dataset_create(user=lead, name=name, task_type="relevance", **settings)
    for number, text in enumerate(QUERIES[:queries], start=1):
        Query.objects.create(dataset=dataset, external_id=f"q{number}", text=text)
        for maker in MAKERS[:products]:
            ProductFactory(dataset=dataset, title=f"{maker} {text}", brand=maker)
    relevance_candidates(dataset=dataset, pool=10)
    return dataset
