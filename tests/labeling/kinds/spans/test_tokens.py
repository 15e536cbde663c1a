"""The text to mark, its spaCy tokens, and character spans snapped to them and checked."""

import pytest
import spacy
from spacy.tokens import Doc

from config.errors import ApplicationError
from labeling.kinds.spans.tokens import (
    SpanError,
    blank,
    char_to_token,
    product_text,
    snap,
    spans_check,
    token_to_char,
    tokenize,
    tokens_text,
)

TITLE = "Kaffeo Barista 3 Coffee Maker, Space Grey (1.5 L) - Men's"
LABELS = {"BRAND", "COLOR", "CAPACITY", "GENDER"}


def test_the_tokens_are_the_blank_english_tokenizers_with_their_offsets():
    tokens = tokenize(TITLE)
    doc = spacy.blank("en")(TITLE)
    assert [token.text for token in tokens] == [token.text for token in doc]
    assert all(TITLE[token.start:token.end] == token.text for token in tokens)
    assert [token.id for token in tokens] == list(range(len(doc)))
    assert tokens_text(tokens) == TITLE
    rebuilt = Doc(blank().vocab, words=[t.text for t in tokens], spaces=[t.ws for t in tokens])
    assert rebuilt.text == TITLE


def test_the_tokenizer_is_built_once():
    assert blank() is blank()


def test_the_text_is_the_title_or_the_title_and_the_descriptions_words():
    description = "<p>Brews <b>fast</b> &amp; hot.</p><script>x()</script><p>Ok</p>"
    product = {"title": " Kaffeo\tCoffee  Maker ", "description": description}
    assert product_text(product) == "Kaffeo Coffee Maker"
    assert product_text(product, with_description=True) == "Kaffeo Coffee Maker\nBrews fast & hot. Ok"
    assert product_text({"title": "Mug", "description": ""}, with_description=True) == "Mug"
    assert [token.text for token in tokenize(product_text(product, with_description=True))][3] == "\n"


def test_a_product_without_a_title_is_refused():
    with pytest.raises(SpanError, match="without a title"):
        product_text({"title": "  ", "description": "words"}, with_description=True)


def test_a_selection_cutting_words_takes_the_whole_words():
    tokens = tokenize(TITLE)
    start = TITLE.index("pace Gr")  # inside "Space" to inside "Grey"
    first, last = snap(TITLE, start, start + len("pace Gr"))
    assert (tokens[first].text, tokens[last].text) == ("Space", "Grey")
    assert token_to_char(tokens, first, last) == (TITLE.index("Space Grey"), TITLE.index("Space Grey") + 10)


def test_whitespace_at_a_selections_edges_is_left_out():
    start = TITLE.index(" Coffee")
    assert snap(tokenize(TITLE), start, start + len(" Coffee ")) == (3, 3)
    assert snap(TITLE, start, start + len(" Coffee Maker, ")) == (3, 5)  # the comma is a token of its own
    tokens = tokenize("Mug\nRed")
    assert snap(tokens, 0, 4) == (0, 0)  # "Mug\n": the line break token is left out
    assert snap(tokens, 0, 5) == (0, 2)  # "Mug\nR": across it is fine
    assert snap(tokens, 3, 5) == (2, 2)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [(4, 4, "is empty"), (5, 2, "is empty"), (-1, 3, "outside the text"), (0, len(TITLE) + 1, "outside the text"),
     (6, 7, "covers no word")],
)
def test_an_empty_outside_or_blank_selection_is_refused(start, end, message):
    with pytest.raises(ValueError, match=message):
        snap(TITLE, start, end)


def test_a_span_error_is_a_value_error_and_the_domain_error():
    with pytest.raises(SpanError) as raised:
        snap(TITLE, 3, 3)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, ApplicationError)


def test_character_offsets_convert_to_tokens_only_on_token_edges():
    tokens = tokenize(TITLE)
    start = TITLE.index("1.5 L")
    first, last = char_to_token(tokens, start, start + 5)
    assert (tokens[first].text, tokens[last].text) == ("1.5", "L")
    assert token_to_char(tokens, first, last) == (start, start + 5)
    with pytest.raises(SpanError, match="token boundaries"):
        char_to_token(tokens, start + 1, start + 5)
    with pytest.raises(SpanError, match="token boundaries"):
        char_to_token(tokens, start, start + 4)
    with pytest.raises(SpanError, match="not in the text"):
        token_to_char(tokens, 2, len(tokens))


def test_every_tokens_offsets_round_trip():
    tokens = tokenize(TITLE)
    for token in tokens:
        assert char_to_token(tokens, token.start, token.end) == (token.id, token.id)
        assert snap(tokens, token.start, token.end) == (token.id, token.id)


def test_spans_are_normalized_sorted_with_inclusive_ends_and_repeats_once():
    tokens = tokenize(TITLE)
    spans = [{"token_start": 6, "token_end": 7, "label": "COLOR"}, (0, 0, "BRAND"), [6, 7, "COLOR"]]
    assert spans_check(spans, tokens, labels=LABELS) == [(0, 0, "BRAND"), (6, 7, "COLOR")]
    assert spans_check([], tokens, labels=LABELS) == []


def test_overlapping_spans_are_refused_naming_both():
    tokens = tokenize(TITLE)
    with pytest.raises(SpanError, match=r'"Space Grey" \(COLOR\) and "Grey" \(BRAND\) overlap') as raised:
        spans_check([(7, 7, "BRAND"), (6, 7, "COLOR"), (0, 0, "BRAND")], tokens, labels=LABELS)
    assert raised.value.extra == {"spans": [[6, 7, "COLOR"], [7, 7, "BRAND"]]}
    with pytest.raises(SpanError, match=r'"Kaffeo" \(BRAND\) and "Kaffeo" \(COLOR\) overlap'):
        spans_check([(0, 0, "BRAND"), (0, 0, "COLOR")], tokens, labels=LABELS)


@pytest.mark.parametrize(
    ("span", "message"),
    [((0, 0, "PRICE"), "Unknown span type 'PRICE'; this dataset's types are: BRAND, CAPACITY, COLOR, GENDER"),
     ((3, 2, "BRAND"), "Tokens 3-2 are not in the text"),
     ((0, 99, "BRAND"), "Tokens 0-99 are not in the text"),
     ((-1, 0, "BRAND"), "not in the text"),
     (("0", 1, "BRAND"), "token numbers"),
     ((True, 1, "BRAND"), "token numbers"),
     ({"start": 0, "end": 6, "label": "BRAND"}, "needs token_start, token_end and label"),
     ((0, 1), "needs token_start, token_end and label")],
)
def test_a_bad_span_is_refused_with_the_reason(span, message):
    with pytest.raises(SpanError, match=message):
        spans_check([span], tokenize(TITLE), labels=LABELS)


def test_a_span_may_not_begin_or_end_on_whitespace():
    tokens = tokenize("Mug\nRed")
    with pytest.raises(SpanError, match="begins or ends on whitespace"):
        spans_check([(1, 2, "COLOR")], tokens, labels=LABELS)
    assert spans_check([(0, 2, "COLOR")], tokens, labels=LABELS) == [(0, 2, "COLOR")]  # across it is fine
