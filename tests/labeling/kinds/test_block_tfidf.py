"""Blocking's TF-IDF is scikit-learn's TfidfVectorizer matrix, bit for bit, built per distinct text and word."""

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from labeling.kinds.matching import block_tfidf
from labeling.kinds.matching.block_tfidf import tfidf_fit_transform

WORDS = ["Sony", "sony", "WH-1000XM4", "wh1000xm4", "headphones", "16GB", "1 TB", "Samsung", "Galaxy", "S21",
         "fridge", "freezer", "60cm", "a++", "Äpfel", "straße", "İstanbul", "x", "ab", "3", "-", "(2019)"]
OPTIONS = {"word": {"analyzer": "word", "token_pattern": r"(?u)\b\w+\b"}, "char_wb": {"analyzer": "char_wb",
                                                                                       "ngram_range": (3, 3)}}


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    def word() -> str:  # common words, and rarer made-up ones (model-number-like) so max_df keeps some
        return rng.choice(WORDS) if rng.random() < 0.4 else f"{rng.choice('kxz')}{rng.randrange(400)}{rng.choice('ab')}"

    texts = [" ".join(word() for _ in range(rng.randrange(0, 9))) for _ in range(count)]
    return [*texts, "", "a  b\tc\x1c\x1cd", texts[0], texts[1], "   "]


@pytest.mark.parametrize("analyzer", ["word", "char_wb"])
@pytest.mark.parametrize("max_df", [2, 5, 40, 10_000])
@pytest.mark.parametrize("chunk", [7, block_tfidf.CHUNK])
def test_the_matrix_is_scikit_learns(analyzer, max_df, chunk, monkeypatch):
    monkeypatch.setattr(block_tfidf, "CHUNK", chunk)  # texts counted in many blocks, or in one
    texts = _texts(300, seed=max_df)
    expected = TfidfVectorizer(dtype=np.float32, sublinear_tf=True, min_df=2, max_df=max_df, **OPTIONS[analyzer])
    expected = expected.fit_transform(texts)

    found = tfidf_fit_transform(texts, analyzer=analyzer, max_df=max_df)

    assert found.shape == expected.shape
    assert found.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(found.indptr, expected.indptr)
    np.testing.assert_array_equal(found.indices, expected.indices)  # the same entries in the same order
    np.testing.assert_array_equal(found.data, expected.data)


@pytest.mark.parametrize("analyzer", ["word", "char_wb"])
def test_no_feature_kept_raises_as_scikit_learn_does(analyzer):
    texts = ["alpha", "beta", "gamma"]  # every feature in one text only: below min_df
    with pytest.raises(ValueError):
        TfidfVectorizer(min_df=2, max_df=5, **OPTIONS[analyzer]).fit_transform(texts)
    with pytest.raises(ValueError, match="no terms remain"):
        tfidf_fit_transform(texts, analyzer=analyzer, max_df=5)
    with pytest.raises(ValueError, match="empty vocabulary"):
        tfidf_fit_transform(["", "  "], analyzer=analyzer, max_df=5)
