import io
import json

import joblib
import numpy as np
import pytest
import sklearn

from labeling.kinds.relevance.ranking import ESCI_GAINS
from models_app.ml.artifacts import (
    MAGIC,
    ArtifactError,
    dump_pipeline,
    dump_ranker,
    load_pipeline,
    load_ranker,
    read_header,
)
from models_app.ml.config import ModelConfig
from models_app.ml.features import build_pipeline
from models_app.ml.relevance import FEATURES, Ranker, RelevanceFeaturizer, train_relevance

TEXTS = ["red running shoe", "black android phone", "blue running shoe", "white android phone"]
LABELS = ["shoes", "phones", "shoes", "phones"]


def fitted():
    return build_pipeline(ModelConfig()).fit(TEXTS, LABELS)


def rewrite_header(data: bytes, **changes) -> bytes:
    end = data.index(b"\n", len(MAGIC))
    header = {**json.loads(data[len(MAGIC) : end]), **changes}
    return MAGIC + json.dumps(header).encode() + data[end:]


def test_a_loaded_pipeline_predicts_like_the_original():
    pipeline = fitted()
    loaded = load_pipeline(dump_pipeline(pipeline))
    assert np.array_equal(loaded.predict_proba(TEXTS), pipeline.predict_proba(TEXTS))


def test_the_header_names_the_format_and_scikit_learn_version():
    assert read_header(dump_pipeline(fitted())) == {"format": 2, "sklearn": sklearn.__version__}


def test_another_format_is_refused():
    with pytest.raises(ArtifactError, match=r"artifact format 3 is not a supported format \(1, 2\); retrain"):
        load_pipeline(rewrite_header(dump_pipeline(fitted()), format=3))


def test_an_artifact_of_format_1_made_by_joblib_still_loads():
    pipeline = fitted()
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=("zlib", 3))
    header = json.dumps({"format": 1, "sklearn": sklearn.__version__}).encode() + b"\n"

    loaded = load_pipeline(MAGIC + header + buffer.getvalue())

    assert np.array_equal(loaded.predict_proba(TEXTS), pipeline.predict_proba(TEXTS))


def test_a_damaged_payload_is_refused_with_why():
    data = dump_pipeline(fitted())
    with pytest.raises(ArtifactError, match="unreadable artifact payload"):
        load_pipeline(data[:-100])


def test_another_scikit_learn_version_is_refused():
    with pytest.raises(ArtifactError, match=r"made with scikit-learn 0\.1"):
        load_pipeline(rewrite_header(dump_pipeline(fitted()), sklearn="0.1"))


def test_another_scikit_learn_version_loads_when_allowed():
    data = rewrite_header(dump_pipeline(fitted()), sklearn="0.1")
    assert list(load_pipeline(data, allow_sklearn_mismatch=True).classes_) == ["phones", "shoes"]


def test_bytes_without_the_header_are_refused():
    with pytest.raises(ArtifactError, match="not a Shelfmark pipeline artifact"):
        load_pipeline(b"\x80\x05 plain pickle")


def ranker() -> Ranker:
    featurizer = RelevanceFeaturizer.fit(TEXTS)
    rows = featurizer.transform(["running shoe"] * 40, TEXTS * 10, TEXTS * 10)
    grades = ["E", "I", "E", "I"] * 10
    return Ranker(featurizer=featurizer, model=train_relevance(rows, grades, gains=ESCI_GAINS))


def test_a_ranker_loads_with_the_features_it_reads():
    data = dump_ranker(ranker())
    assert read_header(data)["features"] == list(FEATURES)
    assert load_ranker(data).model.grades == ["E", "I"]


def test_a_ranker_trained_on_other_features_is_refused():
    data = rewrite_header(dump_ranker(ranker()), features=list(FEATURES[:-1]))
    with pytest.raises(ArtifactError, match=r"reads 12 features.*new: category_share\); retrain the model"):
        load_ranker(data)
