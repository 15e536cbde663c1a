import pytest
from sklearn.feature_extraction.text import CountVectorizer

from models_app.ml.text import (
    Preprocessor,
    WordAnalyzer,
    _spacy_tokenizer,
    char_wb_ngrams,
    normalize_numbers,
    product_text,
    regex_tokenize,
    spacy_tokenize,
    word_ngrams,
)

TITLE = 'Apple iPhone 8 Plus 64GB, 5.5" silver'


def test_spacy_tokenizer_splits_units_and_drops_punctuation():
    assert spacy_tokenize(TITLE) == ["Apple", "iPhone", "8", "Plus", "64", "GB", "5.5", "silver"]


def test_regex_tokenizer_keeps_glued_units():
    assert regex_tokenize(TITLE) == ["Apple", "iPhone", "8", "Plus", "64GB", "5.5", "silver"]


def test_spacy_tokenizer_per_chunk_matches_whole_text_tokenization():
    text = "Bosch 2-in-1 (wi-fi) kettle don't 1.7l; U.S. plug\tx"
    whole = [t.text for t in _spacy_tokenizer()(text) if any(c.isalnum() for c in t.text)]
    assert spacy_tokenize(text) == whole


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ml", "<num> ml"),
        ("500 ml", "<num> ml"),
        ('15.6"', "<num> inch"),
        ("15.6in", "<num> inch"),
        ("15.6-inch", "<num> inch"),
        ("64GB", "<num> gb"),
        ("(64GB)", "( <num> gb )"),
        ("2 in 1", "<num> in <num>"),
        ("5 mars", "<num> mars"),
        ("a1234 4k 5.5x", "a1234 4k 5.5x"),
    ],
)
def test_normalize_numbers(text, expected):
    assert normalize_numbers(text) == expected


def test_both_tokenizers_keep_the_number_placeholder_whole():
    text = Preprocessor(lowercase=True, normalize_numbers=True)(TITLE)
    expected = ["apple", "iphone", "<num>", "plus", "<num>", "gb", "<num>", "inch", "silver"]
    assert (spacy_tokenize(text), regex_tokenize(text)) == (expected, expected)


def test_preprocessor_keeps_case_when_asked():
    assert Preprocessor(lowercase=False, normalize_numbers=False)("iPhone") == "iPhone"


def test_product_text_joins_fields_in_order_and_skips_empty_ones():
    record = {"title": " Galaxy  S9 ", "brand": "", "description": None, "category": "Phones"}
    assert product_text(record, ["title", "brand", "description", "category", "missing"]) == "Galaxy S9 Phones"


def test_product_text_uses_the_values_of_attributes():
    record = {"title": "Kettle", "attributes": {"colour": "red", "size": "", "tags": ["steel", "1.7l"]}}
    assert product_text(record, ["title", "attributes"]) == "Kettle red steel 1.7l"


def test_word_ngrams_match_scikit_learn():
    tokens = ["a", "b", "c", "d"]
    analyzer = CountVectorizer(ngram_range=(1, 3), tokenizer=str.split, token_pattern=None).build_analyzer()
    assert word_ngrams(tokens, (1, 3)) == analyzer("a b c d")


def test_word_ngrams_without_unigrams():
    assert word_ngrams(["a", "b", "c"], (2, 2)) == ["a b", "b c"]


def test_char_wb_ngrams_match_scikit_learn():
    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()
    assert char_wb_ngrams("ok", (2, 4)) + char_wb_ngrams("phone", (2, 4)) == analyzer("ok phone")


def test_word_analyzer_tokenizes_then_builds_ngrams():
    analyzer = WordAnalyzer(lowercase=True, normalize_numbers=True, tokenizer="regex", ngram_range=(1, 2))
    assert analyzer("Tea 500ml") == ["tea", "<num>", "ml", "tea <num>", "<num> ml"]
