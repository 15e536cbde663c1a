"""The kept feature matrix of a dataset's catalog (``ml.catalog_matrix``): built in the worker on the first training
with given featurization settings, caught up with the products written since before each use, rebuilt in the
background when many rows were added after it. A cache the worker owns: lost, it is built again.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from datasets.models import Dataset
from datasets.selectors import product_write_watermark
from labeling.kinds import kind_get
from labeling.kinds.categorization.training import product_record_pages
from models_app.ml import ModelConfig, build_pipeline, product_text
from models_app.ml.catalog_matrix import CatalogMatrix, MatrixCache
from models_app.services.examples import catalog_texts

logger = logging.getLogger(__name__)

# Rows featurized after a build, as a share of the build's rows, past which the vectorizers are fitted again in
# the background (their vocabulary and IDF then include the new products); until then the old ones serve.
REBUILD_SHARE = 0.25
# A product's write time as a row's stamp: whole microseconds, exact (a float timestamp can round either way).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# Segments past which a matrix is rebuilt too: each catch-up that finds changes adds one, and finding a product's
# latest row reads every segment's ids.
MAX_SEGMENTS = 300
# Feature settings whose matrices a dataset keeps (the most recently used): a lead who tries another config and
# comes back does not wait for a build, and old settings do not fill the disk.
KEEP_SETTINGS = 2


def _stale(matrix: CatalogMatrix) -> bool:
    return matrix.stale_share > REBUILD_SHARE or len(matrix.manifest["segments"]) > MAX_SEGMENTS


def feature_settings(config: ModelConfig) -> str:
    """The featurization part of a config, as the key of its matrix: other settings share the matrix."""
    return json.dumps(config.to_dict()["features"], sort_keys=True)


def _cache() -> MatrixCache:
    # One folder per database: test runs in parallel, or two installations, share a media folder safely.
    database = hashlib.blake2b(str(connection.settings_dict["NAME"]).encode(), digest_size=6).hexdigest()
    return MatrixCache(Path(settings.CATALOG_FEATURES_ROOT) / database)


def _owner(dataset: Dataset) -> str:
    # A dataset id may come back after a deletion (SQLite reuses them): its creation time tells them apart.
    return f"{dataset.pk}-{int(dataset.created_at.timestamp() * 1e6)}"


def _stamp() -> str:
    return product_write_watermark().isoformat()


def _featurize_into(
    matrix: CatalogMatrix, dataset: Dataset, fields: tuple[str, ...], *, since: str | None, check: Callable[[], None]
) -> int:
    """Featurize the dataset's products (all, or those written at or after `since` whose row is not from their
    current version) into new segments of `matrix`; the rows added."""
    added = 0
    changed_since = None if since is None else datetime.fromisoformat(since)
    for ids, times, records in product_record_pages(dataset=dataset, fields=fields, changed_since=changed_since):
        check()
        stamps = np.asarray([(moment - EPOCH) // MICROSECOND for moment in times], dtype=np.int64)
        if since is not None:
            # The watermark lags on purpose (writes not yet visible, clocks): most of these rows are current.
            stale = np.flatnonzero(~matrix.current(ids, stamps))
            ids, stamps, records = [ids[i] for i in stale], stamps[stale], [records[i] for i in stale]
            if not ids:
                continue
        rows = matrix.featurize([product_text(record, fields) for record in records])
        matrix.append(np.asarray(ids), rows, stamps=stamps, added=since is not None)
        added += len(ids)
    return added


def catalog_matrix_current(*, dataset: Dataset, config: ModelConfig) -> CatalogMatrix | None:
    """The current matrix of `config`'s featurization as it is on disk (not caught up), or None."""
    return _cache().current(_owner(dataset), feature_settings(config))


def catalog_matrix_status(*, dataset: Dataset) -> dict | None:
    """What the Models page says of the dataset's current matrix (its own feature settings), or None: products
    featurized by the build, texts the vectorizers learned from, when the build started, rows featurized again
    since and the share past which it is rebuilt."""
    if kind_get(dataset.task_type).name != "categorization":
        return None
    try:
        config = ModelConfig.from_dict(dataset.model_config)
    except ValueError:
        return None
    matrix = catalog_matrix_current(dataset=dataset, config=config)
    if matrix is None:
        return None
    manifest = matrix.manifest
    return {
        # From the manifest alone: a page must not read a million rows' ids off disk.
        "products": manifest["built_rows"],
        "fitted_on": manifest["fitted_on"],
        "built": datetime.fromtimestamp(manifest.get("started", 0), tz=UTC),
        "added": manifest["added_rows"],
        "rebuild_percent": round(REBUILD_SHARE * 100),
    }


def catalog_matrix_build(
    *, dataset: Dataset, config: ModelConfig, check: Callable[[], None] = lambda: None
) -> CatalogMatrix:
    """Fit the vectorizers on the catalog (``catalog_texts``: every product or a seeded sample; no label is read),
    featurize every product, and publish the build as the current one for these settings."""
    cache, key, fields = _cache(), feature_settings(config), config.features.fields
    catalog_matrix_prune()
    watermark = _stamp()
    texts = list(dict.fromkeys(catalog_texts(dataset=dataset, fields=fields)))
    check()
    vectorizers = build_pipeline(config)[:-1].fit(texts)
    matrix = cache.start(_owner(dataset), key, vectorizers=vectorizers, watermark=watermark, fitted_on=len(texts))
    try:
        _featurize_into(matrix, dataset, fields, since=None, check=check)
        with cache.lock(_owner(dataset), key):
            # Products written while this build ran get their rows now, from the build's own vectorizers.
            newer = _stamp()
            _featurize_into(matrix, dataset, fields, since=matrix.watermark, check=check)
            matrix.set_watermark(newer)
            cache.publish(matrix, _owner(dataset), key)
    except BaseException:
        cache.discard(matrix)
        raise
    logger.info("catalog matrix of dataset %s built: %s rows", dataset.pk, matrix.rows_count)
    return matrix


def catalog_matrix(
    *, dataset: Dataset, config: ModelConfig, check: Callable[[], None] = lambda: None
) -> CatalogMatrix:
    """The current matrix for `config`'s featurization, with a row for every product as it is now: built here if
    there is none yet, else caught up (the products written since it was last are featurized again, with its
    vectorizers). When the rows added since the build pass REBUILD_SHARE of it (or its segments MAX_SEGMENTS), a
    rebuild is queued."""
    cache, key, fields = _cache(), feature_settings(config), config.features.fields
    matrix = cache.current(_owner(dataset), key)
    if matrix is None:
        return catalog_matrix_build(dataset=dataset, config=config, check=check)
    with cache.lock(_owner(dataset), key):
        matrix = cache.current(_owner(dataset), key)  # a rebuild may have been published meanwhile
        newer = _stamp()
        _featurize_into(matrix, dataset, fields, since=matrix.watermark, check=check)
        matrix.set_watermark(newer)
    if _stale(matrix):
        from models_app.tasks import catalog_matrix_refresh_task

        transaction.on_commit(lambda: catalog_matrix_refresh_task.delay(dataset.pk, config.to_dict()))
    return matrix


def catalog_matrix_refresh(*, dataset_id: int, config: dict | None = None) -> int:
    """In the background, after an import or when a matrix is stale: build the matrix of `config` (the dataset's
    own by default) if there is none or it is stale (``catalog_matrix``), else catch it up. The rows
    featurized; 0 for a dataset gone or whose kind has no categorizer (two requests for one dataset build once:
    the second finds the first's build current)."""
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None or kind_get(dataset.task_type).name != "categorization":
        return 0
    model_config = ModelConfig.from_dict(dataset.model_config if config is None else config)
    current = _cache().current(_owner(dataset), feature_settings(model_config))
    if current is None or _stale(current):
        try:
            return catalog_matrix_build(dataset=dataset, config=model_config).rows_count
        except ValueError as error:  # no text to learn a vocabulary from: the next training says so to the lead
            logger.warning("catalog matrix of dataset %s not built: %s", dataset.pk, error)
            return 0
    before = current.rows_count
    return catalog_matrix(dataset=dataset, config=model_config).rows_count - before


def catalog_matrix_prune() -> int:
    """Remove the matrices of datasets that no longer exist, and those of all but a dataset's KEEP_SETTINGS most
    recently used feature settings; the count of folders removed."""
    cache = _cache()
    if not cache.root.is_dir():
        return 0
    owners = {_owner(dataset) for dataset in Dataset.objects.only("pk", "created_at")}
    removed = 0
    for folder in cache.root.iterdir():
        if not folder.is_dir():
            continue
        if folder.name not in owners:
            cache.drop_dataset(folder.name)
            removed += 1
            continue
        removed += cache.keep_recent_settings(folder.name, KEEP_SETTINGS)
    return removed
