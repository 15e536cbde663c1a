"""Products upserted by external id, without tasks: the path of kinds whose tasks are not one per product."""

from decimal import Decimal

import pytest

from datasets.importers import ProductRow
from datasets.models import Product
from datasets.services.products import products_upsert
from tests.factories import DatasetFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_new_products_are_created_and_their_ids_returned_by_external_id():
    dataset = DatasetFactory()
    ids = products_upsert(
        dataset=dataset,
        rows=[
            ProductRow(1, "A1", "Desk lamp", brand="Lumen", price=Decimal("39.90"), attributes={"colour": "black"}),
            ProductRow(2, "A2", "Floor lamp"),
        ],
    )
    lamp = Product.objects.get(pk=ids["A1"])
    assert set(ids) == {"A1", "A2"}
    assert (lamp.title, lamp.brand, lamp.price) == ("Desk lamp", "Lumen", Decimal("39.90"))
    assert lamp.attributes == {"colour": "black"}


def test_a_known_external_id_updates_its_product_and_keeps_its_id():
    dataset = DatasetFactory()
    known = ProductFactory(dataset=dataset, external_id="A1", title="Old title")
    other = ProductFactory(external_id="A1")  # another dataset's product of the same external id
    ids = products_upsert(dataset=dataset, rows=[ProductRow(1, "A1", "New title", description="Now with a shade")])
    known.refresh_from_db()
    assert ids == {"A1": known.pk}
    assert (known.title, known.description) == ("New title", "Now with a shade")
    assert Product.objects.get(pk=other.pk).title != "New title"


def test_nothing_to_write_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert products_upsert(dataset=DatasetFactory.build(), rows=[]) == {}


def test_every_character_a_catalog_holds_comes_back_as_it_was_written():
    """New products go by COPY's text format: its own escapes (backslash, tab, newline) must not leak into values."""
    dataset = DatasetFactory()
    title = 'Lamp \\ "Nordic"\ttab'
    description = "Line one\nline two\r\nC:\\path \\N é 灯"
    attributes = {"note": 'a "quoted" \\ back\\slash\nnew line', "size": "10\\12"}
    ids = products_upsert(
        dataset=dataset,
        rows=[
            ProductRow(1, "A\\1", title, description=description, attributes=attributes),
            ProductRow(2, "A2", "\\N", price=Decimal("0.50")),
        ],
    )
    lamp, other = Product.objects.get(pk=ids["A\\1"]), Product.objects.get(pk=ids["A2"])
    assert (lamp.title, lamp.description, lamp.attributes) == (title, description, attributes)
    assert (lamp.brand, lamp.price, lamp.url) == ("", None, "")  # empty text stays text; no price is NULL
    assert (other.title, other.price) == ("\\N", Decimal("0.50"))
    assert ids["A\\1"] < ids["A2"]  # the rows' order


def test_a_batch_with_one_known_product_among_new_ones_is_written_whole_by_the_upsert():
    dataset = DatasetFactory()
    known = ProductFactory(dataset=dataset, external_id="B2", title="Old title")
    ids = products_upsert(dataset=dataset, rows=[ProductRow(n, f"B{n}", f"Lamp {n}") for n in range(1, 5)])
    assert ids["B2"] == known.pk
    assert sorted(Product.objects.filter(dataset=dataset).values_list("external_id", "title")) == [
        ("B1", "Lamp 1"), ("B2", "Lamp 2"), ("B3", "Lamp 3"), ("B4", "Lamp 4")
    ]
