"""The kept catalog matrix: segments, the latest row of each product, scoring from rows, builds and their folders."""

import os

import numpy as np
import pytest
import scipy.sparse as sp

from models_app.ml import ModelConfig, build_pipeline
from models_app.ml import catalog_matrix as cm
from models_app.ml.catalog_matrix import CatalogMatrix, MatrixCache, MatrixError, score_matrix
from models_app.ml.features import fit_classifier
from models_app.ml.scoring import score

TEXTS = {
    11: "wireless headphones black",
    12: "running shoes size 42",
    13: "android smartphone 128gb",
    14: "bluetooth speaker waterproof",
    15: "leather boots brown",
    16: "iphone case clear",
}
CONFIG = ModelConfig.from_dict({"features": {"tokenizer": "regex"}})
SETTINGS = "regex features"


def _fitted_vectorizers():
    return build_pipeline(CONFIG)[:-1].fit(list(TEXTS.values()))


def _matrix(tmp_path, vectorizers=None) -> tuple[MatrixCache, CatalogMatrix]:
    cache = MatrixCache(tmp_path)
    vectorizers = vectorizers or _fitted_vectorizers()
    matrix = cache.start("1-0", SETTINGS, vectorizers=vectorizers, watermark="2026-01-01T00:00:00", fitted_on=6)
    return cache, matrix


def test_rows_come_back_in_the_order_asked_and_a_later_segment_wins(tmp_path) -> None:
    _, matrix = _matrix(tmp_path)
    matrix.append([11, 12, 13], matrix.featurize([TEXTS[11], TEXTS[12], TEXTS[13]]))
    matrix.append([14, 15, 16], matrix.featurize([TEXTS[14], TEXTS[15], TEXTS[16]]))
    matrix.append([12], matrix.featurize(["wireless headphones black"]), added=True)  # 12's text changed

    rows = matrix.rows([16, 12, 11])

    expected = matrix.featurize([TEXTS[16], "wireless headphones black", TEXTS[11]])
    assert (rows != expected).nnz == 0
    assert matrix.manifest["built_rows"] == 6 and matrix.manifest["added_rows"] == 1
    assert matrix.stale_share == pytest.approx(1 / 6)
    assert matrix.has([11, 99]).tolist() == [True, False]


def test_a_product_without_a_row_is_named(tmp_path) -> None:
    _, matrix = _matrix(tmp_path)
    matrix.append([11], matrix.featurize([TEXTS[11]]))

    with pytest.raises(MatrixError, match=r"1 products have no row .*\[99\]"):
        matrix.rows([11, 99])


def test_rows_and_ids_of_different_lengths_are_refused(tmp_path) -> None:
    _, matrix = _matrix(tmp_path)
    with pytest.raises(MatrixError, match="2 product ids but 1 rows"):
        matrix.append([11, 12], matrix.featurize([TEXTS[11]]))


@pytest.mark.parametrize("cells", [cm.SCORE_CELLS, 4])
def test_scores_from_rows_are_the_pipelines_scores_of_the_texts(tmp_path, monkeypatch, cells) -> None:
    monkeypatch.setattr(cm, "SCORE_CELLS", cells)  # 4 cells: one or two rows at a time
    _, matrix = _matrix(tmp_path)
    ids = sorted(TEXTS)
    matrix.append(ids[:4], matrix.featurize([TEXTS[i] for i in ids[:4]]))
    matrix.append(ids[4:], matrix.featurize([TEXTS[i] for i in ids[4:]]))
    changed = {**TEXTS, 13: "brown leather boots"}
    matrix.append([13], matrix.featurize([changed[13]]), added=True)
    labels = ["audio", "shoes", "phones", "audio", "shoes", "phones"]
    pipeline = fit_classifier(CONFIG, matrix.vectorizers, matrix.rows(ids), labels)

    scores = score_matrix(model=pipeline[1:], matrix=matrix, k=2, strategy="entropy")

    (expected,) = score(pipeline=pipeline, texts=[changed[i] for i in ids], k=2, strategy="entropy")
    assert scores.ids.tolist() == ids
    classes = np.asarray(pipeline.classes_)
    assert classes[scores.columns].tolist() == expected.top_labels
    np.testing.assert_allclose(scores.probabilities, expected.top_probs, rtol=1e-5)
    np.testing.assert_allclose(scores.uncertainty, expected.uncertainty, rtol=1e-5)
    at, found = scores.lookup([16, 99, 11])
    assert found.tolist() == [True, False, True]
    assert scores.ids[at[[0, 2]]].tolist() == [16, 11]


def test_a_build_is_current_only_once_published_and_old_builds_are_pruned(tmp_path) -> None:
    cache, matrix = _matrix(tmp_path)
    matrix.append([11], matrix.featurize([TEXTS[11]]))
    assert cache.current("1-0", SETTINGS) is None

    with cache.lock("1-0", SETTINGS):
        cache.publish(matrix, "1-0", SETTINGS)
    current = cache.current("1-0", SETTINGS)
    assert current is not None and current.rows_count == 1
    assert (current.featurize([TEXTS[11]]) != matrix.featurize([TEXTS[11]])).nnz == 0
    assert cache.current("1-0", "other settings") is None
    assert cache.current("2-0", SETTINGS) is None
    current.close(), matrix.close()

    for _ in range(cm.KEEP_BUILDS + 1):
        newer = cache.start("1-0", SETTINGS, vectorizers=matrix.vectorizers, watermark="w", fitted_on=1)
        newer.append([12], newer.featurize([TEXTS[12]]))
        cache.publish(newer, "1-0", SETTINGS)
        newer.close()
    folders = [path for path in (tmp_path / "1-0").iterdir() if path.is_dir()]
    assert len([path for folder in folders for path in folder.iterdir() if path.is_dir()]) == cm.KEEP_BUILDS
    assert cache.current("1-0", SETTINGS).index()[0].tolist() == [12]

    cache.drop_dataset("1-0")
    assert cache.current("1-0", SETTINGS) is None


def test_a_build_a_reader_holds_outlives_newer_publishes_until_it_is_closed(tmp_path) -> None:
    cache, matrix = _matrix(tmp_path)
    matrix.append([11], matrix.featurize([TEXTS[11]]))
    with cache.lock("1-0", SETTINGS):
        cache.publish(matrix, "1-0", SETTINGS)
    matrix.close()
    reader = cache.current("1-0", SETTINGS)  # e.g. a training, reading it while two rebuilds are published

    def rebuild() -> None:
        newer = cache.start("1-0", SETTINGS, vectorizers=reader.vectorizers, watermark="w", fitted_on=1)
        newer.append([12], newer.featurize([TEXTS[12]]))
        cache.publish(newer, "1-0", SETTINGS)
        newer.close()

    for _ in range(cm.KEEP_BUILDS):
        rebuild()
    assert reader.rows([11]).shape == (1, reader.featurize([TEXTS[11]]).shape[1])
    assert len(cache._builds("1-0", SETTINGS)) == cm.KEEP_BUILDS + 1

    reader.close()
    rebuild()
    assert len(cache._builds("1-0", SETTINGS)) == cm.KEEP_BUILDS
    assert not reader.directory.exists()


def test_a_matrix_of_another_format_is_not_served(tmp_path) -> None:
    cache, matrix = _matrix(tmp_path)
    matrix.manifest["format"] = 99
    matrix.save()
    cache.publish(matrix, "1-0", SETTINGS)

    assert cache.current("1-0", SETTINGS) is None
    with pytest.raises(MatrixError, match="format 99"):
        CatalogMatrix.open(matrix.directory)


def test_an_empty_matrix_has_no_rows(tmp_path) -> None:
    _, matrix = _matrix(tmp_path)
    assert matrix.rows([]).shape[0] == 0
    assert sp.issparse(matrix.rows([]))


def test_a_row_is_current_only_for_the_version_of_the_product_it_was_made_from(tmp_path) -> None:
    _, matrix = _matrix(tmp_path)
    matrix.append([11, 12], matrix.featurize([TEXTS[11], TEXTS[12]]), stamps=[100, 200])
    assert matrix.current([12], [200]).tolist() == [True]  # the index is read here, then kept up to date
    matrix.append([12], matrix.featurize(["changed"]), stamps=[300], added=True)

    assert matrix.current([11, 12, 12, 13], [100, 200, 300, 100]).tolist() == [True, False, True, False]
    assert (matrix.rows([12]) != matrix.featurize(["changed"])).nnz == 0
    fresh = CatalogMatrix.open(matrix.directory)  # read from the files alone: the same index
    assert [a.tolist() for a in fresh._indexed()] == [a.tolist() for a in matrix._indexed()]


def test_only_the_settings_used_last_are_kept(tmp_path) -> None:
    cache = MatrixCache(tmp_path)
    vectorizers = _fitted_vectorizers()
    for number, settings in enumerate(["a", "b", "c"]):
        matrix = cache.start("1-0", settings, vectorizers=vectorizers, watermark="w", fitted_on=1)
        matrix.append([11], matrix.featurize([TEXTS[11]]))
        with cache.lock("1-0", settings):
            cache.publish(matrix, "1-0", settings)
        os.utime(tmp_path / "1-0" / cm.settings_digest(settings) / ".lock", (number, number))
    with cache.lock("1-0", "a"):  # "a" used again: now the most recent
        pass

    assert cache.keep_recent_settings("1-0", 2) == 1

    assert [cache.current("1-0", s) is not None for s in ("a", "b", "c")] == [True, False, True]


@pytest.mark.parametrize("strategy", ["margin", "least_confidence", "entropy"])
def test_a_taxonomy_model_is_scored_from_its_own_top_k(tmp_path, monkeypatch, strategy) -> None:
    monkeypatch.setattr(cm, "TOP_K_CHUNK", 3)  # chunks gathered across the segments of 2 rows, and cut
    config = ModelConfig.from_dict({"features": {"tokenizer": "regex"}, "classifier": "taxonomy"})
    _, matrix = _matrix(tmp_path)
    ids = sorted(TEXTS)
    for start in range(0, len(ids), 2):
        matrix.append(ids[start : start + 2], matrix.featurize([TEXTS[i] for i in ids[start : start + 2]]))
    changed = {**TEXTS, 12: "brown leather boots"}
    matrix.append([12], matrix.featurize([changed[12]]), added=True)  # supersedes a row of the first segment
    labels = ["audio", "shoes", "phones", "audio", "shoes", "phones"]
    paths = {"audio": ["Electronics", "Audio"], "phones": ["Electronics", "Phones"], "shoes": ["Apparel", "Shoes"]}
    pipeline = fit_classifier(config, matrix.vectorizers, matrix.rows(ids), labels, label_paths=paths)

    scores = score_matrix(model=pipeline[1:], matrix=matrix, k=2, strategy=strategy)

    assert scores.ids.tolist() == ids
    (expected,) = score(pipeline=pipeline, texts=[changed[i] for i in ids], k=2, strategy=strategy)
    assert np.asarray(pipeline.classes_)[scores.columns].tolist() == expected.top_labels
    np.testing.assert_allclose(scores.probabilities, expected.top_probs, atol=1e-5)
    # With 3 classes the top 2 and the rest are the whole distribution: the entropy is exact too.
    np.testing.assert_allclose(scores.uncertainty, expected.uncertainty, atol=1e-5)
