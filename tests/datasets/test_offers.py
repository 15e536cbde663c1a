"""Offer parsing is pure: titles and prices in, model numbers, sizes and Decimals out."""

from decimal import Decimal

import pytest

from datasets.offers import (
    is_model_number,
    measure_key,
    measures,
    model_numbers,
    price_value,
    title_keys,
    title_tokens,
)


def kinds(title: str) -> list[tuple[str, str]]:
    return [(token.text, token.kind) for token in title_tokens(title)]


def test_a_title_is_cut_into_words_model_numbers_and_sizes():
    assert kinds("Sony WH-1000XM4 headphones, 30 mm (black)") == [
        ("Sony", "word"),
        ("WH-1000XM4", "model"),
        ("headphones", "word"),
        ("30 mm", "measure"),
        ("black", "word"),
    ]


def test_tokens_keep_their_place_in_the_title():
    title = "Acme  16GB phone"
    assert [title[t.start : t.end] for t in title_tokens(title)] == ["Acme", "16GB", "phone"]


def test_model_numbers_are_keyed_without_case_and_hyphens():
    assert model_numbers(title_tokens("Sony WH-1000XM4 and wh1000xm4")) == {"wh1000xm4": "wh1000xm4"}
    assert model_numbers(title_tokens("HP 388504-B21 drive")) == {"388504b21": "388504-B21"}


def test_what_is_no_model_number():
    assert not is_model_number("3rd")
    assert not is_model_number("A1")
    assert not is_model_number("540-5629")
    assert is_model_number("A12")


def test_sizes_are_grouped_by_dimension_in_base_units():
    found = measures(title_tokens("Acme laptop 1TB 15.6in 2 pack 16 GB"))
    assert found == {
        "capacity": {"capacity:1000000000000": "1TB", "capacity:16000000000": "16 GB"},
        "size": {"size:396.24": "15.6in"},
        "quantity": {"quantity:2": "2 pack"},
    }


def test_units_of_one_dimension_give_one_key():
    assert measure_key("1 TB") == measure_key("1000GB") == "capacity:1000000000000"
    assert measure_key("1,5 l") == measure_key("1500 ml")
    assert measure_key("5,000 mAh") == measure_key("5000mAh")
    assert measure_key("two GB") is None


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("$1,299.99", Decimal("1299.99")),
        ("1.299,99 €", Decimal("1299.99")),
        ("19,90", Decimal("19.90")),
        ("EUR 12.5", Decimal("12.5")),
        ("1.000", Decimal("1000")),
        ("1,299", Decimal("1299")),
        (Decimal("199.00"), Decimal("199")),
        (3, Decimal("3")),
        (2.5, Decimal("2.5")),
    ],
)
def test_prices_are_read_as_written(written, value):
    assert price_value(written) == value


@pytest.mark.parametrize("written", [None, "", "call us", "-5", True, float("nan"), float("inf"), Decimal("-1")])
def test_what_is_no_price(written):
    assert price_value(written) is None


@pytest.mark.parametrize(
    "title",
    [
        "Sony WH-1000XM4 16GB 1 TB 2 in 1 wireless, 55\" 4K",
        "usb stick ,16gb and x.16gb then 16gb",  # the same text as a word after "," and as a size after a space
        "1,000mAh 2-pack 3rd gen 5 - kg 12.5cm 7 oz",
        "",
        "  -- //  ",
    ],
)
def test_title_keys_are_the_kinds_keys_and_dimensions_of_title_tokens(title):
    expected = [(token.kind, token.key, token.dimension) for token in title_tokens(title)]
    assert title_keys(title) == expected
    assert title_keys(title) == expected  # the second time from the cache of token texts
