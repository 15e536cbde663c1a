"""CoNLL IOB: one token a line, `token<TAB>B-LABEL`, `I-LABEL` or `O`, and a blank line after each document.

The two-column layout `spacy convert --converter ner` and most sequence-labeling readers take (a
`seqeval`-style IOB2: every entity starts with B-). No `-DOCSTART-` line: a document is one title, so the
blank line already separates documents, and readers that treat `-DOCSTART-` as a token would learn it. The
documents follow the rows' order; nothing names them, so a file is matched to its products by position (the
JSONL or Prodigy export carries the ids). Whitespace tokens (spaCy's token for a run of spaces) get no line,
since a line cannot hold them. Rows without spans (not annotated) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from .common import Row
from .span_rows import SpanDoc, span_docs

EXTENSION = "conll"


def iob_lines(item: SpanDoc) -> list[str]:
    tags = ["O"] * len(item.tokens)
    for span in item.spans:
        tags[span["token_start"]] = f"B-{span['label']}"
        for i in range(span["token_start"] + 1, span["token_end"] + 1):
            tags[i] = f"I-{span['label']}"
    lines = []
    for token, tag in zip(item.tokens, tags, strict=True):
        text = token["text"]
        if text.isspace():
            continue
        if any(character.isspace() for character in text + tag):
            # A label is free text: one with a space or tab would add a column.
            raise ValueError(f"{item.name}: {text!r} tagged {tag!r} holds whitespace, which CoNLL cannot hold.")
        lines.append(f"{text}\t{tag}\n")
    return lines


def write_conll(rows: Iterable[Row], out: BinaryIO) -> int:
    """Write the annotated rows as UTF-8 lines ending in "\\n"; returns the documents written."""
    count = 0
    for item in span_docs(rows):
        out.write(("".join(iob_lines(item)) + "\n").encode())
        count += 1
    return count
