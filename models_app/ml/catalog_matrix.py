"""A catalog's feature matrix, computed once and kept on disk: training slices its labeled rows, rescoring
multiplies it with a model's coefficients, and neither featurizes a text again.

Layout: ``root/<dataset>/<settings digest>/<build>/`` holds the fitted vectorizers, immutable segments of rows
(``segment-00000.npz``: product ids and a CSR matrix) and ``manifest.json``, rewritten atomically after each
segment. A product featurized again (its text changed) gets a row in a later segment, which wins over the earlier
ones. A build is written under ``tmp-<build>`` and renamed into place when complete, so a reader never sees half
a build; the newest complete build of a key is the current one, and the one before it is kept while readers may
still hold it. Pure Python and files: no Django.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.sparse as sp
from scipy.special import entr
from sklearn.pipeline import Pipeline

from .scoring import STRATEGIES, top_k, uncertainty

MANIFEST = "manifest.json"
VECTORIZERS = "vectorizers.pickle"
FORMAT_VERSION = 1
# Complete builds kept per key: the current one and the one before; an older one a reader still pins (PIN, a
# shared flock held while its CatalogMatrix lives) stays until a later publish finds it free.
KEEP_BUILDS = 2
PIN = ".pin"
# Probabilities computed at once while scoring (rows x classes float64): 5,595 classes make 2,000-row chunks.
SCORE_CELLS = 12_000_000
# Rows scored at once by a model that gives its own top k (``predict_top``), gathered across segments (20k rows):
# the beam's per-call cost made 20k-row calls twice as slow per row as 100k-row ones.
TOP_K_CHUNK = 200_000


class MatrixError(ValueError):
    """A kept matrix that cannot serve: missing rows, or files of another format; the message says which."""


def settings_digest(settings: str) -> str:
    """The folder name of a featurization settings string."""
    return hashlib.blake2b(settings.encode(), digest_size=8).hexdigest()


class CatalogMatrix:
    """One build: its vectorizers, its segments, and the manifest that lists them.

    manifest: {"format", "settings", "watermark" (the products' write time up to which rows are current),
    "fitted_on" (texts the vectorizers learned from), "built_rows" (rows of the build itself), "added_rows"
    (rows featurized since, for new or changed products), "segments": [{"file", "rows"}], "started" (the
    build's start, seconds since the epoch)}.
    """

    def __init__(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.manifest = manifest
        self._vectorizers: Any = None
        self._index: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._pin: IO[str] | None = None

    @classmethod
    def open(cls, directory: Path) -> CatalogMatrix:
        """The build at `directory`, pinned until ``close`` (or until the object is gone): a publish does not
        remove a build a reader holds."""
        pin = _pin(Path(directory))
        try:
            manifest = json.loads((Path(directory) / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            pin.close()
            raise MatrixError(f"unreadable catalog matrix at {directory}: {exc}") from exc
        if manifest.get("format") != FORMAT_VERSION:
            pin.close()
            raise MatrixError(f"catalog matrix at {directory} has format {manifest.get('format')!r}")
        matrix = cls(directory, manifest)
        matrix._pin = pin
        return matrix

    def close(self) -> None:
        """Unpin the build: a later publish may remove it."""
        if self._pin is not None:
            self._pin.close()
            self._pin = None

    @property
    def watermark(self) -> str:
        return self.manifest["watermark"]

    @property
    def rows_count(self) -> int:
        return sum(segment["rows"] for segment in self.manifest["segments"])

    @property
    def stale_share(self) -> float:
        """Rows added after the build, as a share of the build's: a large share asks for a rebuild, whose
        vectorizers learn the new products' vocabulary too."""
        return self.manifest["added_rows"] / max(self.manifest["built_rows"], 1)

    @property
    def vectorizers(self) -> Any:
        if self._vectorizers is None:
            # Written by our own worker into its own cache (MatrixCache.start), never from elsewhere.
            self._vectorizers = pickle.loads((self.directory / VECTORIZERS).read_bytes())  # noqa: S301
        return self._vectorizers

    def featurize(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix(self.vectorizers.transform(list(texts)))

    def append(
        self,
        product_ids: Sequence[int] | np.ndarray,
        rows: sp.spmatrix,
        *,
        stamps: Sequence[int] | np.ndarray | None = None,
        added: bool = False,
    ) -> None:
        """Write the rows of `product_ids` as a new segment; they win over earlier rows of the same products.
        `stamps` (one integer per product, e.g. its write time in microseconds) tell a later catch-up which rows
        are still current (``current``)."""
        ids = np.asarray(product_ids, dtype=np.int64)
        stamps = np.full(len(ids), -1, dtype=np.int64) if stamps is None else np.asarray(stamps, dtype=np.int64)
        rows = sp.csr_matrix(rows)
        if rows.shape[0] != len(ids) or len(stamps) != len(ids):
            raise MatrixError(f"{len(ids)} product ids but {rows.shape[0]} rows and {len(stamps)} stamps")
        if not len(ids):
            return
        name = f"segment-{len(self.manifest['segments']):05d}.npz"
        with open(self.directory / name, "wb") as handle:
            np.savez(
                handle, ids=ids, stamps=stamps, data=rows.data, indices=rows.indices, indptr=rows.indptr,
                shape=np.asarray(rows.shape, dtype=np.int64),
            )
        self.manifest["segments"].append({"file": name, "rows": len(ids)})
        self.manifest["added_rows" if added else "built_rows"] += len(ids)
        if self._index is not None:  # kept up to date: a catch-up appends page after page and reads it each time
            number = np.full(len(ids), len(self.manifest["segments"]) - 1, dtype=np.int32)
            fresh = (ids, number, np.arange(len(ids), dtype=np.int64), stamps)
            self._index = _latest(*(np.concatenate(pair) for pair in zip(self._index, fresh, strict=True)))
        self.save()

    def set_watermark(self, watermark: str) -> None:
        self.manifest["watermark"] = watermark
        self.save()

    def save(self) -> None:
        partial = self.directory / f"{MANIFEST}.tmp"
        partial.write_text(json.dumps(self.manifest))
        os.replace(partial, self.directory / MANIFEST)

    def _segment(self, name: str) -> tuple[np.ndarray, sp.csr_matrix]:
        with np.load(self.directory / name) as stored:
            shape = tuple(int(n) for n in stored["shape"])
            rows = sp.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=shape)
            return stored["ids"], rows

    def segments(self) -> Iterator[tuple[np.ndarray, sp.csr_matrix]]:
        """(product ids, rows) of each segment in order; a product may appear again in a later one."""
        for segment in self.manifest["segments"]:
            yield self._segment(segment["file"])

    def index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(product ids ascending, their segment number, their row in it): each product's latest row."""
        return self._indexed()[:3]

    def _indexed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._index is None:
            ids, stamps, segment_of, row_of = [], [], [], []
            for number, segment in enumerate(self.manifest["segments"]):
                with np.load(self.directory / segment["file"]) as stored:
                    ids.append(stored["ids"])
                    stamps.append(stored["stamps"])
                segment_of.append(np.full(len(ids[-1]), number, dtype=np.int32))
                row_of.append(np.arange(len(ids[-1]), dtype=np.int64))
            if not ids:
                empty = np.zeros(0, dtype=np.int64)
                self._index = (empty, empty.astype(np.int32), empty, empty)
                return self._index
            self._index = _latest(
                np.concatenate(ids), np.concatenate(segment_of), np.concatenate(row_of), np.concatenate(stamps)
            )
        return self._index

    def current(self, product_ids: Sequence[int] | np.ndarray, stamps: Sequence[int] | np.ndarray) -> np.ndarray:
        """A boolean per product: whether its latest row was made from the version `stamps` says it is now."""
        ids, stamps = np.asarray(product_ids, dtype=np.int64), np.asarray(stamps, dtype=np.int64)
        known, _, _, known_stamps = self._indexed()
        if not len(known):
            return np.zeros(len(ids), dtype=bool)
        at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        return (known[at] == ids) & (known_stamps[at] == stamps)

    def has(self, product_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """A boolean per product id: whether the matrix has a row for it."""
        ids = np.asarray(product_ids, dtype=np.int64)
        known = self.index()[0]
        at = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        return (known[at] == ids) if len(known) else np.zeros(len(ids), dtype=bool)

    def rows(self, product_ids: Sequence[int] | np.ndarray) -> sp.csr_matrix:
        """The latest rows of `product_ids`, in their order; MatrixError names products without a row."""
        ids = np.asarray(product_ids, dtype=np.int64)
        known, segment_of, row_of = self.index()
        present = self.has(ids)
        if not present.all():
            missing = ids[~present]
            raise MatrixError(f"{len(missing)} products have no row in the catalog matrix, e.g. {missing[:5].tolist()}")
        at = np.searchsorted(known, ids)
        wanted_segments, wanted_rows = segment_of[at], row_of[at]
        parts: list[sp.csr_matrix] = []
        order: list[np.ndarray] = []
        for number in np.unique(wanted_segments):
            positions = np.flatnonzero(wanted_segments == number)
            _, rows = self._segment(self.manifest["segments"][number]["file"])
            parts.append(rows[wanted_rows[positions]])
            order.append(positions)
        if not parts:
            return sp.csr_matrix((0, self._width()), dtype=np.float32)
        stacked = sp.vstack(parts, format="csr")
        inverse = np.empty(len(ids), dtype=np.int64)
        inverse[np.concatenate(order)] = np.arange(len(ids))
        return stacked[inverse]

    def _width(self) -> int:
        for _, rows in self.segments():
            return rows.shape[1]
        return 0


def _latest(
    ids: np.ndarray, segments: np.ndarray, rows: np.ndarray, stamps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The index's arrays keeping, for each id (ascending), its last occurrence: a later row wins."""
    # np.unique over the reversed ids keeps the first of the reversal, the last of the original.
    unique, first = np.unique(ids[::-1], return_index=True)
    latest = len(ids) - 1 - first
    return unique, segments[latest], rows[latest], stamps[latest]


@dataclass
class CatalogScores:
    """A model's scores of every product of a matrix, ids ascending.

    columns: (n, k) indices into the model's classes, most probable first; probabilities: (n, k) float32;
    uncertainty: (n,) float32 in [0, 1], higher = more uncertain (``ml.scoring.uncertainty``).
    """

    ids: np.ndarray
    columns: np.ndarray
    probabilities: np.ndarray
    uncertainty: np.ndarray

    def lookup(self, product_ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions into these arrays, whether each product was scored) for `product_ids`."""
        ids = np.asarray(product_ids, dtype=np.int64)
        if not len(self.ids):
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return at, self.ids[at] == ids


def score_matrix(
    *, model: Any, matrix: CatalogMatrix, k: int = 3, strategy: str = "margin", check: Any = None
) -> CatalogScores:
    """Score each product's latest row with `model` (the steps after the vectorizers: ``pipeline[1:]``), a
    segment at a time and within it ``SCORE_CELLS`` probabilities at a time, so memory stays bounded."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    ids, segment_of, row_of = matrix.index()
    classes = len(model.classes_)
    k = min(k, classes)
    predict, dense = _top_predictor(model, k, strategy, classes)
    columns = np.zeros((len(ids), k), dtype=np.int64)
    probabilities = np.zeros((len(ids), k), dtype=np.float32)
    uncertain = np.zeros(len(ids), dtype=np.float32)
    # A model that gives its own top k holds no row of every class: TOP_K_CHUNK rows at a time, across segments
    # (its beam's cost is per node visited, so small chunks would multiply it).
    step = max(1, SCORE_CELLS // max(classes, 1)) if dense else TOP_K_CHUNK
    for targets, rows in _chunks(matrix, segment_of, row_of, step, across_segments=not dense):
        if check is not None:
            check()
        top_columns, top_probs, top_uncertainty = predict(rows)
        columns[targets] = top_columns
        probabilities[targets] = top_probs
        uncertain[targets] = top_uncertainty
    return CatalogScores(ids=ids, columns=columns, probabilities=probabilities, uncertainty=uncertain)


def _chunks(
    matrix: CatalogMatrix, segment_of: np.ndarray, row_of: np.ndarray, step: int, *, across_segments: bool
) -> Iterator[tuple[np.ndarray, sp.csr_matrix]]:
    """(positions in the index, their rows) of at most `step` rows: each product's latest row, a segment at a
    time, or gathered across segments into chunks of `step`. A row superseded by a later segment is skipped."""
    pending: list[tuple[np.ndarray, sp.csr_matrix]] = []
    held = 0
    for number, (_, rows) in enumerate(matrix.segments()):
        mine = np.flatnonzero(segment_of == number)
        if not len(mine):
            continue
        local = row_of[mine]
        whole = len(mine) == rows.shape[0]  # every row is current: slices, not copies by index
        for start in range(0, len(mine), step):
            part = slice(start, start + step)
            piece = (mine[part], rows[part] if whole else rows[local[part]])
            if not across_segments:
                yield piece
                continue
            pending.append(piece)
            held += len(piece[0])
            if held >= step:
                yield _joined(pending)
                pending, held = [], 0
    if pending:
        yield _joined(pending)


def _joined(pieces: list[tuple[np.ndarray, sp.csr_matrix]]) -> tuple[np.ndarray, sp.csr_matrix]:
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate([targets for targets, _ in pieces]), sp.vstack([rows for _, rows in pieces], format="csr")


def _top_predictor(
    model: Any, k: int, strategy: str, classes: int
) -> tuple[Callable[[sp.csr_matrix], tuple[np.ndarray, np.ndarray, np.ndarray]], bool]:
    """(rows -> (top columns, top probabilities, uncertainty), whether it computes every class's probability):
    from the dense probabilities, or from the top-k a classifier gives itself (``predict_top``: thousands of
    classes), the entropy then over the k and the rest of the mass as one more outcome."""
    steps = model.steps if isinstance(model, Pipeline) else [("model", model)]
    final = steps[-1][1]
    if not hasattr(final, "predict_top"):
        def dense(rows: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            probs = model.predict_proba(rows)
            top_columns, top_probs = top_k(probs, k)
            return top_columns, top_probs, uncertainty(probs, strategy)

        return dense, True

    def tops(rows: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        for _, step in steps[:-1]:
            rows = step.transform(rows)
        top_columns, top_probs = final.predict_top(rows, max(k, 2))
        if strategy == "entropy":
            rest = np.clip(1 - top_probs.sum(axis=1, keepdims=True), 0, 1)
            spread = entr(np.hstack([top_probs, rest])).sum(axis=1) / np.log(classes) if classes > 1 else 0 * rest[:, 0]
            values = np.clip(spread, 0, 1).astype(np.float32)
        else:
            values = uncertainty(top_probs, strategy)  # margin and confidence read the top two only
        return top_columns[:, :k], top_probs[:, :k], values

    return tops, False


def _pin(directory: Path) -> IO[str]:
    # A shared lock on the build's pin file, held by the open file: released when it is closed or collected.
    try:
        handle = open(directory / PIN, "a")  # noqa: SIM115 - it stays open while the matrix is in use
    except OSError as exc:
        raise MatrixError(f"unreadable catalog matrix at {directory}: {exc}") from exc
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def _remove_unpinned(build: Path) -> None:
    # A build a reader still holds stays until a later publish finds it free.
    try:
        handle = open(build / PIN, "a")  # noqa: SIM115 - closed below
    except OSError:
        shutil.rmtree(build, ignore_errors=True)
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        shutil.rmtree(build, ignore_errors=True)


class MatrixCache:
    """The kept matrices under `root`, per dataset and featurization settings: find, build, publish, prune."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _key_dir(self, owner: str, settings: str) -> Path:
        # `owner`: a folder name of the caller's that tells datasets apart.
        return self.root / owner / settings_digest(settings)

    @contextmanager
    def lock(self, owner: str, settings: str) -> Iterator[None]:
        """Held while a matrix is caught up or published: one writer per dataset and settings, across processes."""
        folder = self._key_dir(owner, settings)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as handle:
            os.utime(folder / ".lock")  # dates the key's last use (keep_recent_settings)
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _builds(self, owner: str, settings: str) -> list[Path]:
        folder = self._key_dir(owner, settings)
        if not folder.is_dir():
            return []
        return sorted(path for path in folder.iterdir() if path.is_dir() and path.name.isdigit())

    def current(self, owner: str, settings: str) -> CatalogMatrix | None:
        """The newest complete build for these settings, or None."""
        for path in reversed(self._builds(owner, settings)):
            try:
                matrix = CatalogMatrix.open(path)
            except MatrixError:
                continue
            if matrix.manifest.get("settings") == settings:
                return matrix
        return None

    def start(
        self, owner: str, settings: str, *, vectorizers: Any, watermark: str, fitted_on: int
    ) -> CatalogMatrix:
        """A new build in a temporary folder: its vectorizers and an empty manifest; `publish` it when done."""
        folder = self._key_dir(owner, settings)
        folder.mkdir(parents=True, exist_ok=True)
        directory = folder / f"tmp-{time.time_ns()}"
        directory.mkdir()
        # The C pickler: joblib's pickles in Python, seconds for a 200k-term vocabulary.
        (directory / VECTORIZERS).write_bytes(pickle.dumps(vectorizers, protocol=5))
        matrix = CatalogMatrix(
            directory,
            {
                "format": FORMAT_VERSION, "settings": settings, "watermark": watermark, "fitted_on": fitted_on,
                "built_rows": 0, "added_rows": 0, "segments": [], "started": time.time(),
            },
        )
        matrix._vectorizers = vectorizers
        matrix.save()
        return matrix

    def publish(self, matrix: CatalogMatrix, owner: str, settings: str) -> CatalogMatrix:
        """Rename a finished build into place (call it under ``lock``) and remove all but the KEEP_BUILDS newest."""
        final = matrix.directory.parent / matrix.directory.name.removeprefix("tmp-")
        os.replace(matrix.directory, final)
        matrix.directory = final
        matrix._pin = matrix._pin or _pin(final)  # its builder goes on reading it
        for old in self._builds(owner, settings)[:-KEEP_BUILDS]:
            _remove_unpinned(old)
        return matrix

    def keep_recent_settings(self, owner: str, keep: int) -> int:
        """Remove the matrices of all but the `keep` settings of `owner` used last (their lock file is touched at
        each catch-up or publish); the count removed."""
        folder = self.root / owner
        if not folder.is_dir():
            return 0
        keys = sorted(
            (path for path in folder.iterdir() if path.is_dir()),
            key=lambda path: (path / ".lock").stat().st_mtime if (path / ".lock").exists() else 0.0,
        )
        for old in keys[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        return max(0, len(keys) - keep)

    def discard(self, matrix: CatalogMatrix) -> None:
        shutil.rmtree(matrix.directory, ignore_errors=True)

    def drop_dataset(self, owner: str) -> None:
        shutil.rmtree(self.root / owner, ignore_errors=True)
