import csv
import json

import pytest
from django.core.management import call_command

from datasets.models import Dataset
from labeling.models import Annotation, Task
from labeling.simulation import truth_read
from models_app.services.simulation import ORACLE, checkpoints, heldout_split
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory

pytestmark = pytest.mark.django_db

WORDS = {
    "Audio": ["headphones", "earbuds", "speaker", "soundbar", "amplifier"],
    "Phones": ["smartphone", "iphone", "galaxy phone", "android phone", "flip phone"],
    "Shoes": ["sneakers", "running shoes", "boots", "sandals", "loafers"],
}


@pytest.fixture
def catalog(tmp_path) -> tuple[Dataset, object]:
    """20 products in each of 3 clear categories, a truth file naming their labels by path."""
    dataset = DatasetFactory(retrain_every=7, random_fraction=0.3, uncertainty_strategy="entropy", seed=5)
    rows = []
    for name, words in WORDS.items():
        LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}")
        for i in range(20):
            product = ProductFactory(dataset=dataset, title=f"Brand{i % 7} {words[i % 5]} model {i}")
            TaskFactory(dataset=dataset, product=product)
            rows.append({"external_id": product.external_id, "label": f"Shop > {name}"})
    truth = tmp_path / "truth.csv"
    with truth.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["external_id", "label"])
        writer.writeheader()
        writer.writerows(rows)
    return dataset, truth


def simulate(dataset: Dataset, truth, out, strategy: str = "margin") -> dict:
    call_command(
        "simulate_labeling", dataset=str(dataset.pk), truth=str(truth), labels=30, batch=10, strategy=strategy,
        seed=3, out=str(out), quiet=True,
    )
    return json.loads(out.read_text())


def test_the_oracle_labels_through_the_queue_and_reports_a_curve_on_the_heldout_set(catalog, tmp_path):
    dataset, truth = catalog
    keys_before = dict(Task.objects.filter(dataset=dataset).values_list("pk", "random_key"))
    report = simulate(dataset, truth, tmp_path / "report.json")

    assert [point["labels"] for point in report["curve"]] == [10, 20, 30]
    assert report["heldout_size"] == 12  # 20% of each category's 20
    assert report["pool_size"] == 48
    assert all(point["status"] == "succeeded" for point in report["curve"][1:])
    final = report["curve"][-1]
    assert final["accuracy"] >= 0.9 and final["accuracy"] >= report["curve"][1]["accuracy"]
    assert report["totals"]["labels"] == 30
    annotations = Annotation.objects.filter(dataset=dataset)
    assert annotations.count() == 30
    assert set(annotations.values_list("user__username", flat=True)) == {ORACLE}
    # Held-out products were never served: 12 tasks unlabeled, and open again after the run.
    assert Task.objects.filter(dataset=dataset, annotation_count=0, is_complete=False).count() == 60 - 30
    dataset.refresh_from_db()
    assert (dataset.retrain_every, dataset.random_fraction, dataset.uncertainty_strategy, dataset.seed) == (
        7, 0.3, "entropy", 5
    )
    assert dict(Task.objects.filter(dataset=dataset).values_list("pk", "random_key")) == keys_before


def test_compare_full_trains_the_same_model_on_the_whole_pools_truth(catalog, tmp_path):
    dataset, truth = catalog
    out = tmp_path / "report.json"
    call_command(
        "simulate_labeling", dataset=str(dataset.pk), truth=str(truth), labels=10, batch=10, strategy="margin",
        seed=3, out=str(out), quiet=True, compare_full=True,
    )
    full = json.loads(out.read_text())["full_pool"]
    assert full["labels"] == 48 and full["accuracy"] == 1.0 and full["macro_f1"] == 1.0
    # The pool's truth trains no annotation: the oracle's 10 answers are all the dataset holds.
    assert Annotation.objects.filter(dataset=dataset).count() == 10


def test_the_heldout_set_is_never_annotated(catalog, tmp_path):
    dataset, truth = catalog
    simulate(dataset, truth, tmp_path / "margin.json")
    labeled = set(Annotation.objects.filter(dataset=dataset).values_list("task__product__external_id", flat=True))
    held = heldout_split(truth_read(truth), fraction=0.2, seed=3)
    assert len(held) == 12 and not held & labeled


def test_random_order_is_reproducible_for_a_seed(catalog, tmp_path):
    dataset, truth = catalog
    first = simulate(dataset, truth, tmp_path / "a.json", strategy="random")
    order = list(Annotation.objects.filter(dataset=dataset).order_by("pk").values_list("task_id", flat=True))
    Annotation.objects.filter(dataset=dataset).delete()
    Task.objects.filter(dataset=dataset).update(annotation_count=0, is_complete=False, priority=0)
    second = simulate(dataset, truth, tmp_path / "b.json", strategy="random")
    again = list(Annotation.objects.filter(dataset=dataset).order_by("pk").values_list("task_id", flat=True))
    assert order == again
    assert [p["accuracy"] for p in first["curve"]] == [p["accuracy"] for p in second["curve"]]


def test_checkpoints_merge_the_schedule_and_the_batches():
    assert checkpoints(labels=120, batch=50, schedule=[25]) == [25, 50, 100, 120]

