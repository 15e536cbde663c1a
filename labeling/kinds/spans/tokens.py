"""The text of a product to mark, its tokens, and spans on them (issue 14). Pure.

A span is marked in characters of the text and kept on tokens: (token_start, token_end, label), token_end
inclusive, as Prodigy writes it. The tokens are spaCy's blank English tokenizer's, so a Doc made from them
(`Doc(vocab, words=..., spaces=...)`) has the token indices the spans refer to, and the NER model and the
`.spacy` export read the spans as they are. Whitespace is a token where spaCy makes one ("\\n" between the
title and the description, a double space); a span never starts or ends on one.
"""

from __future__ import annotations

import bisect
import functools
import html
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3

from config.errors import ApplicationError

TokenSpan = tuple[int, int, str]  # (token_start, token_end inclusive, label)


class SpanError(ApplicationError, ValueError):
    """A span that cannot be: empty, outside the text, overlapping another, of an unknown type. Its message is
    for the annotator's page as it is; a ValueError too, for callers outside the web seam."""


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    text: str
    start: int  # character offsets in the text, end exclusive
    end: int
    ws: bool  # a space follows (spaCy's whitespace_), as Prodigy writes tokens

    @property
    def is_space(self) -> bool:
        return not self.text.strip()


@functools.cache
def blank() -> Any:
    """The one blank English pipeline of the process (its tokenizer and vocab). Imported and built on first use:
    spaCy takes seconds to import and the web process, which imports this package, rarely tokenizes."""
    import spacy

    return spacy.blank("en")


def product_text(product: Mapping[str, Any], *, with_description: bool = False) -> str:
    """What an annotator marks: the title, or the title, a line break and the description as plain text. Runs
    of whitespace read as one space, so a stray tab or line break in a title is no token of its own."""
    title = " ".join(str(product.get("title") or "").split())
    if not title:
        raise SpanError("A product without a title has no text to mark.")
    description = description_text(str(product.get("description") or "")) if with_description else ""
    return f"{title}\n{description}" if description else title


def description_text(markup: str) -> str:
    """A description's words without its HTML: script and style dropped with their content, entities decoded.
    Every tag becomes a space first, so "<p>one</p><p>two</p>" reads "one two", not "onetwo"."""
    text = html.unescape(nh3.clean(markup.replace("<", " <"), tags=set()))
    return " ".join(text.split())


def doc_tokens(doc: Any) -> tuple[Token, ...]:
    """A spaCy Doc's tokens with their offsets."""
    return tuple(Token(t.i, t.text, t.idx, t.idx + len(t.text), bool(t.whitespace_)) for t in doc)


def tokenize(text: str) -> tuple[Token, ...]:
    return doc_tokens(blank().tokenizer(text))


def tokenize_many(texts: Iterable[str], *, batch_size: int = 1000) -> Iterable[Any]:
    """The texts' Docs, tokenized in batches (the tokenizer alone, never a pipeline)."""
    return blank().tokenizer.pipe(texts, batch_size=batch_size)


def tokens_text(tokens: Sequence[Token]) -> str:
    """The text the tokens came from."""
    return "".join(token.text + (" " if token.ws else "") for token in tokens)


def snap(text: str | Sequence[Token], start: int, end: int) -> tuple[int, int]:
    """The tokens a character span [start, end) touches, as (token_start, token_end inclusive): a selection
    that cuts a word takes the whole word; whitespace at its edges is left out. An empty span, one outside the
    text or one over whitespace alone is refused."""
    tokens = tokenize(text) if isinstance(text, str) else text
    _check_range(tokens, start, end)
    first = bisect.bisect_right([token.end for token in tokens], start)
    last = bisect.bisect_left([token.start for token in tokens], end) - 1
    while first <= last and tokens[first].is_space:
        first += 1
    while last >= first and tokens[last].is_space:
        last -= 1
    if first > last:
        raise SpanError(f"The span {start}-{end} covers no word; select at least one.")
    return first, last


def char_to_token(tokens: Sequence[Token], start: int, end: int) -> tuple[int, int]:
    """(token_start, token_end inclusive) of a character span that must begin and end on token edges, as an
    imported Prodigy span does: unlike `snap`, a span cutting a word is refused, not widened."""
    _check_range(tokens, start, end)
    first = bisect.bisect_left([token.start for token in tokens], start)
    last = bisect.bisect_left([token.end for token in tokens], end)
    if first == len(tokens) or tokens[first].start != start or last == len(tokens) or tokens[last].end != end:
        raise SpanError(f"The span {start}-{end} does not begin and end on token boundaries.")
    if tokens[first].is_space or tokens[last].is_space:
        raise SpanError(f"The span {start}-{end} begins or ends on whitespace.")
    return first, last


def token_to_char(tokens: Sequence[Token], token_start: int, token_end: int) -> tuple[int, int]:
    """(start, end exclusive) in characters of the tokens token_start..token_end (inclusive)."""
    if not 0 <= token_start <= token_end < len(tokens):
        raise SpanError(f"Tokens {token_start}-{token_end} are not in the text's {len(tokens)} tokens.")
    return tokens[token_start].start, tokens[token_end].end


def spans_check(spans: Iterable[Mapping[str, Any] | Sequence[Any]], tokens: Sequence[Token], *,
                labels: Collection[str]) -> list[TokenSpan]:
    """The spans as a sorted list of (token_start, token_end inclusive, label), each given as a mapping with
    "token_start", "token_end" and "label" or as such a triple. A span repeated as it is counts once; an
    unknown label, tokens outside the text, a span beginning or ending on whitespace and two spans sharing a
    token are refused, the latter with both spans named."""
    checked = set()
    for span in spans:
        first, last, label = _span_parts(span)
        if label not in labels:
            known = ", ".join(sorted(labels)) or "none"
            raise SpanError(f"Unknown span type {label!r}; this dataset's types are: {known}.")
        if not 0 <= first <= last < len(tokens):
            raise SpanError(f"Tokens {first}-{last} are not in the text's {len(tokens)} tokens.")
        if tokens[first].is_space or tokens[last].is_space:
            raise SpanError(f"The {label} span at tokens {first}-{last} begins or ends on whitespace.")
        checked.add((first, last, label))
    ordered = sorted(checked)
    for before, after in itertools.pairwise(ordered):
        if after[0] <= before[1]:
            message = f"{_quote(before, tokens)} and {_quote(after, tokens)} overlap: a word has one type at most."
            raise SpanError(message, extra={"spans": [list(before), list(after)]})
    return ordered


def _span_parts(span: Mapping[str, Any] | Sequence[Any]) -> TokenSpan:
    try:
        first, last, label = (
            (span["token_start"], span["token_end"], span["label"]) if isinstance(span, Mapping) else span
        )
    except (KeyError, TypeError, ValueError):
        raise SpanError(f"A span needs token_start, token_end and label, got {span!r}.") from None
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (first, last)):
        raise SpanError(f"A span's token_start and token_end are token numbers, got {first!r} and {last!r}.")
    return first, last, str(label)


def _check_range(tokens: Sequence[Token], start: int, end: int) -> None:
    length = tokens[-1].end + int(tokens[-1].ws) if tokens else 0
    if start >= end:
        raise SpanError(f"The span {start}-{end} is empty; select at least one character.")
    if start < 0 or end > length:
        raise SpanError(f"The span {start}-{end} is outside the text (characters 0-{length}).")


def _quote(span: TokenSpan, tokens: Sequence[Token]) -> str:
    first, last, label = span
    return f'"{tokens_text(tokens[first:last + 1]).strip()}" ({label})'
