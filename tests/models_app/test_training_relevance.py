"""A relevance dataset trains a ranker on its judged pairs: versioned, measured on held-out queries, and every
open pair rescored (the likeliest grades as suggestions, the uncertainty as the queue's priority)."""

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from config.errors import ApplicationError
from labeling.models import Task
from labeling.services import annotation_submit
from models_app.ml import load_ranker
from models_app.ml.figures import MIN_EVALUATED
from models_app.ml.relevance import query_holdout_split
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from models_app.services.experiments import experiment_create
from models_app.services.training import model_version_train, training_request, trainings_due_request
from tests.factories import member
from tests.models_app.relevance_set import relevance_set
from workspace.services.datasets import dataset_update

pytestmark = pytest.mark.django_db


def judge(dataset, truth, tasks, user=None):
    user = user or member(dataset, "judge")
    labels = {label.code: label for label in dataset.labels.all()}
    for task in tasks:
        grade = truth[task.query.external_id, task.product.external_id]
        annotation_submit(task=task, user=user, label=labels[grade])


def relevance_tasks(dataset):
    return list(Task.objects.filter(dataset=dataset).select_related("query", "product").order_by("pk"))


@pytest.fixture
def judged():
    dataset, truth = relevance_set(model_config={"holdout": 0.3}, cold_start_examples=1)
    tasks = relevance_tasks(dataset)
    judged_queries = {task.query.external_id for task in tasks[: len(tasks) * 2 // 3]}
    judge(dataset, truth, [task for task in tasks if task.query.external_id in judged_queries])
    return dataset


def train(dataset):
    version = training_request(dataset=dataset, enqueue=False)
    return model_version_train(version_id=version.pk)


def test_a_judged_dataset_trains_a_ranker_measured_on_held_out_queries(judged):
    version = train(judged)

    assert (version.status, version.is_active, version.number) == (VersionStatus.SUCCEEDED, True, 1)
    assert version.split["by"] == "query" and version.split["holdout_queries"] >= 1
    assert version.label_count == Task.objects.filter(dataset=judged, annotation_count=1).count()
    metrics = version.metrics
    assert metrics["evaluated_on"] == "holdout" and metrics["n"] == version.split["holdout"]
    assert 0 <= metrics["accuracy"] <= 1 and metrics["queries"] == version.split["holdout_queries"]
    assert 0 < metrics["ndcg_at_10"] <= 1 and 0 < metrics["bm25_ndcg_at_10"] <= 1
    grade_ids = {str(pk) for pk in judged.labels.values_list("pk", flat=True)}
    assert set(metrics["per_class"]) <= grade_ids  # as the model page names classes: label ids
    version.artifact.open("rb")
    ranker = load_ranker(version.artifact.read())
    assert set(ranker.model.grades) == {"E", "S", "I"}


def test_the_open_pairs_get_grade_suggestions_and_a_priority_by_uncertainty(judged):
    version = train(judged)

    open_tasks = Task.objects.filter(dataset=judged, is_complete=False)
    assert version.scored_count == open_tasks.count() > 0
    grade_ids = set(judged.labels.values_list("pk", flat=True))
    for task in open_tasks:
        suggested = [label for label, _ in task.suggestions]
        probabilities = [probability for _, probability in task.suggestions]
        assert len(suggested) == 3 and set(suggested) <= grade_ids
        assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001
        assert 0 <= task.uncertainty <= 1 and task.priority >= task.uncertainty
    assert len({task.priority for task in open_tasks}) > 1
    assert not Task.objects.filter(dataset=judged, is_complete=True, priority__gt=0).exists()


def test_the_exact_offers_of_an_open_query_are_suggested_exact(judged):
    train(judged)
    exact = judged.labels.get(code="E").pk
    open_tasks = Task.objects.filter(dataset=judged, is_complete=False).select_related("query", "product")
    own = [task for task in open_tasks if task.product.external_id.startswith(f"{task.query.external_id}-")]
    assert own and sum(task.suggestions[0][0] == exact for task in own) / len(own) >= 0.75


def test_judgments_of_one_grade_fail_the_run_and_say_why():
    dataset, truth = relevance_set()
    tasks = relevance_tasks(dataset)
    tasks = [task for task in tasks if truth[task.query.external_id, task.product.external_id] == "E"]
    judge(dataset, truth, tasks[:5])
    version = train(dataset)
    assert version.status == VersionStatus.FAILED
    assert "at least 2 grades" in version.message


def test_a_relevance_dataset_retrains_every_retrain_every_labels():
    dataset, truth = relevance_set(retrain_every=3)
    tasks, user = relevance_tasks(dataset), member(dataset, "judge")
    judge(dataset, truth, tasks[:2], user)
    assert trainings_due_request() == []
    judge(dataset, truth, tasks[2:3], user)
    trainings_due_request()  # what the worker's sweep does
    version = ModelVersion.objects.get(dataset=dataset)
    assert (version.trigger, version.status) == (TrainingTrigger.AUTO, VersionStatus.QUEUED)


def test_a_rankers_settings_are_checked_as_it_reads_them():
    dataset, _ = relevance_set()
    dataset_update(dataset=dataset, model_config={"holdout": 0.1})
    with pytest.raises((ApplicationError, ValidationError), match="holdout must be a fraction"):
        dataset_update(dataset=dataset, model_config={"holdout": 0.9})
    with pytest.raises((ApplicationError, ValidationError), match="unknown relevance config key"):
        dataset_update(dataset=dataset, model_config={"fields": ["title"]})


def test_the_holdout_takes_whole_queries():
    queries = np.array([1, 1, 1, 2, 2, 3, 3, 3, 4, 5])
    train_at, held_at = query_holdout_split(queries, fraction=0.4, seed=0)
    assert not set(queries[train_at]) & set(queries[held_at])
    assert len(set(queries[held_at])) == 2 and sorted([*train_at, *held_at]) == list(range(10))
    assert len(query_holdout_split(queries[:3], fraction=0.5, seed=0)[1]) == 0  # one query: it trains


def test_the_models_page_shows_a_rankers_version_with_its_grades(judged, client):
    version = train(judged)
    client.force_login(member(judged, "lead", role="lead"))
    response = client.get(reverse("models_app:page", args=[judged.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Version {version.number}" in page or f"v{version.number}" in page
    # 24 held-out judgments: too few for figures, nDCG included.
    assert 'id="figures-withheld"' in page and "nDCG@10" not in page


def test_the_models_page_shows_the_rankers_ndcg_beside_bm25s_once_figures_are_shown(judged, client):
    version = train(judged)
    # As a larger holdout would measure it: enough held-out judgments for the page to show figures.
    metrics = {**version.metrics, "n": MIN_EVALUATED}
    ModelVersion.objects.filter(pk=version.pk).update(metrics=metrics)
    client.force_login(member(judged, "lead", role="lead"))
    page = client.get(reverse("models_app:page", args=[judged.pk])).content.decode()
    assert f"<dt>nDCG@10</dt><dd>{metrics['ndcg_at_10']:.3f}<br>" in page
    assert f"BM25 {metrics['bm25_ndcg_at_10']:.3f} on the same {metrics['queries']:,} held-out queries" in page


def test_preprocessing_experiments_are_a_categorizers_and_refused_here(judged, client):
    with pytest.raises(ApplicationError, match="compare a categorizer's text settings"):
        experiment_create(dataset=judged, user=None, names=["default"])
    client.force_login(member(judged, "lead", role="lead"))
    page = client.get(reverse("models_app:page", args=[judged.pk])).content.decode()
    assert "Preprocessing experiments" not in page
