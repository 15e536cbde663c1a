"""Pre-annotation from a product's own data (issue 14): where its brand column or its attributes hold a value
(color "Space Grey", size "XL"), the same words in its text become a suggestion of that value's span type.
Weak supervision: an annotator accepts or mends the suggestions, and the report says per type how often a
product's value is in its title at all, which is how far the suggestions can be trusted. Pure.

Which attribute gives which type is the lead's mapping (`attribute_labels`), by default the common names
("colour" and "color" give COLOR). spaCy's PhraseMatcher finds the values on the tokens, ignoring case but not
tokenization ("1.5 L" does not match "1.5L"). A value counts only in its own product's text: one matcher holds a
batch's distinct (type, value) pairs and a match of another product's value is dropped. Where matches overlap
the longest wins, then the earliest, then the type listed first in the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any

from labeling.kinds.spans.tokens import SpanError, blank, product_text, tokenize_many

SOURCE = "structured"

# Common attribute names of product files, by the span type their values are.
DEFAULT_ATTRIBUTE_LABELS: dict[str, str] = {
    "brand": "BRAND", "manufacturer": "BRAND", "make": "BRAND",
    "model": "MODEL", "model_number": "MODEL", "model_name": "MODEL", "mpn": "MODEL",
    "color": "COLOR", "colour": "COLOR", "main_color": "COLOR",
    "size": "SIZE", "screen_size": "SIZE", "shoe_size": "SIZE", "clothing_size": "SIZE", "dimensions": "SIZE",
    "capacity": "CAPACITY", "volume": "CAPACITY", "storage": "CAPACITY",
    "material": "MATERIAL", "fabric": "MATERIAL",
    "quantity": "QUANTITY", "pack_size": "QUANTITY", "pack": "QUANTITY", "count": "QUANTITY", "units": "QUANTITY",
    "gender": "GENDER", "sex": "GENDER", "target_gender": "GENDER",
}
DEFAULT_LABELS = tuple(dict.fromkeys(DEFAULT_ATTRIBUTE_LABELS.values()))


@dataclass(frozen=True, slots=True)
class Suggestion:
    token_start: int
    token_end: int  # inclusive, as the spans
    label: str
    start: int  # character offsets in the text, end exclusive
    end: int
    attribute: str  # the product's attribute the value came from ("brand": its brand column)
    source: str = SOURCE


@dataclass
class LabelHits:
    """One span type over many products: how many had a value for it, in how many a value was in the text,
    and in how many a suggestion of it was kept (a longer overlapping match of another type can win)."""

    products: int = 0
    found: int = 0
    suggested: int = 0

    @property
    def hit_rate(self) -> float | None:
        return self.found / self.products if self.products else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hit_rate": self.hit_rate}


@dataclass(frozen=True)
class PreAnnotation:
    suggestions: list[list[Suggestion]]  # per product, in the order given, sorted by token
    report: dict[str, LabelHits]  # per span type of the mapping, in its order


def attribute_labels(labels: Sequence[str], configured: Mapping[str, str] | None = None) -> dict[str, str]:
    """Attribute name -> span type: the lead's `configured` mapping, each type one of the dataset's `labels`,
    or by default the common names whose type the dataset has (matched ignoring case, "Color" takes "COLOR").
    Names are compared as lower case with spaces and hyphens as underscores ("Pack Size" is "pack_size")."""
    if configured is None:
        spelled = {label.casefold(): label for label in labels}
        return {name: spelled[label.casefold()] for name, label in DEFAULT_ATTRIBUTE_LABELS.items()
                if label.casefold() in spelled}
    unknown = sorted({label for label in configured.values() if label not in labels})
    if unknown:
        raise SpanError(f"The attribute mapping names span types this dataset does not have: {', '.join(unknown)}.")
    return {attribute_key(name): label for name, label in configured.items()}


def attribute_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().casefold())


def product_values(product: Mapping[str, Any], mapping: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(label, attribute, value) of the product's brand column and its mapped attributes; a list value gives
    each of its items, and empty values, mappings and booleans are no value."""
    fields = [("brand", product.get("brand"))]
    fields.extend((attribute_key(str(name)), value) for name, value in (product.get("attributes") or {}).items())
    found = []
    for attribute, raw in fields:
        label = mapping.get(attribute)
        if label is None:
            continue
        for value in raw if isinstance(raw, list | tuple) else [raw]:
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                text = " ".join(str(value).split())
                if text:
                    found.append((label, attribute, text))
    return found


def preannotate(products: Iterable[Mapping[str, Any]], *, mapping: Mapping[str, str], with_description: bool = False,
                batch_size: int = 5000) -> PreAnnotation:
    """The suggestions of every product (its text as `product_text` makes it) and the per-type report.
    `mapping` is `attribute_labels`' answer. Products go through in batches of `batch_size`, each with its
    own matcher, so memory follows the batch, not the catalog."""
    priority = {label: rank for rank, label in enumerate(dict.fromkeys(mapping.values()))}
    report = {label: LabelHits() for label in priority}
    suggestions: list[list[Suggestion]] = []
    iterator = iter(products)
    while batch := list(islice(iterator, batch_size)):
        suggestions.extend(_batch(batch, mapping, priority, report, with_description))
    return PreAnnotation(suggestions=suggestions, report=report)


def _batch(products: list[Mapping[str, Any]], mapping: Mapping[str, str], priority: dict[str, int],
           report: dict[str, LabelHits], with_description: bool) -> Iterator[list[Suggestion]]:
    from spacy.matcher import PhraseMatcher

    nlp = blank()
    keys: dict[tuple[str, str], int] = {}  # (label, lower-case value) -> its key number in the matcher
    spelled: list[str] = []  # per key number: the value as first seen, tokenized as it is written
    owned = []  # per product: key number -> (label, attribute)
    for product in products:
        own: dict[int, tuple[str, str]] = {}
        for label, attribute, value in product_values(product, mapping):
            key = keys.setdefault((label, value.lower()), len(keys))
            if key == len(spelled):
                spelled.append(value)
            own.setdefault(key, (label, attribute))
        owned.append(own)
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for key, pattern in enumerate(tokenize_many(spelled)):
        matcher.add(str(key), [pattern])
    number = {nlp.vocab.strings[str(key)]: key for key in range(len(spelled))}
    texts = (product_text(product, with_description=with_description) for product in products)
    for doc, own in zip(tokenize_many(texts), owned, strict=True):
        for label in {label for label, _attribute in own.values()}:
            report[label].products += 1
        matches = [(start, end - 1, own[number[match_id]]) for match_id, start, end in matcher(doc)
                   if number[match_id] in own]
        for label in {label for _start, _end, (label, _attribute) in matches}:
            report[label].found += 1
        kept = _longest_first(matches, priority)
        for label in {suggestion[2][0] for suggestion in kept}:
            report[label].suggested += 1
        yield [Suggestion(first, last, label, doc[first].idx, doc[last].idx + len(doc[last]), attribute)
               for first, last, (label, attribute) in kept]


def _longest_first(matches: list, priority: dict[str, int]) -> list:
    """The matches that do not overlap, longest first, then earliest, then by type; in token order."""
    taken: set[int] = set()
    kept = []
    for match in sorted(matches, key=lambda m: (m[0] - m[1], m[0], priority[m[2][0]])):
        tokens = range(match[0], match[1] + 1)
        if not taken.intersection(tokens):
            taken.update(tokens)
            kept.append(match)
    return sorted(kept)
