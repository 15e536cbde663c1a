"""The kept catalog matrix in the training loop: built once, caught up with changed products, rebuilt when stale."""

import numpy as np
import psycopg2
import pytest
from django.db import connection

from datasets.models import Product
from datasets.selectors import WRITE_MARGIN, product_write_watermark
from labeling.models import Task
from models_app.ml import ModelConfig, load_pipeline, product_text
from models_app.models import VersionStatus
from models_app.services import catalog_features
from models_app.services.catalog_features import (
    catalog_matrix,
    catalog_matrix_current,
    catalog_matrix_prune,
    catalog_matrix_refresh,
)
from models_app.services.training import model_version_train, training_request
from tests.factories import DatasetFactory, ProductFactory, TaskFactory

pytestmark = pytest.mark.django_db


def _train(dataset):
    return model_version_train(version_id=training_request(dataset=dataset).pk)


def _current(dataset, config=None):
    config = config or ModelConfig.from_dict(dataset.model_config)
    return catalog_matrix_current(dataset=dataset, config=config)


def test_a_training_builds_the_matrix_and_scores_tasks_as_its_pipeline_scores_their_texts(labeled_catalog):
    version = _train(labeled_catalog)

    matrix = _current(labeled_catalog)
    assert matrix.rows_count == Product.objects.filter(dataset=labeled_catalog).count() == 36
    assert version.timings["catalog_s"] >= 0
    pipeline = load_pipeline(version.artifact.read())
    tasks = list(Task.objects.filter(dataset=labeled_catalog, is_complete=False).select_related("product"))
    probs = pipeline.predict_proba([product_text({"title": task.product.title}, ["title"]) for task in tasks])
    classes = np.asarray(pipeline.classes_).astype(int)
    for task, row in zip(tasks, probs, strict=True):
        best = np.argsort(-row, kind="stable")[:3]
        assert [label for label, _ in task.suggestions] == classes[best].tolist()
        assert [p for _, p in task.suggestions] == pytest.approx(row[best].tolist(), abs=1e-4)


def test_a_product_changed_after_a_training_is_featurized_again(labeled_catalog):
    _train(labeled_catalog)
    task = Task.objects.get(dataset=labeled_catalog, product__title="Brand9 earbuds model 9")
    product = task.product
    product.title = "Brand9 running shoes model 9"
    product.save()

    _train(labeled_catalog)

    task.refresh_from_db()
    assert labeled_catalog.labels.get(pk=task.suggestions[0][0]).name == "Shoes"
    assert _current(labeled_catalog).manifest["added_rows"] >= 1


def test_many_new_products_queue_a_rebuild_whose_vectorizers_learn_their_words(
    labeled_catalog, django_capture_on_commit_callbacks
):
    _train(labeled_catalog)
    config = ModelConfig.from_dict(labeled_catalog.model_config)
    for i in range(20):
        TaskFactory(dataset=labeled_catalog, product=ProductFactory(dataset=labeled_catalog, title=f"zyxel router {i}"))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        stale = catalog_matrix(dataset=labeled_catalog, config=config)
    assert stale.has(Product.objects.filter(title__startswith="zyxel").values_list("pk", flat=True)).all()
    assert stale.stale_share > catalog_features.REBUILD_SHARE
    assert len(queued) == 1  # the rebuild, sent to the worker once the transaction commits
    assert "zyxel" not in stale.vectorizers.named_steps["features"].transformer_list[0][1].vocabulary_

    assert catalog_matrix_refresh(dataset_id=labeled_catalog.pk, config=config.to_dict()) == 56
    rebuilt = _current(labeled_catalog)
    assert rebuilt.manifest["added_rows"] == 0 and rebuilt.directory != stale.directory
    assert "zyxel" in rebuilt.vectorizers.named_steps["features"].transformer_list[0][1].vocabulary_
    assert catalog_matrix_refresh(dataset_id=labeled_catalog.pk, config=config.to_dict()) == 0  # current now


def test_other_featurization_settings_get_a_matrix_of_their_own(labeled_catalog):
    _train(labeled_catalog)
    words_only = ModelConfig.from_dict({"features": {"char_ngrams": None}})
    labeled_catalog.model_config = words_only.to_dict()
    labeled_catalog.save()

    assert _train(labeled_catalog).status == VersionStatus.SUCCEEDED

    assert _current(labeled_catalog, words_only) is not None
    assert _current(labeled_catalog, ModelConfig()) is not None


def test_the_matrices_of_deleted_datasets_are_removed(labeled_catalog):
    other = DatasetFactory()
    TaskFactory(dataset=other, product=ProductFactory(dataset=other, title="anything"))
    catalog_matrix(dataset=other, config=ModelConfig())
    folder = catalog_features._cache().root / catalog_features._owner(other)
    assert folder.is_dir()
    other.delete()

    assert catalog_matrix_prune() >= 1
    assert not folder.exists()


def test_a_catalog_with_no_text_to_learn_from_fails_the_training_with_why(db):
    dataset = DatasetFactory(cold_start_examples=1, model_config={"features": {"fields": ["description"]}})
    labels = [dataset.labels.create(name=name, path=name) for name in ("A", "B")]
    for i in range(4):
        task = TaskFactory(dataset=dataset, product=ProductFactory(dataset=dataset, description=""))
        task.annotations.create(dataset=dataset, label=labels[i % 2], source="import", source_name="seed")
        Task.objects.filter(pk=task.pk).update(annotation_count=1, is_complete=True)

    version = _train(dataset)

    assert version.status == VersionStatus.FAILED
    assert "featurizing the catalog failed" in version.message


def test_the_watermark_is_before_the_start_of_any_open_transaction(postgres, transactional_db):
    # Rows an import writes carry its transaction's start time and are seen only at its commit: a catch-up from
    # a later watermark would miss them.
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")})
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT now()")  # psycopg2 opened a transaction: it stays open
            started = cursor.fetchone()[0]
        assert product_write_watermark() <= started - WRITE_MARGIN
    finally:
        other.rollback()
        other.close()



def test_a_refresh_of_a_catalog_without_text_builds_nothing_and_raises_nothing(db):
    dataset = DatasetFactory(model_config={"features": {"fields": ["description"]}})
    ProductFactory(dataset=dataset, description="")

    assert catalog_matrix_refresh(dataset_id=dataset.pk) == 0
    assert catalog_matrix_current(dataset=dataset, config=ModelConfig.from_dict(dataset.model_config)) is None


def test_a_refresh_after_an_import_builds_the_matrix_then_catches_it_up(labeled_catalog):
    assert catalog_matrix_refresh(dataset_id=labeled_catalog.pk) == 36
    product = Product.objects.filter(dataset=labeled_catalog).first()
    product.title = "a new title"
    product.save()

    assert catalog_matrix_refresh(dataset_id=labeled_catalog.pk) == 1
    assert catalog_matrix_refresh(dataset_id=labeled_catalog.pk) == 0
