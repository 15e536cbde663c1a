"""Blocking's TF-IDF, fitted on a million titles in seconds: scikit-learn's matrix, built per distinct word.

`tfidf_fit_transform(texts, analyzer=..., max_df=...)` returns what
`TfidfVectorizer(analyzer=..., dtype=float32, sublinear_tf=True, min_df=2, max_df=max_df).fit_transform(texts)`
returns (word tokens `(?u)\\b\\w+\\b`, or char_wb 3-grams), bit for bit: the same counts, each row's entries
in the same order (features numbered as first seen, then renamed in term order), then scikit-learn's own
TfidfTransformer. scikit-learn builds and counts ~40 n-gram strings per title in Python; here each distinct
text is read once, each distinct word cut into n-grams once, and the counting is NumPy and SciPy.
Pure code (no Django), tested against scikit-learn in tests/labeling/kinds/test_block_tfidf.py.
"""

from __future__ import annotations

import re
from array import array
from collections import defaultdict

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

DTYPE = np.float32
MIN_DF = 2
CHAR_N = 3
# Distinct texts counted at a time: bounds the (row, column) arrays, about 40 entries a title.
CHUNK = 50_000
_WORD = re.compile(r"(?u)\b\w+\b")


def _char_wb(word: str) -> list[str]:
    """scikit-learn's char_wb n-grams of one word (a document's are its words' in turn)."""
    padded = f" {word} "
    if len(padded) < CHAR_N:
        return [padded]
    return [padded[i : i + CHAR_N] for i in range(len(padded) - CHAR_N + 1)]


def _numbering() -> defaultdict:
    ids: defaultdict = defaultdict()
    ids.default_factory = ids.__len__  # a new key gets the next number: first seen, first numbered
    return ids


def tfidf_fit_transform(texts: list[str], *, analyzer: str, max_df: int) -> sp.csr_matrix:
    """See the module docstring; raises ValueError where scikit-learn does (no feature at all, none kept)."""
    if analyzer not in ("word", "char_wb"):
        raise ValueError(f"analyzer must be word or char_wb, not {analyzer!r}")
    if max_df < MIN_DF:
        raise ValueError("max_df corresponds to < documents than min_df")
    distinct = _numbering()
    inverse = np.fromiter(map(distinct.__getitem__, texts), dtype=np.int64, count=len(texts))
    # Each distinct text's units (word tokens, or the whitespace-separated words char_wb cuts), numbered; C arrays,
    # not lists: ten million units as Python ints would take 300 MB.
    split = _WORD.findall if analyzer == "word" else str.split
    units = _numbering()
    text_units = array("q")
    text_ends = array("q", [0])
    for text in distinct:
        text_units.extend(map(units.__getitem__, split(text.lower())))
        text_ends.append(len(text_units))
    # Features numbered in the order a scan of the texts first meets them: units in the order first met, each
    # unit's n-grams in order (a unit met again brings no new feature).
    features = _numbering()
    unit_features = array("i")
    unit_ends = array("q", [0])
    for unit in units:
        unit_features.extend(map(features.__getitem__, [unit] if analyzer == "word" else _char_wb(unit)))
        unit_ends.append(len(unit_features))
    if not features:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    # Document frequencies count every text, repeats included.
    repeats = np.bincount(inverse, minlength=len(distinct))
    blocks, df = _counts(
        np.frombuffer(text_units, dtype=np.int64), np.frombuffer(text_ends, dtype=np.int64),
        np.frombuffer(unit_features, dtype=np.int32), np.frombuffer(unit_ends, dtype=np.int64), len(features), repeats,
    )
    kept = np.flatnonzero((df <= max_df) & (df >= MIN_DF))
    if not len(kept):
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    for number, block in enumerate(blocks):
        blocks[number] = block[:, kept]  # one unpruned block let go at a time
    pruned = sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]
    del blocks
    matrix = sp.csr_matrix(pruned[inverse], dtype=DTYPE)
    del pruned
    # Then columns are renumbered in the order of their terms, each row's entries staying where they are.
    terms = list(features)
    kept_terms = [terms[i] for i in kept.tolist()]
    rank = np.empty(len(kept), dtype=matrix.indices.dtype)
    rank[sorted(range(len(kept)), key=kept_terms.__getitem__)] = np.arange(len(kept))
    matrix.indices = rank.take(matrix.indices, mode="clip")
    transformer = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True)
    return transformer.fit(matrix).transform(matrix, copy=False)


def _counts(
    text_units: np.ndarray,
    text_ends: np.ndarray,
    unit_features: np.ndarray,
    unit_ends: np.ndarray,
    width: int,
    repeats: np.ndarray,
) -> tuple[list[sp.csr_matrix], np.ndarray]:
    """Blocks of distinct texts x features (how often each feature occurs in each text, each row's columns
    ascending), and each feature's document frequency (a text counted as often as it repeats)."""
    blocks = []
    df = np.zeros(width, dtype=np.int64)
    texts = len(text_ends) - 1
    for first in range(0, max(texts, 1), CHUNK):
        last = min(first + CHUNK, texts)
        units = text_units[text_ends[first] : text_ends[last]]
        per_unit = unit_ends[units + 1] - unit_ends[units]
        rows = np.repeat(np.repeat(np.arange(last - first), np.diff(text_ends[first : last + 1])), per_unit)
        total = int(per_unit.sum())
        # Each unit's run of features, laid end to end.
        offsets = np.repeat(unit_ends[units] - (np.cumsum(per_unit) - per_unit), per_unit) + np.arange(total)
        block = sp.csr_matrix(
            (np.ones(total, dtype=DTYPE), (rows, unit_features[offsets])), shape=(last - first, width)
        )
        del rows, offsets
        block.sum_duplicates()
        df += np.bincount(
            block.indices, weights=np.repeat(repeats[first:last], np.diff(block.indptr)), minlength=width
        ).astype(np.int64)
        blocks.append(block)
    return blocks, df
