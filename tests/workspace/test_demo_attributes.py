"""Demo attributes: titles whose true spans the generator knows, with structured values that sometimes differ."""

from collections import Counter

from labeling.kinds.spans.tokens import char_to_token, product_text, spans_check, tokenize
from workspace.demo_attributes import LABELS, demo_attribute_products
from workspace.demo_vocab import LEAVES

PRODUCTS = list(demo_attribute_products(3000, seed=11))


def test_the_same_seed_gives_the_same_products_and_another_seed_others():
    assert list(demo_attribute_products(200, seed=4)) == list(demo_attribute_products(200, seed=4))
    assert list(demo_attribute_products(200, seed=4)) != list(demo_attribute_products(200, seed=5))


def test_products_are_product_records_with_unique_ids_and_leaf_categories():
    leaves = {path for path, _spec in LEAVES.values()}
    assert len({product["external_id"] for product in PRODUCTS}) == len(PRODUCTS)
    for product in PRODUCTS[:200]:
        assert {"external_id", "title", "description", "brand", "price", "currency", "attributes", "category",
                "spans"} <= product.keys()
        assert product["category"] in leaves
        assert all(isinstance(value, str) for value in product["attributes"].values())


def test_true_spans_are_whole_tokens_of_the_text_to_mark_and_never_overlap():
    for product in PRODUCTS:
        text = product_text(product)
        assert text == product["title"]  # the offsets are in the text an annotator marks
        tokens = tokenize(text)
        spans = [(*char_to_token(tokens, span["start"], span["end"]), span["label"]) for span in product["spans"]]
        assert spans_check(spans, tokens, labels=LABELS) == sorted(spans)


def test_every_type_occurs():
    counts = Counter(span["label"] for product in PRODUCTS for span in product["spans"])
    assert set(counts) == set(LABELS)
    assert min(counts.values()) > 100


def test_the_structured_values_miss_some_and_spell_some_otherwise():
    in_title, missing, respelled = 0, 0, 0
    for product in PRODUCTS:
        values = {**product["attributes"], "brand": product["brand"]}
        for span in product["spans"]:
            if span["label"] not in ("BRAND", "COLOR", "SIZE"):
                continue
            key = {"BRAND": "brand", "COLOR": "color", "SIZE": "size"}[span["label"]]
            written = product["title"][span["start"]:span["end"]]
            if not values.get(key):
                missing += 1
            elif values[key].lower() == written.lower():
                in_title += 1
            else:
                respelled += 1
    total = in_title + missing + respelled
    assert in_title / total > 0.6
    assert missing / total > 0.05 and respelled / total > 0.015  # most other spellings differ by case alone


def test_titles_have_their_values_as_spans_with_the_words_they_are_written_in():
    product = next(p for p in PRODUCTS if p["title"].count(p["attributes"].get("color") or "?") == 1)
    color = product["attributes"]["color"]
    start = product["title"].index(color)
    assert {"start": start, "end": start + len(color), "label": "COLOR"} in product["spans"]
