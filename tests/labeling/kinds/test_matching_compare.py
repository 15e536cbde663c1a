"""The pair comparison is pure: plain offers in, marks and conflicts out, no database."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from labeling.kinds.matching.compare import AttributeRow, Conflict, Span, measure_key, offers_compare


@dataclass
class Offer:
    title: str
    brand: str = ""
    price: Decimal | None = None
    currency: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


def marked(spans: tuple[Span, ...]) -> list[str]:
    return [span.text for span in spans if span.differs]


def test_words_on_one_side_only_are_marked_whatever_their_case():
    comparison = offers_compare(Offer("Sony Wireless Headphones Black"), Offer("SONY wireless headphones, silver"))
    assert marked(comparison.left_title) == ["Black"]
    assert marked(comparison.right_title) == ["silver"]


def test_a_hyphenated_compound_matches_its_words():
    comparison = offers_compare(Offer("Noise Cancelling headphones"), Offer("noise-cancelling headphones"))
    assert marked(comparison.left_title) == marked(comparison.right_title) == []
    partly = offers_compare(Offer("noise-cancelling"), Offer("noise reduction"))
    assert marked(partly.left_title) == ["noise-cancelling"]


def test_the_spans_keep_the_title_as_written():
    title = "Acme  phone, 16 GB (blue)"
    comparison = offers_compare(Offer(title), Offer("Acme phone"))
    assert "".join(span.text for span in comparison.left_title) == title


def test_a_size_written_with_or_without_a_space_is_the_same():
    comparison = offers_compare(Offer("Acme phone 16GB"), Offer("Acme phone 16 GB"))
    assert marked(comparison.left_title) == marked(comparison.right_title) == []
    assert comparison.conflicts == ()


def test_different_capacities_disagree_and_are_named():
    comparison = offers_compare(Offer("Acme phone 16GB"), Offer("Acme phone 32GB"))
    assert marked(comparison.left_title) == ["16GB"]
    assert marked(comparison.right_title) == ["32GB"]
    assert comparison.conflicts == (Conflict("capacity", "16GB", "32GB"),)


def test_units_of_one_dimension_are_converted():
    assert measure_key("1 TB") == measure_key("1000GB")
    assert measure_key("1,5 l") == measure_key("1500 ml")
    assert measure_key("2-pack") == measure_key("2 pcs")
    assert measure_key("16GB") != measure_key("16MB")
    assert measure_key("black") is None


def test_a_thousands_separator_is_not_a_decimal_point():
    assert measure_key("5,000 mAh") == measure_key("5000mAh")


def test_two_in_one_is_no_size():
    comparison = offers_compare(Offer("Acme 2 in 1 cable"), Offer("Acme 2 in 1 cable 55in"))
    assert [span.kind for span in comparison.left_title if span.text == "2"] == ["word"]
    assert marked(comparison.right_title) == ["55in"]


def test_quantities_that_differ_are_a_conflict():
    comparison = offers_compare(Offer("Acme AA batteries 4 pack"), Offer("Acme AA batteries 8-pack"))
    assert comparison.conflicts == (Conflict("quantity", "4 pack", "8-pack"),)


def test_model_numbers_match_whatever_their_hyphens():
    comparison = offers_compare(Offer("Sony WH-1000XM4 headphones"), Offer("Sony WH1000XM4 headphones"))
    assert comparison.conflicts == ()
    assert marked(comparison.left_title) == []


def test_different_model_numbers_disagree():
    comparison = offers_compare(Offer("Sony WH-1000XM4 headphones"), Offer("Sony WH-1000XM5 headphones"))
    assert [(span.text, span.kind) for span in comparison.left_title if span.differs] == [("WH-1000XM4", "model")]
    assert comparison.conflicts == (Conflict("model number", "WH-1000XM4", "WH-1000XM5"),)


def test_a_model_number_on_one_side_only_is_marked_but_no_conflict():
    comparison = offers_compare(Offer("Sony WH-1000XM4 headphones"), Offer("Sony headphones"))
    assert marked(comparison.left_title) == ["WH-1000XM4"]
    assert comparison.conflicts == ()


def test_ordinals_are_no_model_numbers():
    comparison = offers_compare(Offer("Echo Dot 3rd generation"), Offer("Echo Dot 4th generation"))
    assert comparison.conflicts == ()
    assert [span.kind for span in comparison.left_title if span.differs] == ["word"]


def test_prices_that_disagree():
    left = Offer("Acme phone", price=Decimal("199.00"), currency="EUR")
    assert not offers_compare(left, Offer("Acme phone", price=Decimal("199"), currency="eur")).price_differs
    assert not offers_compare(left, Offer("Acme phone")).price_differs
    other = offers_compare(left, Offer("Acme phone", price=Decimal("249.00"), currency="EUR"))
    assert other.price_differs
    assert Conflict("price", "199.00 EUR", "249.00 EUR") in other.conflicts
    assert offers_compare(left, Offer("Acme phone", price=Decimal("199.00"), currency="USD")).price_differs


def test_brands_compare_without_case():
    assert not offers_compare(Offer("x", brand="Sony"), Offer("x", brand="SONY ")).brand_differs
    assert offers_compare(Offer("x", brand="Sony"), Offer("x", brand="Bose")).brand_differs
    assert not offers_compare(Offer("x", brand="Sony"), Offer("x")).brand_differs


def test_attributes_are_the_union_with_sizes_compared_by_value():
    left = Offer("x", attributes={"Color": "Black", "Storage": "16GB", "Weight": "200 g"})
    right = Offer("x", attributes={"color": "black", "storage": "16 GB", "Weight": "250 g", "Ports": ["USB-C", "HDMI"]})
    assert offers_compare(left, right).attributes == (
        AttributeRow("Color", "Black", "black", differs=False),
        AttributeRow("Storage", "16GB", "16 GB", differs=False),
        AttributeRow("Weight", "200 g", "250 g", differs=True),
        AttributeRow("Ports", None, "USB-C, HDMI", differs=False),
    )
    assert offers_compare(left, right).conflicts == (Conflict("Weight", "200 g", "250 g"),)
