"""A span dataset trains a tagger on its resolved span answers: versioned, measured per type on held-out titles,
and every open task rescored (the tagger's spans as suggestions, with probabilities, and an uncertainty)."""

import pytest
from django.urls import reverse

from datasets.models import Role
from labeling.kinds.spans.answers import task_tokens
from labeling.models import Task
from labeling.services import annotation_submit
from models_app.ml.figures import MIN_EVALUATED
from models_app.ml.spans import SpanModel
from models_app.models import ModelVersion, VersionStatus
from models_app.services.training import model_version_train, training_maybe_trigger, training_request
from tests.factories import UserFactory, member
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id
from workspace.demo_attributes import demo_attribute_products
from workspace.services.demo_attributes import demo_attribute_truth, demo_attributes_load

pytestmark = pytest.mark.django_db
# A tiny tagger: a few seconds of training on two shared cores.
TINY = {"epochs": 12, "beam_width": 4, "holdout": 0.25}


def answer_truly(dataset, count: int, seed: int):
    """Answer the first `count` tasks with their true spans; returns the products (the dataset's, in order)."""
    user = member(dataset, "marker")
    types = {label.code: label.pk for label in dataset.labels.all()}
    products = list(demo_attribute_products(len(Task.objects.filter(dataset=dataset)), seed=seed))
    for product in products[:count]:
        task = Task.objects.select_related("product").get(dataset=dataset, product__external_id=product["external_id"])
        value = [[s["token_start"], s["token_end"], types[s["label"]]] for s in demo_attribute_truth(product)]
        annotation_submit(task=task, user=user, label=None, value=value)
    return products


def train(dataset):
    version = training_request(dataset=dataset, enqueue=False)
    return model_version_train(version_id=version.pk)


@pytest.fixture
def marked():
    dataset = demo_attributes_load(
        user=UserFactory(), name="Demo attributes", count=40, seed=5, model_config=TINY, cold_start_examples=1,
    )
    answer_truly(dataset, 28, seed=5)
    return dataset


def test_a_marked_dataset_trains_a_tagger_measured_per_type_on_held_out_titles(marked):
    version = train(marked)

    assert (version.status, version.is_active) == (VersionStatus.SUCCEEDED, True), version.message
    assert version.label_count == 28 and version.split["by"] == "title"
    assert (version.split["train"], version.split["holdout"]) == (21, 7)
    metrics = version.metrics
    assert metrics["evaluated_on"] == "holdout" and metrics["n"] == 7
    for name in ("precision", "recall", "f1", "macro_precision", "macro_recall", "macro_f1"):
        assert 0 <= metrics[name] <= 1, name
    assert "BRAND" in metrics["per_type"]
    assert set(metrics["per_type"]["BRAND"]) == {"precision", "recall", "f1", "support", "predicted"}
    assert version.config["epochs"] == 12 and version.config["seed"] == marked.seed
    version.artifact.open("rb")
    assert "BRAND" in SpanModel.from_bytes(version.artifact.read()).labels


def test_the_open_tasks_get_the_taggers_spans_with_probabilities_and_an_uncertainty(marked):
    version = train(marked)

    open_tasks = list(Task.objects.filter(dataset=marked, is_complete=False).select_related("product"))
    assert version.scored_count == len(open_tasks) == 12
    types = set(marked.labels.values_list("pk", flat=True))
    spans = 0
    for task in open_tasks:
        tokens = task_tokens(task.product, dataset=task.dataset)
        for start, end, label, probability in task.suggestions:
            assert 0 <= start <= end < len(tokens) and label in types and 0 <= probability <= 1
            spans += 1
        assert 0 <= task.uncertainty <= 1 and task.priority == task.uncertainty  # out of the cold start
    assert spans > 0
    assert len({task.uncertainty for task in open_tasks}) > 1


def test_in_the_cold_start_the_priority_stays_zero(marked):
    marked.cold_start_examples = 1000
    marked.save(update_fields=["cold_start_examples"])
    version = train(marked)

    assert version.timings["cold_start"] is True
    assert set(Task.objects.filter(dataset=marked, is_complete=False).values_list("priority", flat=True)) == {0.0}


def test_too_few_answers_fail_the_run_with_why_and_keep_the_suggestions():
    dataset = span_dataset(model_config=TINY)
    user = member(dataset, "marker")
    task = span_task(dataset, "sku-1")
    annotation_submit(task=task, user=user, label=None, value=[[0, 0, type_id(dataset, "BRAND")]])
    before = span_task(dataset, "sku-2").suggestions

    version = train(dataset)

    assert version.status == VersionStatus.FAILED and not version.is_active
    assert "at least 5 answered titles" in version.message and "there are 1 titles with 1 spans" in version.message
    assert span_task(dataset, "sku-2").suggestions == before


def test_span_answers_count_towards_the_automatic_retraining():
    dataset = span_dataset(model_config=TINY, retrain_every=2)
    user = member(dataset, "marker")
    brand = [[0, 0, type_id(dataset, "BRAND")]]
    annotation_submit(task=span_task(dataset, "sku-1"), user=user, label=None, value=brand)
    assert training_maybe_trigger(dataset=dataset) is None
    annotation_submit(task=span_task(dataset, "sku-2"), user=user, label=None, value=[])
    assert training_maybe_trigger(dataset=dataset) is not None


def test_the_model_page_shows_the_taggers_figures_per_type(client, marked):
    version = train(marked)
    # As a holdout of MIN_EVALUATED titles would have it: the tiny one here is too small to show.
    metrics = {**version.metrics, "n": MIN_EVALUATED}
    ModelVersion.objects.filter(pk=version.pk).update(metrics=metrics)
    client.force_login(member(marked, "lead", Role.LEAD))

    page = client.get(reverse("models_app:page", args=[marked.pk])).content.decode()

    assert 'id="span-types"' in page and "BRAND" in page and f"{metrics['f1']:.3f}" in page
    assert f"{MIN_EVALUATED} held-out titles" in page and "rescored 12 open titles" in page
    ModelVersion.objects.filter(pk=version.pk).update(metrics=version.metrics)
    page = client.get(reverse("models_app:page", args=[marked.pk])).content.decode()
    assert 'id="figures-withheld"' in page and "too few held-out labels: 7" in page
