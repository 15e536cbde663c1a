"""Blocking: the few candidate pairs of a catalog worth a matcher's (and a person's) look, out of n x n.

Pure code (no Django). Two ways a pair becomes a candidate:

- **Nearest neighbours**: each product's top k by cosine of TF-IDF over words and character 3-grams of
  the chosen fields, above a minimum similarity. The product of the sparse matrix with its transpose is
  computed a chunk of rows at a time, keeping only each row's top k (sparse_dot_topn, in C++), so memory
  stays bounded by the chunk. Features shared by more than 1% of a large catalog (at most MAX_DF_COUNT
  products for a word, MAX_CHAR_DF_COUNT for a character 3-gram) are dropped: such a token cannot single out
  ten neighbours among a million, and it is what makes the product quadratic (its cost is the sum of each
  feature's document count squared). A 3-gram is a piece of a word whose other pieces carry its signal too,
  so it is capped lower: at a million products that cut the top-k search from 153 s to 37 s for a pair
  completeness of 0.417 instead of 0.420 (0.914 instead of 0.918 at 200k). A small catalog keeps every
  feature held by up to MIN_DF_CAP products: there the cost is nothing, and a word in three offers of one
  product must still join them.
- **Exact keys**: products that share a model number read from the title (the parsing the pair page
  shows, `datasets.offers`), a GTIN / EAN / UPC / MPN attribute, or brand + size. A key shared by more
  than MAX_KEY_GROUP products is no key (a size everybody has) and gives no pairs.

With several sources (two retailers) and `skip_same_source`, pairs within one source are never proposed.
With a few sources (up to MAX_SOURCE_GROUPS) each source's products look for neighbours among the other
sources' only, so a catalog's own near-duplicates do not crowd out the other catalog's offers; with many
(hundreds of merchants) that would cost one pass over the catalog per source, so every product looks among
all with SOURCE_OVERFETCH times k neighbours and the same-source ones are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sparse_dot_topn import sp_matmul_topn

from datasets.offers import text_key, title_keys
from labeling.kinds.matching.block_tfidf import tfidf_fit_transform

FIELDS = ("title", "brand", "description")
KEYS = ("model", "gtin", "brand_size")
DEFAULT_KEYS = ("model", "gtin")
# Attribute names whose value identifies a product across shops.
GTIN_ATTRIBUTES = ("gtin", "gtin13", "gtin12", "gtin14", "ean", "upc", "isbn", "mpn")
MAX_DF_SHARE = 0.01
MAX_DF_COUNT = 2000
MAX_CHAR_DF_COUNT = 500
MIN_DF_CAP = 100
MAX_SOURCE_GROUPS = 4
SOURCE_OVERFETCH = 3
MAX_KEY_GROUP = 20
MAX_K = 100
CHUNK_ROWS = 20_000
DTYPE = np.float32

Progress = Callable[[float], None]


class BlockingConfigError(ValueError):
    """A setting is out of range or unknown; the message says which and why."""


@dataclass(frozen=True)
class BlockingConfig:
    k: int = 10
    fields: tuple[str, ...] = ("title", "brand")
    min_similarity: float = 0.3
    # Brand + size is asked for, not assumed: in a catalog of one brand's sizes it pairs every product of a
    # size with every other (the demo: 1,071 of 1,924 candidates came from it alone).
    keys: tuple[str, ...] = DEFAULT_KEYS
    skip_same_source: bool = False
    # The product column or attribute that names the source ("merchant", "shop"); empty: one source.
    source_field: str = "source"
    threads: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.k, int) or not 1 <= self.k <= MAX_K:
            raise BlockingConfigError(f"k must be a whole number from 1 to {MAX_K}.")
        unknown = [name for name in self.fields if name not in FIELDS]
        if unknown or not self.fields:
            raise BlockingConfigError(f"fields: choose among {', '.join(FIELDS)} (unknown: {', '.join(unknown)}).")
        if not 0.0 <= self.min_similarity < 1.0:
            raise BlockingConfigError("min_similarity must be at least 0 and below 1.")
        unknown = [name for name in self.keys if name not in KEYS]
        if unknown:
            raise BlockingConfigError(f"keys: choose among {', '.join(KEYS)} (unknown: {', '.join(unknown)}).")
        if not 1 <= self.threads <= 64:
            raise BlockingConfigError("threads must be from 1 to 64.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> BlockingConfig:
        data = dict(data or {})
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise BlockingConfigError(f"Unknown blocking setting(s): {', '.join(unknown)}.")
        for name in ("fields", "keys"):
            if name in data:
                value = data[name]
                data[name] = tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(
                    value, str
                ) else tuple(value)
        try:
            if "k" in data:
                data["k"] = int(data["k"])
            if "min_similarity" in data:
                data["min_similarity"] = float(data["min_similarity"])
        except (TypeError, ValueError) as error:
            raise BlockingConfigError(f"k and min_similarity must be numbers ({error}).") from error
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"], data["keys"] = list(self.fields), list(self.keys)
        return data


@dataclass
class Candidates:
    """Unordered pairs of record positions (left < right), each once, with their cosine and whether an
    exact key proposed them."""

    left: np.ndarray
    right: np.ndarray
    similarity: np.ndarray
    by_key: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.left)


def possible_pairs(sources: Sequence[str] | None, *, skip_same_source: bool) -> int:
    """How many pairs the catalog has to compare without blocking: the denominator of the reduction ratio."""
    n = len(sources) if sources is not None else 0
    total = n * (n - 1) // 2
    if not skip_same_source or sources is None:
        return total
    _, counts = np.unique(np.asarray(sources, dtype=object), return_counts=True)
    return total - int(sum(int(c) * (int(c) - 1) // 2 for c in counts))


def record_text(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    return " ".join(str(record.get(name) or "") for name in fields).strip()


def _vectors(texts: list[str]) -> sp.csr_matrix:
    """L2-normalized TF-IDF rows over words and character 3-grams, rare (once) and common features dropped."""
    n = len(texts)
    blocks = []
    # TfidfVectorizer(analyzer=..., sublinear_tf=True, min_df=2, max_df=max_df), word tokens `(?u)\b\w+\b` and
    # char_wb 3-grams: the same matrices, built per distinct text and word (37 s -> ~10 s at a million titles).
    for analyzer, cap in (("word", MAX_DF_COUNT), ("char_wb", MAX_CHAR_DF_COUNT)):
        max_df = max(MIN_DF_CAP, min(int(MAX_DF_SHARE * n), cap))
        try:
            blocks.append(tfidf_fit_transform(texts, analyzer=analyzer, max_df=max_df))
        except ValueError:  # no feature kept (a tiny catalog): that block says nothing
            continue
    if not blocks:
        return sp.csr_matrix((n, 1), dtype=DTYPE)
    return normalize(sp.hstack(blocks, format="csr", dtype=DTYPE))


def _top_k(
    queries: sp.csr_matrix, index_t: sp.csr_matrix, *, k: int, threshold: float, threads: int
) -> sp.csr_matrix:
    return sp_matmul_topn(queries, index_t, top_n=k, threshold=threshold, n_threads=threads)


def _neighbour_pairs(
    matrix: sp.csr_matrix,
    groups: list[tuple[np.ndarray, np.ndarray]],
    config: BlockingConfig,
    progress: Progress | None,
    sources: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left, right, cosine) of each row's top k among `groups`' rows: all rows in one group, or with sources
    kept apart, each source's rows against the rest. Given `sources` (many of them, one group of all rows),
    each row's top k of other sources out of an over-fetched top list."""
    # The cosine threshold is strict in sparse_dot_topn; a tiny epsilon keeps min_similarity inclusive.
    threshold = max(config.min_similarity - 1e-6, 0.0)
    lefts, rights, sims = [], [], []
    total_rows, done = matrix.shape[0], 0
    for query_rows, index_rows in groups:
        # Transposed once per group, not per chunk: at a million rows each transpose costs a fraction of a second.
        index_t = matrix[index_rows].T.tocsr()
        # Within one group a product is its own nearest neighbour: ask for one more.
        fetch = config.k + (1 if query_rows is index_rows else 0)
        if sources is not None:
            fetch = config.k * SOURCE_OVERFETCH + 1
        for start in range(0, len(query_rows), CHUNK_ROWS):
            rows = query_rows[start : start + CHUNK_ROWS]
            found = _top_k(matrix[rows], index_t, k=fetch, threshold=threshold, threads=config.threads)
            found = found.tocoo()
            left, right, sim = rows[found.row], index_rows[found.col], found.data.astype(DTYPE, copy=False)
            if sources is not None:
                left, right, sim = _first_k_apart(left, right, sim, sources, config.k)
            lefts.append(left)
            rights.append(right)
            sims.append(sim)
            done += len(rows)
            if progress:
                progress(min(done / max(total_rows, 1), 1.0))
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=DTYPE)
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(sims)


def _first_k_apart(
    left: np.ndarray, right: np.ndarray, sim: np.ndarray, sources: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of each row's neighbours, the k most similar from another source."""
    apart = sources[left] != sources[right]
    left, right, sim = left[apart], right[apart], sim[apart]
    order = np.lexsort((-sim, left))
    left, right, sim = left[order], right[order], sim[order]
    starts = np.flatnonzero(np.r_[True, left[1:] != left[:-1]])
    rank = np.arange(len(left)) - np.repeat(starts, np.diff(np.r_[starts, len(left)]))
    keep = rank < k
    return left[keep], right[keep], sim[keep]


def _groups(sources: Sequence[str] | None, n: int, skip_same_source: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    everyone = np.arange(n, dtype=np.int64)
    if not skip_same_source or sources is None:
        return [(everyone, everyone)]
    labels = np.asarray(sources, dtype=object)
    names = sorted(set(labels.tolist()))
    if len(names) < 2:
        return []
    if len(names) > MAX_SOURCE_GROUPS:
        return [(everyone, everyone)]  # filtered by source in _neighbour_pairs
    groups = []
    for name in names:
        mine = np.flatnonzero(labels == name)
        others = np.flatnonzero(labels != name)
        groups.append((mine, others))
    return groups


def _key_values(record: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    values: list[str] = []
    title = str(record.get("title") or "")
    # title_keys: title_tokens' kinds and keys without its Token objects, each distinct word classified once
    # (a million titles took a minute through title_tokens, a few seconds this way).
    tokens = title_keys(title) if ("model" in keys or "brand_size" in keys) else []
    if "model" in keys:
        values.extend(f"model:{key}" for key in dict.fromkeys(key for kind, key, _ in tokens if kind == "model"))
    attributes = record.get("attributes") or {}
    if "gtin" in keys and isinstance(attributes, Mapping):
        for name, value in attributes.items():
            if str(name).casefold() in GTIN_ATTRIBUTES and value not in (None, ""):
                code = "".join(str(value).split()).lstrip("0").casefold()
                if len(code) >= 4:
                    values.append(f"gtin:{code}")
    if "brand_size" in keys:
        brand = text_key(str(record.get("brand") or ""))
        if brand:
            sizes: dict[str, dict[str, None]] = {}
            for kind, key, dimension in tokens:
                if kind == "measure":
                    sizes.setdefault(dimension, {})[key] = None
            for dimension in sizes.values():
                values.extend(f"size:{brand}:{key}" for key in dimension)
    return values


def _key_pairs(records: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of products sharing a key, keys held by more than MAX_KEY_GROUP products skipped."""
    members: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        for value in _key_values(record, keys):
            bucket = members.setdefault(value, [])
            if not bucket or bucket[-1] != position:
                bucket.append(position)
    lefts, rights = [], []
    for bucket in members.values():
        if 1 < len(bucket) <= MAX_KEY_GROUP:
            positions = np.asarray(bucket, dtype=np.int64)
            a, b = np.triu_indices(len(positions), k=1)
            lefts.append(positions[a])
            rights.append(positions[b])
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(lefts), np.concatenate(rights)


def candidate_pairs(
    records: Sequence[Mapping[str, Any]],
    config: BlockingConfig,
    *,
    sources: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Candidates:
    """The candidate pairs of `records` (mappings with title, brand, description, attributes); `sources`
    names each record's source when pairs within a source are to be skipped. Progress goes 0 -> 1."""
    n = len(records)
    if sources is not None and len(sources) != n:
        raise ValueError("sources must name one source per record")
    texts = [record_text(record, config.fields) for record in records]
    matrix = _vectors(texts) if n > 1 else sp.csr_matrix((n, 1), dtype=DTYPE)
    if progress:
        progress(0.0)
    groups = _groups(sources, n, config.skip_same_source)
    many_sources = config.skip_same_source and sources is not None and len(set(sources)) > MAX_SOURCE_GROUPS
    left, right, sims = _neighbour_pairs(
        matrix, groups, config, progress, sources=np.asarray(sources, dtype=object) if many_sources else None
    )
    keep = left != right
    left = left[keep]
    right = right[keep]
    sims = sims[keep]
    del keep
    key_left, key_right = _key_pairs(records, config.keys) if config.keys and n > 1 else (
        np.empty(0, dtype=np.int64),
        np.empty(0, dtype=np.int64),
    )
    if config.skip_same_source and sources is not None and len(key_left):
        labels = np.asarray(sources, dtype=object)
        apart = labels[key_left] != labels[key_right]
        key_left, key_right = key_left[apart], key_right[apart]
    neighbours = len(left)
    low = np.concatenate([np.minimum(left, right), key_left])
    high = np.concatenate([np.maximum(left, right), key_right])
    # Exact-key pairs carry their own cosine too (a reviewer sorts by it); 0 until computed below.
    similarity = np.concatenate([sims, np.zeros(len(key_left), dtype=DTYPE)])
    by_key = np.concatenate([np.zeros(neighbours, dtype=bool), np.ones(len(key_left), dtype=bool)])
    # Memory: at a million products these are arrays of ~10M; each is let go as soon as it is copied, so the
    # peak holds one generation of them, not two.
    del left, right, sims, key_left, key_right
    code = low * max(n, 1) + high
    order = np.lexsort((-similarity, code))  # per pair, its highest cosine first
    code = code[order]
    low = low[order]
    high = high[order]
    similarity = similarity[order]
    by_key = by_key[order]
    del order
    first = np.ones(len(code), dtype=bool)
    first[1:] = code[1:] != code[:-1]
    # A pair found both ways is proposed by a key if either way was a key.
    key_any = np.logical_or.reduceat(by_key, np.flatnonzero(first)) if len(code) else by_key
    low, high, similarity = low[first], high[first], similarity[first]
    missing = similarity == 0
    if missing.any():
        similarity[missing] = _row_cosines(matrix, low[missing], high[missing])
    if progress:
        progress(1.0)
    possible = possible_pairs(sources if sources is not None else ["" for _ in range(n)], skip_same_source=(
        config.skip_same_source and sources is not None
    ))
    return Candidates(
        left=low,
        right=high,
        similarity=similarity,
        by_key=key_any,
        stats={
            "products": n,
            "candidates": len(low),
            "by_key_only": int((key_any & missing).sum()),
            "possible_pairs": possible,
            "reduction_ratio": reduction_ratio(len(low), possible),
            "features": int(matrix.shape[1]),
        },
    )


def _row_cosines(matrix: sp.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    out = np.empty(len(left), dtype=DTYPE)
    for start in range(0, len(left), CHUNK_ROWS):
        a = matrix[left[start : start + CHUNK_ROWS]]
        b = matrix[right[start : start + CHUNK_ROWS]]
        out[start : start + len(a.indptr) - 1] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def reduction_ratio(candidates: int, possible: int) -> float | None:
    """1 - candidates / possible pairs: the share of comparisons blocking saves (Christen's RR)."""
    if possible <= 0:
        return None
    return 1.0 - candidates / possible


def pair_codes(left: np.ndarray | Sequence[int], right: np.ndarray | Sequence[int]) -> np.ndarray:
    """One int64 per unordered pair of non-negative ids below 2**31, the same whatever the order."""
    a, b = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    return (np.minimum(a, b) << 32) | np.maximum(a, b)


def pair_completeness(candidates: np.ndarray, known_matches: np.ndarray) -> float | None:
    """The share of known matching pairs (pair_codes) among the candidates (pair_codes): blocking's recall;
    None without any known match."""
    known = np.unique(known_matches)
    if not len(known):
        return None
    return float(np.isin(known, candidates).mean())
