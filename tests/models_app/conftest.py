import pytest

from datasets.models import Dataset
from labeling.models import Annotation, Task
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory

WORDS = {
    "Audio": ["headphones", "earbuds", "speaker", "soundbar"],
    "Phones": ["smartphone", "iphone", "galaxy phone", "android phone"],
    "Shoes": ["sneakers", "running shoes", "boots", "sandals"],
}


@pytest.fixture
def labeled_catalog(db: None) -> Dataset:
    """Three well-separated categories: 8 labeled and 4 open products each."""
    dataset = DatasetFactory(cold_start_examples=3, retrain_every=0)
    for name, words in WORDS.items():
        label = LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}")
        for i in range(12):
            product = ProductFactory(dataset=dataset, title=f"Brand{i} {words[i % 4]} model {i}")
            task = TaskFactory(dataset=dataset, product=product)
            if i < 8:
                Annotation.objects.create(dataset=dataset, task=task, label=label, source="import", source_name="seed")
                Task.objects.filter(pk=task.pk).update(annotation_count=1, is_complete=True)
    return dataset
