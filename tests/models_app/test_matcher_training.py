"""A matching dataset's run trains a pair matcher on the resolved pairs, rescores the open pairs with both
answers' probabilities, and shows precision, recall and F1 on the models page."""

import pytest
from django.urls import reverse

from datasets.models import Dataset
from labeling.models import Annotation, Task
from models_app.ml import load_matcher
from models_app.models import ModelVersion, VersionStatus
from models_app.services.training import model_version_train, training_request
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task

pytestmark = pytest.mark.django_db

BRANDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli")
THINGS = ("laptop", "monitor", "router", "keyboard", "tablet")


def offer(dataset: Dataset, i: int, *, variant: bool = False):
    brand, thing = BRANDS[i % 5], THINGS[(i // 5) % 5]
    if variant:  # the same product as a different shop lists it
        return ProductFactory(dataset=dataset, title=f"{thing.title()} {brand.upper()} {i}X-{100 + i}", brand=brand)
    return ProductFactory(dataset=dataset, title=f"{brand} {thing} model {i}X-{100 + i} new", brand=brand)


def label(dataset: Dataset, task: Task, code: str) -> None:
    Annotation.objects.create(
        dataset=dataset, task=task, label=dataset.labels.get(code=code), source="import", source_name="seed"
    )
    Task.objects.filter(pk=task.pk).update(annotation_count=1, is_complete=True)


def labeled_pairs(matches: int, non_matches: int, open_pairs: int = 6, config: dict | None = None) -> Dataset:
    """Matches: one product in two shops' wording; non-matches: two different products. Some pairs left open.

    Logistic regression by default: the default trees (20 pairs a leaf at least) learn nothing from 40 pairs.
    """
    config = {"classifier": "logreg"} if config is None else config
    dataset = MatchingDatasetFactory(retrain_every=0, cold_start_examples=3, model_config=config)
    for i in range(matches + open_pairs // 2):
        task = pair_task(dataset, offer(dataset, i), offer(dataset, i, variant=True))
        if i < matches:
            label(dataset, task, "1")
    for i in range(non_matches + open_pairs // 2):
        task = pair_task(dataset, offer(dataset, i), offer(dataset, i + 7, variant=True))
        if i < non_matches:
            label(dataset, task, "0")
    return dataset


@pytest.fixture
def pairs() -> Dataset:
    return labeled_pairs(20, 20)


def test_a_run_trains_a_matcher_rescores_open_pairs_and_becomes_active(pairs):
    version = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    assert (version.status, version.is_active, version.label_count) == (VersionStatus.SUCCEEDED, True, 40), (
        version.message
    )
    metrics = version.metrics
    assert {"precision", "recall", "f1", "average_precision", "threshold", "pr_curve"} <= set(metrics)
    assert metrics["evaluated_on"] == "cross-validation" and metrics["n"] == 40
    assert metrics["f1"] > 0.8
    assert version.split["n"] == 40 and version.split["positives"] == 20
    matcher = load_matcher(version.artifact.read())
    assert matcher.threshold == pytest.approx(metrics["threshold"], abs=1e-4)
    assert version.scored_count == 6 and version.timings["cold_start"] is False
    assert version.config == {
        "fields": ["title", "brand", "description", "attributes", "price"],
        "classifier": "logreg",
        "holdout": 0.2,
        "threshold": "calibrated",
    }


def test_the_matchers_vocabulary_comes_from_the_whole_catalog_not_only_the_labeled_pairs(pairs):
    ProductFactory(dataset=pairs, title="Zyxcorp quantum toaster")  # in no pair at all
    version = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    words, _ = load_matcher(version.artifact.read()).featurizer.vectorizers_["title"]
    assert "zyxcorp" in words.vocabulary_


def test_settings_that_are_no_matcher_config_train_the_default_matcher():
    dataset = labeled_pairs(20, 20, config={"features": {"fields": ["title"]}, "classifier": "sgd"})
    version = model_version_train(version_id=training_request(dataset=dataset, enqueue=False).pk)
    assert version.status == VersionStatus.SUCCEEDED, version.message
    assert version.config["classifier"] == "hgb"
    assert load_matcher(version.artifact.read()).config.classifier == "hgb"


def test_open_pairs_get_both_answers_probabilities_and_the_uncertainty_as_priority(pairs):
    version = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    match, no_match = pairs.labels.get(code="1").pk, pairs.labels.get(code="0").pk
    open_pairs = list(Task.objects.filter(dataset=pairs, is_complete=False))
    threshold = version.metrics["threshold"]
    for task in open_pairs:
        [[first, p], [second, q]] = task.suggestions
        assert (first, second) == (match, no_match) and p + q == pytest.approx(1, abs=1e-3)
        expected = p / threshold if p < threshold else (1 - p) / (1 - threshold)
        assert task.uncertainty == pytest.approx(expected, abs=1e-3)
        assert task.priority == task.uncertainty
    # The same offer in two wordings is called a match, two different offers are not.
    same = [t for t in open_pairs if t.suggestions[0][1] >= threshold]
    assert len(same) == 3


def test_the_next_batch_is_a_diverse_pick_of_the_most_uncertain_pairs_served_first():
    dataset = labeled_pairs(20, 20, open_pairs=24)
    dataset.retrain_every = 3
    dataset.save()
    model_version_train(version_id=training_request(dataset=dataset, enqueue=False).pk)
    open_pairs = sorted(Task.objects.filter(dataset=dataset, is_complete=False), key=lambda t: -t.uncertainty)
    raised = [task for task in open_pairs if task.priority > 1]
    # The batch (the labels until the next training) is chosen among the 4 x 3 most uncertain pairs.
    assert len(raised) == 3 and set(raised) <= set(open_pairs[:12])
    assert all(task.priority == pytest.approx(task.uncertainty + 1) for task in raised)
    assert all(task.priority == task.uncertainty for task in open_pairs if task not in raised)


def test_the_cold_start_keeps_priorities_at_zero(pairs):
    pairs.cold_start_examples = 25
    pairs.save()
    version = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    assert version.timings["cold_start"] is True
    assert set(Task.objects.filter(dataset=pairs, is_complete=False).values_list("priority", flat=True)) == {0}


def test_too_few_labels_fail_clearly_and_the_previous_model_stays(pairs):
    good = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    Annotation.objects.filter(dataset=pairs, label__code="0").exclude(
        task__in=Task.objects.filter(dataset=pairs, annotations__label__code="0").order_by("pk")[:1]
    ).delete()
    bad = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    good.refresh_from_db()
    assert (bad.status, bad.is_active, good.is_active) == (VersionStatus.FAILED, False, True)
    assert "at least 2 labeled pairs of each answer; there are 20 match and 1 no match" in bad.message
    assert not bad.artifact


def test_the_models_page_shows_precision_recall_and_f1(pairs, client):
    version = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    client.force_login(member(pairs, "lead", role="lead"))
    response = client.get(reverse("models_app:page", args=[pairs.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Precision" in page and "Recall" in page
    assert f"{version.metrics['f1']:.3f}" in page and f"at threshold {version.metrics['threshold']:.2f}" in page
    assert "40 labels, 5-fold cross-validation" in page
    assert "rescored 6 open pairs" in page


def test_the_versions_api_gives_a_matchers_figures(pairs, client):
    version = model_version_train(version_id=training_request(dataset=pairs, enqueue=False).pk)
    client.force_login(member(pairs, "lead", role="lead"))
    figures = client.get(reverse("api-model-detail", args=[version.pk])).json()["figures"]
    assert figures["withheld"] is None and figures["accuracy"] is None
    assert figures["f1"] == version.metrics["f1"] and figures["threshold"] == version.metrics["threshold"]
    assert figures["precision"] == version.metrics["precision"] and figures["recall"] == version.metrics["recall"]


def test_a_matcher_without_figures_says_why_on_the_models_page(client):
    dataset = labeled_pairs(3, 3)
    version = model_version_train(version_id=training_request(dataset=dataset, enqueue=False).pk)
    assert version.status == VersionStatus.SUCCEEDED and version.metrics["f1"] is None
    client.force_login(member(dataset, "lead", role="lead"))
    response = client.get(reverse("models_app:page", args=[dataset.pk]))
    assert response.status_code == 200
    assert "No precision or recall figures for this version" in response.content.decode()
    assert ModelVersion.objects.get(pk=version.pk).is_active
