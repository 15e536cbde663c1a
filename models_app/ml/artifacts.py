"""A fitted pipeline or matcher to bytes and back, with a header that refuses artifacts this code cannot load."""

from __future__ import annotations

import io
import json
import pickle
import zlib

import joblib
import sklearn
from sklearn.pipeline import Pipeline

from .matcher import Matcher
from .relevance import FEATURES, Ranker

MAGIC = b"SHELFMARK-PIPELINE\n"
# 2: pickle (protocol 5, the C pickler) compressed with zlib. 1: joblib's, still read. joblib pickles in
# Python, which took 4 s a training for the vectorizers' 200k-term vocabularies; C pickling takes a fifth.
FORMAT_VERSION = 2
FORMATS = (1, 2)
# zlib level 3: about 4x smaller for a 100k-term vocabulary at a fraction of a second per dump.
COMPRESS_LEVEL = 3


class ArtifactError(ValueError):
    """Bytes that are not a loadable pipeline artifact; the message says what to do."""


def dump_pipeline(pipeline: Pipeline) -> bytes:
    """Serialize a fitted pipeline: MAGIC, one JSON header line, then the joblib payload.

    The header {"format", "sklearn"} is readable without unpickling (``read_header``).
    """
    return _dump(pipeline, {})


def dump_matcher(matcher: Matcher) -> bytes:
    """Serialize a fitted matcher as ``dump_pipeline`` does; its header also says {"kind": "matcher"}."""
    return _dump(matcher, {"kind": "matcher"})


def dump_ranker(ranker: Ranker) -> bytes:
    """Serialize a relevance dataset's ranker as ``dump_pipeline`` does; its header also says {"kind": "ranker"}
    and the features it reads."""
    return _dump(ranker, {"kind": "ranker", "features": list(FEATURES)})


def _dump(model: object, extra: dict) -> bytes:
    header = json.dumps({"format": FORMAT_VERSION, "sklearn": sklearn.__version__, **extra}).encode() + b"\n"
    return MAGIC + header + zlib.compress(pickle.dumps(model, protocol=5), COMPRESS_LEVEL)


def read_header(data: bytes) -> dict:
    """The header of an artifact; ArtifactError if the bytes do not start like one."""
    if not data.startswith(MAGIC):
        raise ArtifactError("not a Shelfmark pipeline artifact (missing header)")
    end = data.find(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC) : end]) if end > 0 else None
    except ValueError as exc:
        raise ArtifactError(f"unreadable artifact header: {exc}") from exc
    if not isinstance(header, dict):
        raise ArtifactError("unreadable artifact header")
    return header


def load_pipeline(data: bytes, *, allow_sklearn_mismatch: bool = False) -> Pipeline:
    """Load bytes made by ``dump_pipeline``.

    Refuses another artifact format, and by default another scikit-learn version: scikit-learn
    does not support unpickling across versions, and a silently wrong model is worse than a
    clear request to retrain. Artifacts come only from our own storage, written by our workers;
    unpickling is not safe for bytes from anywhere else.
    """
    pipeline = _load(data, allow_sklearn_mismatch=allow_sklearn_mismatch)
    if not isinstance(pipeline, Pipeline):
        raise ArtifactError(f"artifact holds a {type(pipeline).__name__}, not a Pipeline")
    return pipeline


def load_matcher(data: bytes, *, allow_sklearn_mismatch: bool = False) -> Matcher:
    """Load bytes made by ``dump_matcher``, refusing what ``load_pipeline`` refuses, and a categorizer's pipeline."""
    return _load_kind(data, "matcher", Matcher, "no matcher (a categorizer's pipeline?)", allow_sklearn_mismatch)


def load_ranker(data: bytes, *, allow_sklearn_mismatch: bool = False) -> Ranker:
    """Load bytes made by ``dump_ranker``, refusing what ``load_pipeline`` refuses, another kind's model, and a
    ranker trained on other features than this version computes (its trees would read the wrong columns)."""
    features = read_header(data).get("features")
    if read_header(data).get("kind") == "ranker" and features != list(FEATURES):
        raise ArtifactError(
            f"the ranker reads {len(features or [])} features, this version computes {len(FEATURES)} other ones "
            f"(new: {', '.join(sorted(set(FEATURES) - set(features or []))) or 'none'}); retrain the model"
        )
    return _load_kind(data, "ranker", Ranker, "no relevance ranker", allow_sklearn_mismatch)


def _load_kind(data: bytes, kind: str, cls: type, missing: str, allow_sklearn_mismatch: bool) -> object:
    if read_header(data).get("kind") != kind:
        raise ArtifactError(f"artifact holds {missing}")
    model = _load(data, allow_sklearn_mismatch=allow_sklearn_mismatch)
    if not isinstance(model, cls):
        raise ArtifactError(f"artifact holds a {type(model).__name__}, not a {cls.__name__}")
    return model


def _load(data: bytes, *, allow_sklearn_mismatch: bool) -> object:
    header = read_header(data)
    if header.get("format") not in FORMATS:
        raise ArtifactError(
            f"artifact format {header.get('format')!r} is not a supported format {FORMATS}; retrain the model"
        )
    if header.get("sklearn") != sklearn.__version__ and not allow_sklearn_mismatch:
        raise ArtifactError(
            f"artifact made with scikit-learn {header.get('sklearn')}, this process runs {sklearn.__version__}; "
            "retrain the model"
        )
    payload = data[data.index(b"\n", len(MAGIC)) + 1 :]
    if header["format"] == 1:
        return joblib.load(io.BytesIO(payload))
    try:
        return pickle.loads(zlib.decompress(payload))  # noqa: S301 - our workers' own artifacts (see load_pipeline)
    except (zlib.error, pickle.UnpicklingError, EOFError) as exc:
        raise ArtifactError(f"unreadable artifact payload: {exc}") from exc
