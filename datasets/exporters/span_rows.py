"""What the span writers share: a row's tokens and its spans, checked against its text.

A span row has `text`, optionally `tokens` (Prodigy's {"text", "start", "end", "id", "ws"}: the tokens the
annotator saw) and `spans` ({"start", "end", "label"} in characters, with `token_start` / `token_end`
inclusive as Prodigy writes them, both optional). `spans` None (or absent) means not annotated yet and the
writers skip the row; `[]` is an annotated text without attributes, a negative example. Without `tokens`,
spaCy's blank English tokenizer gives them: the one the labeling page tokenizes with. A span must start and
end on token boundaries and not overlap another (doc.ents cannot hold overlaps); anything else is a
ValueError naming the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import Any

from .common import Row

# Rows tokenized at a time: bounded memory, and spaCy's tokenizer.pipe is faster on batches than text by text.
CHUNK_ROWS = 1000


@dataclass(frozen=True, slots=True)
class SpanDoc:
    """One annotated row: its text, its tokens (Prodigy's dicts, whitespace tokens included) and checked spans."""

    row: Row
    name: str  # "Row 'sku-1'" (or "Row 3", its position, without an external_id): for messages
    text: str
    tokens: list[dict[str, Any]]
    spans: list[dict[str, Any]]  # sorted by start, each with start, end, token_start, token_end, label


def row_name(row: Row, position: int) -> str:
    external_id = row.get("external_id")
    return f"Row {external_id!r}" if external_id not in (None, "") else f"Row {position}"


def span_docs(rows: Iterable[Row]) -> Iterator[SpanDoc]:
    """The annotated rows (spans not None) with their tokens and checked spans, tokenizing CHUNK_ROWS at a time."""
    tokenizer = None
    position = 0
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK_ROWS)):
        annotated = [(position + i, row) for i, row in enumerate(chunk, 1) if row.get("spans") is not None]
        position += len(chunk)
        texts = [_text(row, at) for at, row in annotated]
        untokenized = [text for (_, row), text in zip(annotated, texts, strict=True) if row.get("tokens") is None]
        if untokenized and tokenizer is None:
            tokenizer = _blank_tokenizer()
        tokenized = iter(tokenizer.pipe(untokenized) if untokenized else ())
        for (at, row), text in zip(annotated, texts, strict=True):
            given = row.get("tokens")
            tokens = _given_tokens(row, at, text, given) if given is not None else _doc_tokens(next(tokenized))
            yield SpanDoc(row, row_name(row, at), text, tokens, _spans(row, at, text, tokens))


def _blank_tokenizer() -> Any:
    # Imported here so the other formats work without loading spaCy.
    import spacy

    return spacy.blank("en").tokenizer


def _text(row: Row, position: int) -> str:
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{row_name(row, position)} has no text to mark spans in.")
    return text


def _doc_tokens(doc: Any) -> list[dict[str, Any]]:
    return [
        {"text": token.text, "start": token.idx, "end": token.idx + len(token.text), "id": token.i,
         "ws": bool(token.whitespace_)}
        for token in doc
    ]


def _given_tokens(row: Row, position: int, text: str, tokens: Any) -> list[dict[str, Any]]:
    """The row's own tokens, checked to cover the text as spaCy's do: in order, with nothing or one space
    between two (more whitespace is a token of its own), so that a Doc of them spells the text again."""
    name = row_name(row, position)
    if not isinstance(tokens, list) or not tokens:
        raise ValueError(f"{name}: tokens must be a non-empty list of {{text, start, end, id, ws}}.")
    checked: list[dict[str, Any]] = []
    at = 0
    for i, token in enumerate(tokens):
        start, end = (token.get("start"), token.get("end")) if isinstance(token, dict) else (None, None)
        if not (_is_int(start) and _is_int(end) and at <= start < end <= len(text)):
            raise ValueError(f"{name}: token {i} has no valid start and end in the text (or overlaps token {i - 1}).")
        _check_gap(name, text[at:start], f"before token {i}", first=not checked)
        if checked:
            checked[-1]["ws"] = start > at  # one space after it, as _check_gap made sure
        if token.get("text", text[start:end]) != text[start:end]:
            raise ValueError(f"{name}: token {i} reads {token['text']!r} but the text holds {text[start:end]!r}.")
        checked.append({"text": text[start:end], "start": start, "end": end, "id": i, "ws": False})
        at = end
    _check_gap(name, text[at:], "after the last token", first=False)
    checked[-1]["ws"] = len(text) > at
    return checked


def _check_gap(name: str, gap: str, where: str, *, first: bool) -> None:
    if gap not in (("",) if first else ("", " ")):
        raise ValueError(f"{name}: the text {where} ({gap!r}) is in no token; spaCy makes a token of it.")


def _spans(row: Row, position: int, text: str, tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    name = row_name(row, position)
    spans = row["spans"]
    if not isinstance(spans, list):
        raise ValueError(f"{name}: spans must be a list of {{start, end, label}}.")
    starts = {token["start"]: token["id"] for token in tokens}
    ends = {token["end"]: token["id"] for token in tokens}
    checked = []
    for span in spans:
        start, end, label = (span.get("start"), span.get("end"), span.get("label")) if isinstance(span, dict) else (
            None, None, None)
        if not (_is_int(start) and _is_int(end) and 0 <= start < end <= len(text)):
            raise ValueError(f"{name}: span {span!r} needs start < end within the text's {len(text)} characters.")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{name}: span {start}-{end} has no label.")
        if start not in starts or end not in ends:
            raise ValueError(
                f"{name}: span {start}-{end} ({text[start:end]!r}) does not start and end on token boundaries."
            )
        token_start, token_end = starts[start], ends[end]
        for key, value in (("token_start", token_start), ("token_end", token_end)):
            if span.get(key) is not None and span[key] != value:
                raise ValueError(f"{name}: span {start}-{end} has {key} {span[key]!r}; its tokens give {value}.")
        checked.append({"start": start, "end": end, "token_start": token_start, "token_end": token_end,
                        "label": label})
    checked.sort(key=lambda span: (span["start"], span["end"]))
    for before, after in pairwise(checked):
        if after["start"] < before["end"]:
            raise ValueError(
                f"{name}: spans {before['start']}-{before['end']} and {after['start']}-{after['end']} overlap."
            )
    return checked


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
