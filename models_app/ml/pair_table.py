"""Pair features at rescoring scale: every distinct product parsed and vectorized once, every pair by array.

A candidate pair's product stands in about 2k pairs (k neighbours each way), so the per-pair path of
``pair_features`` parsed the same title dozens of times. Here a ``PairCache`` keeps, for as long as one
rescoring runs, each distinct record (by its raw field values) and each distinct text (by its string):
the token keys as rows of sparse 0/1 matrices, the fuzzy string, and each field's TF-IDF rows. A page of
pairs then gathers rows: set sizes and intersections are row-wise sparse products, the rapidfuzz
similarities one ``cpdist`` call over the page (C++, on ``WORKERS`` threads), the cosines the same
row-wise products the per-pair path computed, in the same float32 order. The values are those of
``pair_features`` and of the per-pair cosines, bit for bit (tests/models_app/ml/test_pair_table.py).

The cache is bounded: past ``MAX_TEXTS`` texts it starts afresh at the next page.

A rescoring that reads pairs as product ids (``unknown``, ``products_add``, ``pairs_by_id``) hands over each
product's record once, when first seen, instead of both records of every pair: a product stands in ~13
pairs, and telling equal records apart by their values cost more than parsing them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from datasets.offers import price_value, text_key, title_keys

from .features import DTYPE
from .pair_features import FUZZY_MAX_CHARS, MAX_LOG_PRICE_RATIO
from .text import product_text

# cpdist releases the GIL: two threads use both cores of the workers' machines.
WORKERS = 2
MAX_TEXTS = 1_500_000
_EMPTY = np.zeros(0, dtype=np.int32)


class _Rows:
    """A CSR matrix that grows by blocks of rows; read as a matrix without copying its arrays."""

    def __init__(self, dtype: type) -> None:
        self.indptr = np.zeros(1024, dtype=np.int32)
        self.indices = np.empty(4096, dtype=np.int32)
        self.data = np.empty(4096, dtype=dtype)
        self.rows = 0

    @property
    def nnz(self) -> int:
        return int(self.indptr[self.rows])

    def append(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        rows, nnz, start = len(indptr) - 1, len(indices), self.nnz
        self.indptr = _fit(self.indptr, self.rows + rows + 1)
        self.indices = _fit(self.indices, start + nnz)
        self.data = _fit(self.data, start + nnz)
        self.indices[start : start + nnz] = indices
        self.data[start : start + nnz] = data
        self.indptr[self.rows + 1 : self.rows + rows + 1] = np.asarray(indptr[1:], dtype=np.int64) + start
        self.rows += rows

    def matrix(self, columns: int) -> sp.csr_matrix:
        nnz = self.nnz
        return sp.csr_matrix(
            (self.data[:nnz], self.indices[:nnz], self.indptr[: self.rows + 1]), shape=(self.rows, columns), copy=False
        )


class _Column:
    """A numpy array that grows at the end (amortized doubling), one row or many at a time."""

    def __init__(self, dtype: type, width: int = 0) -> None:
        self.array = np.empty((1024, width) if width else 1024, dtype=dtype)
        self.size = 0

    def extend(self, values: Sequence[Any]) -> None:
        if not len(values):
            return
        block = np.asarray(values, dtype=self.array.dtype)
        self.array = _fit(self.array, self.size + len(block))
        self.array[self.size : self.size + len(block)] = block
        self.size += len(block)

    @property
    def values(self) -> np.ndarray:
        return self.array[: self.size]


def _fit(array: np.ndarray, size: int) -> np.ndarray:
    if size <= len(array):
        return array
    grown = np.empty((max(size, 2 * len(array)), *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _unique(values: np.ndarray) -> np.ndarray:
    """np.unique(values) of integers, by a sort: numpy 2's np.unique hashes first, ten times slower on millions."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _set_rows(owner: np.ndarray, value: np.ndarray, width: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR indptr and indices of `rows` sets: row owner[i] holds value[i]; each row's values distinct, ascending."""
    distinct = _unique(owner * width + value)
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(distinct // width, minlength=rows), out=indptr[1:])
    return indptr, (distinct % width).astype(np.int32)


def _shared(matrix: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|row a[i] & row b[i]| of a 0/1 matrix, for every i."""
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    return np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1), dtype=np.int64).ravel()


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct pairs (a[i], b[i]) of non-negative ids, and each i's position among them."""
    if not len(a):
        return a, b, np.zeros(0, dtype=np.int64)
    span = int(b.max()) + 1
    distinct, each = np.unique(a.astype(np.int64) * span + b, return_inverse=True)
    return distinct // span, distinct % span, each.ravel()


def _jaccard(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    union = size_a + size_b - shared
    return np.divide(shared, union, out=np.zeros(len(shared)), where=union > 0)


def _hashable(value: Any) -> Any:
    """A key equal only for values every feature reads alike (1, 1.0 and True are told apart)."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, Mapping):
        if all(type(v) is str for v in value.values()):
            return ("map", tuple(value.items()))
        return ("map", tuple((_hashable(k), _hashable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("seq", tuple(_hashable(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("repr", type(value).__name__, repr(value))
    return (type(value), value)


class PairCache:
    """What one rescoring learns about its products and texts; see the module docstring."""

    def __init__(self, *, fields: tuple[str, ...], text_fields: list[str], identifying: list[str], vectorizers: dict):
        self.fields, self.text_fields, self.identifying = fields, text_fields, identifying
        self.vectorizers = vectorizers
        self.read = (*fields, "currency") if "price" in fields else fields
        self._reset()

    def _reset(self) -> None:
        width = len(self.text_fields)
        self.records: dict[tuple, int] = {}
        # Per record: each text field's text id, the identity text's id, each text field's TF-IDF row, the brand
        # key's id and the currency key's id (-1 when empty).
        self.record = _Column(np.int64, 2 * width + 3)
        self.price: list[Decimal | None] = []
        self.keys: dict[str, int] = {}  # brand and currency keys
        self.texts: dict[str, int] = {}
        self._attributes: dict[tuple[str, ...], str] = {}  # attribute values -> their text
        self.empty = _Column(bool)
        self.fuzzy: list[str] = []
        self.models: list[tuple[str, ...]] = []
        self.vocabulary: dict[str, int] = {}
        self._token: dict[tuple[str, str, str], int] = {}  # title_keys' tokens, once each: their codes
        # Per token key: its dimension's id (-1 for no measure) and whether it holds a digit; lists while a batch
        # numbers its new keys, arrays (`_key_arrays`) when read.
        self._dimension_of: list[int] = []
        self._digit: list[bool] = []
        self._key_arrays_of = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
        self.key_names: list[str] = []  # per token key id: the key
        self.dimensions: dict[str, int] = {}
        self.sets = {name: _Rows(np.int32) for name in ("words", "numbers", "models", "measures", "dimensions")}
        self.sizes = {name: _Column(np.int64) for name in ("words", "numbers", "models")}
        self.tfidf_rows: dict[str, dict[int, int]] = {name: {} for name in self.text_fields}
        self.tfidf = {name: (_Rows(DTYPE), _Rows(DTYPE)) for name in self.text_fields}
        # The products added by id: their ids ascending, and each one's record row.
        self.product_ids = np.zeros(0, dtype=np.int64)
        self.product_rows = np.zeros(0, dtype=np.int64)

    # --- records and texts -------------------------------------------------------------------------------

    def pairs(self, left: Sequence[Mapping[str, Any]], right: Sequence[Mapping[str, Any]], names: int) -> np.ndarray:
        """The feature matrix of the pairs (left[i], right[i]): ``names`` columns, then the cosines."""
        if len(self.texts) > MAX_TEXTS:
            self._reset()
        return self._features(self._rows(left), self._rows(right), names)

    def unknown(self, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """The distinct product ids among `ids` whose records the cache does not hold, ascending.

        Ask it first for each page: a full cache starts afresh here (never in ``pairs_by_id``), so after
        ``products_add`` of these ids every product of the page is held.
        """
        if len(self.texts) > MAX_TEXTS:
            self._reset()
        distinct = _unique(np.asarray(ids, dtype=np.int64))
        position = np.searchsorted(self.product_ids, distinct)
        known = np.zeros(len(distinct), dtype=bool)
        inside = position < len(self.product_ids)
        known[inside] = self.product_ids[position[inside]] == distinct[inside]
        return distinct[~known]

    def products_add(self, ids: np.ndarray | Sequence[int], records: Sequence[Mapping[str, Any]]) -> None:
        """Hold the records of these products (ids the cache does not hold yet), parsed and vectorized once."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) != len(records):
            raise ValueError(f"{len(ids)} product ids but {len(records)} records")
        rows = self._rows(records, by_value=False)
        keys = np.concatenate([self.product_ids, ids])
        order = np.argsort(keys, kind="stable")
        self.product_ids, self.product_rows = keys[order], np.concatenate([self.product_rows, rows])[order]

    def pairs_by_id(self, left: np.ndarray, right: np.ndarray, names: int) -> np.ndarray:
        """``pairs`` of products given by id, each one held (``products_add``); a KeyError names one that is not."""
        return self._features(self._product_rows(left), self._product_rows(right), names)

    def _product_rows(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        position = np.searchsorted(self.product_ids, ids)
        held = position < len(self.product_ids)
        held[held] = self.product_ids[position[held]] == ids[held]
        if not held.all():
            raise KeyError(f"product {int(ids[~held][0])} was not added to the cache")
        return self.product_rows[position]

    def _rows(self, records: Sequence[Mapping[str, Any]], *, by_value: bool = True) -> np.ndarray:
        """Each record's row, adding the new ones (parsed and vectorized here, once). Without `by_value` each record
        gets a row of its own (products by id: distinct products rarely hold equal values, and telling them apart
        cost more than their rows); their texts are still shared."""
        found = np.empty(len(records), dtype=np.int64)
        new_records: list[list[int]] = []
        new_texts: list[tuple[str, list[str] | None]] = []
        new_tfidf: dict[str, list[str]] = {name: [] for name in self.text_fields}
        read = self.read
        for position, record in enumerate(records):
            if not by_value:
                found[position] = self.record.size + len(new_records)
                new_records.append(self._add(record, new_texts, new_tfidf))
                continue
            key = tuple(value if type(value) is str else _hashable(value) for value in map(record.get, read))
            row = self.records.get(key)
            if row is None:
                row = self.records[key] = self.record.size + len(new_records)
                new_records.append(self._add(record, new_texts, new_tfidf))
            found[position] = row
        self.record.extend(new_records)
        self._parse(new_texts)
        for name, texts in new_tfidf.items():
            self._vectorize(name, texts)
        return found

    def _text(self, text: str, new_texts: list[tuple[str, list[str] | None]], parts: list[str] | None = None) -> int:
        number = self.texts.get(text)
        if number is None:
            number = self.texts[text] = len(self.texts)
            new_texts.append((text, parts if parts and len(parts) > 1 else None))
        return number

    def _add(
        self, record: Mapping[str, Any], new_texts: list[tuple[str, list[str] | None]], new_tfidf: dict[str, list[str]]
    ) -> list[int]:
        texts = [self._field_text(record, name) for name in self.text_fields]
        by_name = dict(zip(self.text_fields, texts, strict=True))
        parts = [by_name[name] for name in self.identifying if by_name[name]]
        identity = " ".join(parts)
        row = [self._text(text, new_texts) for text in texts]
        row.append(self._text(identity, new_texts, parts))
        for name, number in zip(self.text_fields, row, strict=False):
            rows = self.tfidf_rows[name]  # a field's distinct texts: brands and attributes repeat a lot
            tfidf_row = rows.get(number)
            if tfidf_row is None:
                tfidf_row = rows[number] = len(rows)
                new_tfidf[name].append(by_name[name])
            row.append(tfidf_row)
        row.append(self._key(text_key(by_name["brand"])) if "brand" in self.fields else -1)
        if "price" in self.fields:
            self.price.append(price_value(record.get("price")))
            row.append(self._key(text_key(str(record.get("currency") or ""))))
        else:
            row.append(-1)
        return row

    def _field_text(self, record: Mapping[str, Any], name: str) -> str:
        """product_text(record, (name,)), without its generality for the values products mostly hold: a string,
        and attributes of string values (a catalog's few distinct ones joined once each)."""
        value = record.get(name)
        if type(value) is str:
            return " ".join(value.split())
        if name == "attributes" and type(value) is dict and all(type(v) is str for v in value.values()):
            values = tuple(value.values())
            text = self._attributes.get(values)
            if text is None:
                text = self._attributes[values] = product_text(record, (name,))
            return text
        return product_text(record, (name,))

    def _key(self, key: str) -> int:
        return -1 if not key else self.keys.setdefault(key, len(self.keys))

    def _parse(self, texts: list[tuple[str, list[str] | None]]) -> None:
        """What pair_features._parsed reads of each text, as rows of 0/1 matrices over the token keys.

        Python touches each token once (its code: key id and whether it is a model number); the sets are then
        made for the whole batch by array (a sort of (text, key) codes), not one Python set per text and kind.
        """
        if not texts:
            return
        parsed: dict[str, list[tuple[str, str, str]]] = {}
        code_of = self._token
        codes: list[int] = []
        counts: list[int] = []
        fuzzy = self.fuzzy
        for text, joined in texts:
            tokens = _joined_keys(joined, parsed) if joined else None
            if tokens is None:
                tokens = parsed[text] = title_keys(text)
            codes += [code_of.get(token) or self._new_token(token) for token in tokens]
            counts.append(len(tokens))
            fuzzy.append(" ".join([token[1] for token in tokens])[:FUZZY_MAX_CHARS])
        n = len(texts)
        code = np.asarray(codes, dtype=np.int64) - 1  # codes start at 1 so that `or` above tells "unseen"
        key = code >> 1
        text_of = np.repeat(np.arange(n, dtype=np.int64), counts)
        dimension_of, digit = self._key_arrays()
        dimension = dimension_of[key]
        measure = dimension >= 0
        # A token counts as a model number only when its key is no size's (pair_features' `elif`).
        model = ((code & 1) == 1) & ~measure
        keys = len(self.vocabulary)
        blocks = {
            "words": _set_rows(text_of, key, keys, n),
            "numbers": _set_rows(text_of[digit[key]], key[digit[key]], keys, n),
            "models": _set_rows(text_of[model], key[model], keys, n),
            "measures": _set_rows(text_of[measure], key[measure], keys, n),
            "dimensions": _set_rows(text_of[measure], dimension[measure], max(len(self.dimensions), 1), n),
        }
        # Each text's model numbers' keys in title order, once each (dict order, as pair_features' `models`).
        names, found = self.key_names, [()] * n
        chosen = np.flatnonzero(model)
        if len(chosen):
            owners = text_of[chosen]
            bounds = np.flatnonzero(np.diff(owners)) + 1
            for owner, members in zip(
                owners[np.concatenate(([0], bounds))].tolist(), np.split(key[chosen], bounds), strict=True
            ):
                found[owner] = tuple(dict.fromkeys([names[i] for i in members.tolist()]))
        self.models += found
        self.empty.extend([not text for text, _ in texts])
        for name, (indptr, indices) in blocks.items():
            self.sets[name].append(indptr, indices, np.ones(len(indices), dtype=np.int32))
            if name in self.sizes:
                self.sizes[name].extend(np.diff(indptr))

    def _key_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Each token key's dimension id and digit flag, as arrays."""
        if len(self._key_arrays_of[0]) != len(self._dimension_of):
            self._key_arrays_of = (np.asarray(self._dimension_of, dtype=np.int64), np.asarray(self._digit, dtype=bool))
        return self._key_arrays_of

    def _new_token(self, token: tuple[str, str, str]) -> int:
        """A token's code (1 + 2 x its key's id + 1 for a model number), its key numbered if new."""
        kind, key, dimension = token
        number = self.vocabulary.get(key)
        if number is None:
            number = self.vocabulary[key] = len(self.vocabulary)
            measure = self.dimensions.setdefault(dimension, len(self.dimensions)) if kind == "measure" else -1
            self._dimension_of.append(measure)
            self._digit.append(any(c.isdigit() for c in key))
            self.key_names.append(key)
        found = self._token[token] = 1 + 2 * number + (kind == "model")
        return found

    def _vectorize(self, name: str, texts: list[str]) -> None:
        vectorizers = self.vectorizers[name]
        if not texts or vectorizers is None:
            return
        for store, vectorizer in zip(self.tfidf[name], vectorizers, strict=True):
            matrix = sp.csr_matrix(vectorizer.transform(texts))
            store.append(matrix.indptr, matrix.indices, matrix.data)

    # --- pairs ---------------------------------------------------------------------------------------------

    def _features(self, left: np.ndarray, right: np.ndarray, names: int) -> np.ndarray:
        """The ``feature_names`` columns and the cosines of the pairs of record rows (left[i], right[i])."""
        width = len(self.text_fields)
        record = self.record.values
        keys = len(self.vocabulary)
        sets = {name: store.matrix(keys) for name, store in self.sets.items() if name != "dimensions"}
        sets["dimensions"] = self.sets["dimensions"].matrix(max(len(self.dimensions), 1))
        sizes = {name: column.values for name, column in self.sizes.items()}
        empty = self.empty.values
        columns: list[np.ndarray] = []
        for position in range(width):
            a, b = record[left, position], record[right, position]
            columns += self._text_similarities(a, b, sets, sizes, empty)
        if "brand" in self.fields:
            brand_a, brand_b = record[left, 2 * width + 1], record[right, 2 * width + 1]
            columns.append(((brand_a >= 0) & (brand_a == brand_b)).astype(np.float64))
        columns += self._identity(record[left, width], record[right, width], sets, sizes)
        if "price" in self.fields:
            columns += self._price(left, right, record[:, 2 * width + 2])
        rows = np.column_stack(columns).astype(DTYPE) if columns else np.zeros((len(left), 0), dtype=DTYPE)
        rows = rows.reshape(len(left), names)
        cosines = []
        for position, name in enumerate(self.text_fields):
            cosines += self._cosines(name, record[left, width + 1 + position], record[right, width + 1 + position])
        return np.column_stack([rows, *cosines]).astype(DTYPE, copy=False)

    def _text_similarities(self, a, b, sets, sizes, empty) -> list[np.ndarray]:
        """[missing, jaccard, token_set, partial, length_ratio] per pair, as pair_features' _text_similarities."""
        n = len(a)
        missing = empty[a] | empty[b]
        both = np.flatnonzero(~missing)
        # Each distinct pair of texts compared once: brands and attributes repeat (a catalog of 1M pairs held 4k
        # distinct pairs of brands); the values are a function of the two texts alone.
        a, b, each = _distinct_pairs(a[both], b[both])
        words_a, words_b = sizes["words"][a], sizes["words"][b]
        jaccard, token_set, partial, ratio = (np.zeros(n) for _ in range(4))
        jaccard[both] = _jaccard(_shared(sets["words"], a, b), words_a, words_b)[each]
        if len(both):
            fuzzy_a, fuzzy_b = [self.fuzzy[i] for i in a.tolist()], [self.fuzzy[i] for i in b.tolist()]
            for out, scorer in ((token_set, fuzz.token_set_ratio), (partial, fuzz.partial_ratio)):
                scores = cpdist(fuzzy_a, fuzzy_b, scorer=scorer, dtype=np.float64, workers=WORKERS)
                out[both] = (np.asarray(scores, dtype=np.float64).ravel() / 100)[each]
        shorter, longer = np.minimum(words_a, words_b), np.maximum(words_a, words_b)
        ratio[both] = np.divide(shorter, longer, out=np.zeros(len(a)), where=longer > 0)[each]
        return [missing.astype(np.float64), jaccard, token_set, partial, ratio]

    def _identity(self, a, b, sets, sizes) -> list[np.ndarray]:
        """IDENTITY_FEATURES per pair, as pair_features' _identity."""
        n = len(a)
        models_a, models_b = sizes["models"][a], sizes["models"][b]
        both = (models_a > 0) & (models_b > 0)
        shared = _shared(sets["models"], a, b)
        match = both & (shared > 0)
        closest = np.zeros(n)
        chosen = np.flatnonzero(both)
        if len(chosen):
            queries, choices, counts = [], [], []
            for i, j in zip(a[chosen].tolist(), b[chosen].tolist(), strict=True):
                xs, ys = self.models[i], self.models[j]
                queries += [x for x in xs for _ in ys]
                choices += ys * len(xs)
                counts.append(len(xs) * len(ys))
            scores = np.asarray(cpdist(queries, choices, scorer=fuzz.ratio, dtype=np.float64, workers=WORKERS))
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            closest[chosen] = np.maximum.reduceat(scores.ravel(), starts) / 100
        model_jaccard = np.where(both, _jaccard(shared, models_a, models_b), 0.0)
        dimensions = _shared(sets["dimensions"], a, b)
        agreeing = self._agreeing(sets["measures"], a, b)
        measured = dimensions > 0
        share = np.divide(agreeing, dimensions, out=np.zeros(n), where=measured)
        numbers = _jaccard(_shared(sets["numbers"], a, b), sizes["numbers"][a], sizes["numbers"][b])
        return [
            match.astype(np.float64),
            (both & ~match).astype(np.float64),
            (~both).astype(np.float64),
            model_jaccard,
            closest,
            share,
            (measured & (agreeing < dimensions)).astype(np.float64),
            (~measured).astype(np.float64),
            numbers,
        ]

    def _agreeing(self, measures: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """How many dimensions each pair shares a size in: a shared size key names its dimension."""
        if not len(a):
            return np.zeros(0, dtype=np.int64)
        shared = measures[a].multiply(measures[b]).tocsr()
        shared.eliminate_zeros()
        rows = np.repeat(np.arange(len(a)), np.diff(shared.indptr))
        if not len(rows):
            return np.zeros(len(a), dtype=np.int64)
        span = len(self.dimensions) + 1
        pairs = _unique(rows * span + self._key_arrays()[0][shared.indices])
        return np.bincount(pairs // span, minlength=len(a))

    def _price(self, left: np.ndarray, right: np.ndarray, currency: np.ndarray) -> list[np.ndarray]:
        """[|log(price ratio)|, missing] per pair, as pair_features' _price (in Decimal, as there)."""
        ratio, missing = np.zeros(len(left)), np.ones(len(left))
        prices = self.price
        usable = (currency[left] == currency[right]) | (currency[left] < 0) | (currency[right] < 0)
        chosen = np.flatnonzero(usable)
        for position, i, j in zip(chosen.tolist(), left[chosen].tolist(), right[chosen].tolist(), strict=True):
            a, b = prices[i], prices[j]
            if a and b:
                ratio[position] = min(abs(math.log(a / b)), MAX_LOG_PRICE_RATIO)
                missing[position] = 0.0
        return [ratio, missing]

    def _cosines(self, name: str, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        """Word and char cosine per pair: the row-wise product of the same rows the per-pair path built."""
        vectorizers = self.vectorizers[name]
        if vectorizers is None or not len(a):
            return [np.zeros(len(a), dtype=DTYPE)] * 2
        result = []
        a, b, each = _distinct_pairs(a, b)
        for store, vectorizer in zip(self.tfidf[name], vectorizers, strict=True):
            matrix = store.matrix(_width(vectorizer))
            products = matrix[a].multiply(matrix[b])
            result.append(np.asarray(products.sum(axis=1), dtype=DTYPE).ravel()[each])
        return result


def _joined_keys(parts: list[str], parsed: dict[str, list[tuple[str, str, str]]]) -> list[tuple[str, str, str]] | None:
    """title_keys(" ".join(parts)) from its parts' keys, when no token can span the space between two parts:
    only a size can ("16" + " " + "GB", "16 -" + " " + "GB"), so never after a part that ends in a digit or a
    hyphen; None otherwise."""
    if any(part[-1].isdigit() or part[-1] == "-" for part in parts[:-1]):
        return None
    keys: list[tuple[str, str, str]] = []
    for part in parts:
        found = parsed.get(part)
        if found is None:
            found = parsed[part] = title_keys(part)
        keys += found
    return keys


def _width(vectorizer: Any) -> int:
    return len(vectorizer.vocabulary_)
