"""BM25 candidates: the top-k products of each query, the pool the relevance judgments are drawn from.

bm25s weighs each (product, term) once for the catalog (Lucene's BM25: k1 1.5, b 0.75, English stop words
removed). Retrieval is batched: the queries are a sparse query-term matrix, and sparse_dot_topn multiplies it
with the weights keeping each query's top k among its non-zero scores alone. bm25s' own `retrieve` scores every
product for each query (156 s for 10k queries over 110k products, where this takes under a second).

Pure: texts in, positions and scores out; the same results on every database, since none is asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import scipy.sparse as sp
from sparse_dot_topn import sp_matmul_topn

THREADS = 2  # sparse_dot_topn's threads, the queries split among them
STOPWORDS = "en"


@dataclass(frozen=True)
class BM25Index:
    """The catalog's BM25 weights: `weights` is terms x products (a row per term: its postings)."""

    weights: sp.csr_matrix
    vocabulary: dict[str, int]

    @property
    def products(self) -> int:
        return self.weights.shape[1]


def bm25_index(texts: Sequence[str], *, k1: float = 1.5, b: float = 0.75) -> BM25Index:
    """Weigh the terms of `texts` (one per product, in the order results refer to)."""
    if not len(texts):
        return BM25Index(weights=sp.csr_matrix((0, 0), dtype=np.float32), vocabulary={})
    tokens = bm25s.tokenize(list(texts), stopwords=STOPWORDS, show_progress=False)
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.index(tokens, show_progress=False)
    scores = retriever.scores
    terms = len(scores["indptr"]) - 1  # bm25s may add an empty token to the vocabulary, without postings
    by_term = sp.csc_matrix(
        (scores["data"], scores["indices"], scores["indptr"]), shape=(scores["num_docs"], terms)
    )
    vocabulary = {term: index for term, index in retriever.vocab_dict.items() if index < terms and term}
    return BM25Index(weights=by_term.T.tocsr(), vocabulary=vocabulary)


def query_terms(index: BM25Index, queries: Sequence[str]) -> sp.csr_matrix:
    """queries x terms: 1 where the query has the term (a term repeated in a query counts once, as in bm25s)."""
    tokens = bm25s.tokenize(list(queries), stopwords=STOPWORDS, show_progress=False, return_ids=False)
    rows, columns = [], []
    for row, words in enumerate(tokens):
        found = {index.vocabulary[word] for word in words if word in index.vocabulary}
        rows.extend([row] * len(found))
        columns.extend(sorted(found))
    shape = (len(queries), index.weights.shape[0])
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=shape)


def bm25_top(index: BM25Index, queries: Sequence[str], k: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(product positions (n, k), scores (n, k)), best first and ties in product order; a query matching fewer
    than k products is padded with -1 and score 0 (a product sharing no term with the query is no candidate).
    Which of the products tied at the k-th score make the cut is sparse_dot_topn's choice, the same every run."""
    positions = np.full((len(queries), k), -1, dtype=np.int64)
    scores = np.zeros((len(queries), k), dtype=np.float32)
    if not len(queries) or not index.products or k < 1:
        return positions, scores
    terms = query_terms(index, queries)
    best = sp_matmul_topn(terms, index.weights, top_n=k, n_threads=THREADS).tocsr()
    rows = np.repeat(np.arange(len(queries)), np.diff(best.indptr))
    order = np.lexsort((best.indices, -best.data, rows))
    rows, found, values = rows[order], best.indices[order], best.data[order]
    slot = np.arange(len(rows)) - best.indptr[rows]
    positions[rows, slot], scores[rows, slot] = found, values
    return positions, scores
