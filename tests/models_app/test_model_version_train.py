from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.kinds.categorization.training import catalog_records
from labeling.models import Annotation, Task
from labeling.queue import task_lease_next
from models_app.ml import load_pipeline
from models_app.models import ModelVersion, VersionStatus
from models_app.services.training import model_version_train, training_request
from tests.conftest import WORDS
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


def test_requests_coalesce_into_one_waiting_run(labeled_catalog):
    first = training_request(dataset=labeled_catalog)
    assert training_request(dataset=labeled_catalog) == first
    assert ModelVersion.objects.filter(dataset=labeled_catalog).count() == 1


def test_a_run_trains_rescores_open_tasks_and_becomes_active(labeled_catalog):
    version = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    assert (version.status, version.is_active, version.label_count) == (VersionStatus.SUCCEEDED, True, 24)
    assert version.scored_count == 12
    assert version.metrics["accuracy"] is None  # 24 labels are too few for a figure
    open_tasks = Task.objects.filter(dataset=labeled_catalog, is_complete=False)
    assert all(len(task.suggestions) == 3 for task in open_tasks)
    assert all(task.priority == task.uncertainty for task in open_tasks)


def test_the_suggestions_rank_the_right_category_first(labeled_catalog):
    model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    task = Task.objects.get(dataset=labeled_catalog, product__title="Brand9 earbuds model 9")
    assert labeled_catalog.labels.get(pk=task.suggestions[0][0]).name == "Audio"


def test_the_vectorizers_learn_the_words_of_open_products_too(labeled_catalog):
    version = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    pipeline = load_pipeline(version.artifact.read())
    words = pipeline.named_steps["features"].transformer_list[0][1].vocabulary_
    tasks = Task.objects.filter(dataset=labeled_catalog)

    def words_of(complete: bool) -> set[str]:
        titles = tasks.filter(is_complete=complete).values_list("product__title", flat=True)
        return {word.lower() for title in titles for word in title.split()}

    only_open = words_of(False) - words_of(True)
    assert only_open and only_open <= set(words)


def test_catalog_records_are_every_product_or_a_sample_drawn_with_the_datasets_seed(labeled_catalog):
    titles = set(Task.objects.filter(dataset=labeled_catalog).values_list("product__title", flat=True))
    assert {record["title"] for record in catalog_records(dataset=labeled_catalog, fields=["title"])} == titles
    sample = catalog_records(dataset=labeled_catalog, fields=["title", "brand"], limit=5)
    assert len(sample) == 5 and {record["title"] for record in sample} < titles and set(sample[0]) == {"title", "brand"}
    assert catalog_records(dataset=labeled_catalog, fields=["title", "brand"], limit=5) == sample


def test_the_queue_serves_the_most_uncertain_task_first_after_training(labeled_catalog):
    model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    most_uncertain = Task.objects.filter(dataset=labeled_catalog, is_complete=False).order_by("-uncertainty").first()
    assert task_lease_next(dataset=labeled_catalog, user=member(labeled_catalog, "ann")) == most_uncertain


def test_the_next_batch_is_a_diverse_pick_of_the_most_uncertain_tasks_served_first(labeled_catalog):
    labeled_catalog.retrain_every = 2
    labeled_catalog.save()
    model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    open_tasks = sorted(Task.objects.filter(dataset=labeled_catalog, is_complete=False), key=lambda t: -t.uncertainty)
    raised = [task for task in open_tasks if task.priority > 1]
    # The batch (the labels until the next training) is chosen among the 4 x 2 most uncertain of 12 open tasks.
    assert len(raised) == 2 and set(raised) <= set(open_tasks[:8])
    assert all(task.priority == pytest.approx(task.uncertainty + 1) and len(task.suggestions) == 3 for task in raised)
    assert all(task.priority == task.uncertainty for task in open_tasks if task not in raised)
    first = max(raised, key=lambda task: task.priority)
    assert task_lease_next(dataset=labeled_catalog, user=member(labeled_catalog, "ann")) == first


def test_a_batch_given_to_the_run_is_the_one_made_diverse(labeled_catalog):
    # The labeling simulation trains on demand (retrain_every 0) and gives its own batch.
    model_version_train(version_id=training_request(dataset=labeled_catalog).pk, batch=3)
    raised = Task.objects.filter(dataset=labeled_catalog, is_complete=False, priority__gt=1)
    assert raised.count() == 3


def test_cold_start_keeps_random_order_until_every_label_has_enough_examples(labeled_catalog):
    labeled_catalog.cold_start_examples = 9
    labeled_catalog.save()
    version = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    assert version.timings["cold_start"] is True
    assert set(Task.objects.filter(dataset=labeled_catalog, is_complete=False).values_list("priority", flat=True)) == {
        0
    }


def test_with_the_taxonomy_classifier_the_cold_start_counts_per_first_branch(db):
    # Six leaves under two branches, two labels each: no leaf has 3 examples, each branch has 6.
    dataset = DatasetFactory(cold_start_examples=3, retrain_every=0, model_config={"classifier": "taxonomy"})
    for branch, leaves in {"Electronics": WORDS["Audio"][:3], "Fashion": WORDS["Shoes"][:3]}.items():
        for leaf in leaves:
            label = LabelFactory(dataset=dataset, name=leaf, path=f"{branch} > {leaf}")
            for i in range(3):
                task = TaskFactory(dataset=dataset, product=ProductFactory(dataset=dataset, title=f"{leaf} {i}"))
                if i < 2:
                    Annotation.objects.create(
                        dataset=dataset, task=task, label=label, source="import", source_name="seed"
                    )
                    Task.objects.filter(pk=task.pk).update(annotation_count=1, is_complete=True)

    version = model_version_train(version_id=training_request(dataset=dataset).pk)

    assert version.timings["cold_start"] is False
    assert all(task.priority > 0 for task in Task.objects.filter(dataset=dataset, is_complete=False))


def test_a_failing_run_keeps_the_previous_model_active_and_says_why(labeled_catalog):
    good = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    labeled_catalog.model_config = {"classifier": "no-such-classifier"}
    labeled_catalog.save()
    bad = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    good.refresh_from_db()
    assert (bad.status, bad.is_active, good.is_active) == (VersionStatus.FAILED, False, True)
    assert "no-such-classifier" in bad.message


def test_a_run_whose_worker_died_is_trained_again_on_redelivery(labeled_catalog):
    killed = training_request(dataset=labeled_catalog)
    long_ago = timezone.now() - timedelta(hours=1)
    ModelVersion.objects.filter(pk=killed.pk).update(
        status=VersionStatus.SCORING, started_at=long_ago, heartbeat_at=long_ago, attempts=1
    )
    version = model_version_train(version_id=killed.pk)
    assert (version.status, version.is_active, version.interruptions) == (VersionStatus.SUCCEEDED, True, 1)


def test_a_run_interrupted_too_often_fails_and_keeps_the_previous_model(labeled_catalog, settings):
    good = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    killed = training_request(dataset=labeled_catalog)
    long_ago = timezone.now() - timedelta(hours=1)
    ModelVersion.objects.filter(pk=killed.pk).update(
        status=VersionStatus.RUNNING, heartbeat_at=long_ago, attempts=3, interruptions=settings.JOB_MAX_INTERRUPTIONS
    )
    killed = model_version_train(version_id=killed.pk)
    good.refresh_from_db()
    assert (killed.status, good.is_active) == (VersionStatus.FAILED, True)
    assert "stopped (killed or restarted) 3 times" in killed.message


def test_a_finished_run_is_not_run_again(labeled_catalog):
    version = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)
    again = model_version_train(version_id=version.pk)
    assert (again.status, again.finished_at) == (VersionStatus.SUCCEEDED, version.finished_at)


def test_the_taxonomy_classifier_trains_level_by_level_and_suggests(labeled_catalog):
    labeled_catalog.model_config = {"classifier": "taxonomy"}
    labeled_catalog.save()

    version = model_version_train(version_id=training_request(dataset=labeled_catalog).pk)

    assert version.status == VersionStatus.SUCCEEDED
    assert load_pipeline(version.artifact.read())[-1].__class__.__name__ == "TaxonomyClassifier"
    task = Task.objects.get(dataset=labeled_catalog, product__title="Brand9 earbuds model 9")
    assert labeled_catalog.labels.get(pk=task.suggestions[0][0]).name == "Audio"
    assert len(task.suggestions) == 3
