"""The rescoring path (pair_table: products parsed once, pairs by arrays) gives the per-pair features bit for bit."""

import random
from decimal import Decimal

import numpy as np
import pytest
import scipy.sparse as sp

from models_app.ml import pair_table
from models_app.ml.config import MATCHER_FIELDS
from models_app.ml.features import DTYPE
from models_app.ml.pair_features import PairFeaturizer, _text_fields, pair_features

TITLES = [
    "Sony WH-1000XM4 Wireless Headphones black",
    "SONY wh1000xm4 headphones 30 mm",
    "Sony WH-1000XM5 noise-cancelling",
    "Samsung Galaxy S21 128GB 6.2in",
    "samsung galaxy s21 128 gb 6.2 inch phantom grey",
    "Samsung Galaxy S21 256GB",
    "Acme disk 1TB",
    "Acme disk 1000 GB USB 3.0",
    "Bosch KGN39VWEAG fridge freezer 60cm a++",
    "bosch kgn39vweag 60 cm 366l",
    "Apple iPhone 12 64gb",
    "apple iphone 12 64 gb (2020) 2-pack",
    "usb stick ,16gb x.16gb 16 gb",
    "Miele F9122Ui-2 built under freezer",
    "miele f9122ui2",
    "Lenovo ThinkPad 14",  # ends with a digit: joined with its attributes it may read "14 in"
    "cable 3 -",  # ends with a hyphen: "3 - m" may be a size once joined
    "!!!",
    "",
]
ATTRIBUTES = [None, {}, {"colour": "black"}, {"size": "in"}, {"unit": "m"}, {"capacity": "16GB", "ean": "400638"},
              {"list": ["a", 1]}, {"n": 1}, {"n": True}]
PRICES = [None, Decimal("199.99"), Decimal("210.50"), Decimal("0"), "1.299,99", 1, True, 450.0, "n/a"]
CURRENCIES = ["", "GBP", "gbp ", "EUR", None]


def _records(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        title = rng.choice(TITLES)
        records.append(
            {
                "title": title,
                "brand": rng.choice(["", "Sony", "sony ", "Samsung", title.split(" ")[0] if title else ""]),
                "description": rng.choice(["", "", "A long description " * rng.randrange(1, 40), "16GB model"]),
                "attributes": rng.choice(ATTRIBUTES),
                "price": rng.choice(PRICES),
                "currency": rng.choice(CURRENCIES),
            }
        )
    return records


def _pairs(records: list[dict], count: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    left, right = [], []
    for _ in range(count):
        a, b = rng.sample(range(len(records)), 2)
        # Fresh dicts, as every page of the database gives: equal products are found by their values.
        left.append(dict(records[a]))
        right.append(dict(records[b]))
    return left, right


def _reference(featurizer: PairFeaturizer, left: list[dict], right: list[dict]) -> np.ndarray:
    """The features as they were computed before pair_table: pair_features per pair, cosines per distinct text."""
    rows = np.array(
        [list(pair_features(a, b, fields=featurizer.fields).values()) for a, b in zip(left, right, strict=True)],
        dtype=DTYPE,
    )
    cosines = []
    for name in _text_fields(featurizer.fields):
        texts_left = [pair_table.product_text(record, (name,)) for record in left]
        texts_right = [pair_table.product_text(record, (name,)) for record in right]
        vectorizers = featurizer.vectorizers_[name]
        if vectorizers is None:
            cosines += [np.zeros(len(left), dtype=DTYPE)] * 2
            continue
        index: dict[str, int] = {}
        rows_left = [index.setdefault(text, len(index)) for text in texts_left]
        rows_right = [index.setdefault(text, len(index)) for text in texts_right]
        for vectorizer in vectorizers:
            matrix = sp.csr_matrix(vectorizer.transform(list(index)))
            products = matrix[rows_left].multiply(matrix[rows_right])
            cosines.append(np.asarray(products.sum(axis=1), dtype=DTYPE).ravel())
    return np.column_stack([rows, *cosines]).astype(DTYPE)


@pytest.mark.parametrize("fields", [MATCHER_FIELDS, ("title",), ("title", "brand", "price"), ("description",)])
def test_the_rescoring_path_gives_the_per_pair_features_exactly(fields):
    records = _records(60, seed=1)
    left, right = _pairs(records, 400, seed=2)
    featurizer = PairFeaturizer(fields=fields).fit(left[:150], right[:150])

    expected = _reference(featurizer, left, right)
    cache = featurizer.cache()
    pages = [featurizer.transform(left[i : i + 90], right[i : i + 90], cache=cache) for i in range(0, 400, 90)]
    found = np.vstack(pages)

    assert found.dtype == expected.dtype == np.float32
    assert found.shape == (400, len(featurizer.feature_names_))
    np.testing.assert_array_equal(found, expected)
    assert len(cache.records) < 2 * 400  # products seen on earlier pages were not parsed again


def test_a_cache_that_starts_afresh_when_full_gives_the_same_features(monkeypatch):
    records = _records(40, seed=3)
    left, right = _pairs(records, 200, seed=4)
    featurizer = PairFeaturizer(fields=MATCHER_FIELDS).fit(left, right)
    whole = featurizer.cache()
    expected = featurizer.transform(left, right, cache=whole)
    monkeypatch.setattr(pair_table, "MAX_TEXTS", 10)

    cache = featurizer.cache()
    pages = [featurizer.transform(left[i : i + 50], right[i : i + 50], cache=cache) for i in range(0, 200, 50)]

    np.testing.assert_array_equal(np.vstack(pages), expected)
    assert len(cache.texts) < len(whole.texts)  # emptied between pages


def test_no_pairs_give_an_empty_matrix_of_the_right_width():
    records = _records(10, seed=5)
    featurizer = PairFeaturizer(fields=MATCHER_FIELDS).fit(records[:5], records[5:])
    assert featurizer.transform([], []).shape == (0, len(featurizer.feature_names_))


def test_pairs_by_product_id_give_the_features_of_their_records_exactly():
    records = _records(60, seed=6)
    rng = random.Random(7)
    ids = [1000 + 7 * i for i in range(len(records))]  # sparse ids, as a dataset's products have
    chosen = [rng.sample(range(len(records)), 2) for _ in range(300)]
    left, right = [records[a] for a, _ in chosen], [records[b] for _, b in chosen]
    featurizer = PairFeaturizer(fields=MATCHER_FIELDS).fit(left[:100], right[:100])
    expected = featurizer.transform(left, right)

    cache, pages = featurizer.cache(), []
    for start in range(0, 300, 70):
        left_ids = np.array([ids[a] for a, _ in chosen[start : start + 70]])
        right_ids = np.array([ids[b] for _, b in chosen[start : start + 70]])
        new = cache.unknown(np.concatenate([left_ids, right_ids]))
        assert not set(new.tolist()) & set(cache.product_ids.tolist())  # each product is handed over once
        cache.products_add(new, [records[ids.index(i)] for i in new.tolist()])
        pages.append(featurizer.transform_ids(left_ids, right_ids, cache=cache))

    np.testing.assert_array_equal(np.vstack(pages), expected)


def test_a_product_not_added_is_named():
    records = _records(4, seed=8)
    featurizer = PairFeaturizer(fields=MATCHER_FIELDS).fit(records[:2], records[2:])
    cache = featurizer.cache()
    cache.products_add([5, 9], records[:2])
    with pytest.raises(KeyError, match="product 7"):
        featurizer.transform_ids(np.array([5]), np.array([7]), cache=cache)


def test_products_added_by_id_get_rows_of_their_own_and_share_their_texts():
    records = _records(30, seed=9)
    twins = [dict(records[0]), dict(records[0])]  # two products with equal values
    featurizer = PairFeaturizer(fields=MATCHER_FIELDS).fit(records, records[::-1])
    cache = featurizer.cache()
    cache.products_add([1, 2, *range(10, 40)], [*twins, *records])

    assert cache.record.size == 32 and not cache.records  # no row looked up by value
    texts = {pair_table.product_text(record, (name,)) for record in records for name in _text_fields(MATCHER_FIELDS)}
    assert texts <= set(cache.texts) and len(cache.texts) < 5 * 32  # each distinct text parsed once
    found = featurizer.transform_ids(np.array([1, 2, 10]), np.array([2, 11, 1]), cache=cache)
    expected = featurizer.transform([twins[0], twins[1], records[0]], [twins[1], records[1], twins[0]])
    np.testing.assert_array_equal(found, expected)


def test_unique_is_numpys():
    values = np.random.default_rng(0).integers(-5, 50, 1000)
    np.testing.assert_array_equal(pair_table._unique(values), np.unique(values))
    assert pair_table._unique(np.array([7])).tolist() == [7] and not len(pair_table._unique(np.zeros(0, int)))
