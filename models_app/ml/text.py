"""Text preparation: joining product fields, number normalization, tokenizers, word and char n-grams.

Everything a fitted pipeline calls is a module-level function or a small class holding only plain
settings, so pipelines pickle by reference and a worker can load an artifact made elsewhere.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from datasets.offers import product_text  # noqa: F401 - the models' texts, as they always were read here

NUM = "<num>"

# Canonical unit for each spelling seen in product titles; the longest spelling is tried first.
_UNITS = {
    "tb": "tb", "gb": "gb", "mb": "mb", "kb": "kb", "ghz": "ghz", "mhz": "mhz", "hz": "hz",
    "mah": "mah", "wh": "wh", "kw": "kw", "w": "w", "v": "v", "rpm": "rpm", "btu": "btu", "db": "db",
    "mp": "mp", "mpx": "mp", "mm": "mm", "cm": "cm", "m": "m", "km": "km",
    "kg": "kg", "g": "g", "mg": "mg", "lb": "lb", "lbs": "lb", "oz": "oz",
    "ml": "ml", "cl": "cl", "l": "l", "ltr": "l", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "inch": "inch", "inches": "inch", '"': "inch", "''": "inch", "\u201d": "inch", "\u2033": "inch",
}  # fmt: skip
_UNIT_ALTERNATION = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
# A number not glued to a preceding word (so model codes like "a1234" stay), with an optional unit
# after an optional space or hyphen. "in" counts as inches only when glued ("15in"): "2 in 1" stays.
# The number is atomic so that "5.5x" is left alone rather than split into "5" and ".5x".
_NUMBER_RE = re.compile(
    r"(?<![\w.,])(?>\d+(?:[.,]\d+)*)"
    rf"(?:[ -]?(?P<unit>{_UNIT_ALTERNATION})|(?P<inch>in))?"
    r"(?![\w'\"\u201d\u2033])",
    re.IGNORECASE,
)
_REGEX_TOKEN_RE = re.compile(rf"{re.escape(NUM)}|\w+(?:[.'\u2019-]\w+)*")


def _number_repl(match: re.Match[str]) -> str:
    if match["inch"]:
        return f" {NUM} inch "
    unit = match["unit"]
    return f" {NUM} {_UNITS[unit.lower()]} " if unit else f" {NUM} "


def normalize_numbers(text: str) -> str:
    """Replace numbers by "<num>" plus a canonical unit: "500ml", "500 ml" -> "<num> ml"; 15.6\" -> "<num> inch".

    Whitespace is collapsed afterwards, as the replacement is padded so "(64GB)" gives "( <num> gb )".
    """
    return " ".join(_NUMBER_RE.sub(_number_repl, text).split())


class Preprocessor:
    """Case folding then number normalization, the text every analyzer sees."""

    def __init__(self, *, lowercase: bool, normalize_numbers: bool) -> None:
        self.lowercase = lowercase
        self.normalize_numbers = normalize_numbers

    def __call__(self, text: str) -> str:
        if self.lowercase:
            text = text.lower()
        return normalize_numbers(text) if self.normalize_numbers else text


def regex_tokenize(text: str) -> list[str]:
    """Runs of word characters, keeping inner dots, apostrophes and hyphens ("5.5", "wi-fi") and "<num>"."""
    return _REGEX_TOKEN_RE.findall(text)


@functools.cache
def _spacy_tokenizer() -> Any:
    # Imported and built lazily, once per process: spaCy costs seconds to import and the Django
    # web process, which imports this package, never tokenizes.
    import spacy
    from spacy.symbols import ORTH

    tokenizer = spacy.blank("en").tokenizer
    tokenizer.add_special_case(NUM, [{ORTH: NUM}])
    return tokenizer


@functools.lru_cache(maxsize=2**17)
def _spacy_chunk(chunk: str) -> tuple[str, ...]:
    # spaCy tokenizes each whitespace-separated chunk on its own, so caching per chunk gives the
    # same tokens as tokenizing the whole text while skipping the Doc construction for the words
    # that repeat across a catalog (most of them). The cap bounds memory on 1M-product rescoring.
    return tuple(token.text for token in _spacy_tokenizer()(chunk) if any(c.isalnum() for c in token.text))


def spacy_tokenize(text: str) -> list[str]:
    """spaCy's blank English tokenizer (never the full ``nlp()`` pipeline), punctuation-only tokens dropped."""
    tokens: list[str] = []
    for chunk in text.split():
        tokens.extend(_spacy_chunk(chunk))
    return tokens


TOKENIZER_FUNCTIONS: dict[str, Callable[[str], list[str]]] = {"spacy": spacy_tokenize, "regex": regex_tokenize}


def word_ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """Tokens then space-joined n-grams, in the same order as scikit-learn's word analyzer."""
    min_n, max_n = ngram_range
    grams = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """Char n-grams of one space-padded word, as scikit-learn's "char_wb" analyzer makes them."""
    padded = f" {word} "
    grams: list[str] = []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        if len(padded) <= n:  # a short word counts once, as itself
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class WordAnalyzer:
    """Text -> word n-grams: preprocess, tokenize ("spacy" or "regex"), then n-grams."""

    def __init__(self, *, lowercase: bool, normalize_numbers: bool, tokenizer: str, ngram_range: tuple[int, int]):
        self.preprocess = Preprocessor(lowercase=lowercase, normalize_numbers=normalize_numbers)
        self.tokenizer = tokenizer
        self.ngram_range = ngram_range

    def __call__(self, text: str) -> list[str]:
        return word_ngrams(TOKENIZER_FUNCTIONS[self.tokenizer](self.preprocess(text)), self.ngram_range)
