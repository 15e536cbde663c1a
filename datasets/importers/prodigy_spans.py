"""Prodigy span annotations (`prodigy db-out` of a `ner_manual` or `spans.manual` dataset): marked texts.

One example a line (a JSON array of examples also reads): `text`, `spans` [{start, end, label} in characters,
with token_start / token_end inclusive], optional `tokens`, the `answer`, and who answered
(`_annotator_id`, else `_session_id`). The product is named by `meta.external_id`, `meta.id`, `id` or
`_input_hash`, as in `prodigy`.

As Prodigy's own training does for manual annotations, only accepted examples are answers: a reject
(the text should not be annotated) and an ignore (skipped) are left out, counted in `SpanFile.skipped`, and
neither is an error. Row errors: no text, no or an unknown answer, a binary `ner` answer (ner.teach: one span
judged, the others unknown, so not a marked text), a span outside the text, with end <= start, without a
label, overlapping another, or off the example's tokens; tokens that do not spell the text; the same product
answered twice by one annotator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, BinaryIO

from .files import ImportFormatError, RowError, check_depth, check_head, detect_format, open_text, read_head
from .judgments import FIELD_LIMITS as JUDGMENT_LIMITS
from .lines import LineCount
from .products import FIELD_LIMITS as PRODUCT_LIMITS
from .records import open_json
from .values import clean_text, quote

ANSWERS = ("accept", "reject", "ignore")
BINARY_VIEW = "ner"  # ner.teach / ner.correct's binary view: accept or reject one suggested span
LIMITS = {"external_id": PRODUCT_LIMITS["external_id"], "annotator": JUDGMENT_LIMITS["annotator"], "label": 100}


@dataclass(frozen=True, slots=True)
class ImportedSpan:
    start: int
    end: int
    label: str
    token_start: int | None = None  # inclusive, as Prodigy writes them; None when the example has no tokens
    token_end: int | None = None


@dataclass(frozen=True, slots=True)
class SpanRow:
    """One accepted example: a product's text as marked by one annotator ("" when the file names none)."""

    line: int
    external_id: str
    text: str
    spans: tuple[ImportedSpan, ...]  # sorted by start, none overlapping
    annotator: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SpanFile:
    """An opened Prodigy file: its rows (SpanRow or RowError) and, as they are read, the answers left out."""

    rows: Iterator[SpanRow | RowError]
    skipped: dict[str, int]  # "reject" and "ignore": examples read and left out, not errors


def parse_prodigy_spans(stream: BinaryIO, *, filename: str = "", counts: LineCount | None = None) -> SpanFile:
    """Open a Prodigy span export; a file that is not JSON (or JSON Lines) raises ImportFormatError here.

    A skipped answer counts as a line read and skipped in `counts`, like a blank line.
    """
    head = read_head(stream)
    check_depth(check_head(head, "Prodigy JSONL"))
    fmt = detect_format(head, filename)
    if fmt == "csv":
        raise ImportFormatError("This file is not JSON; expected Prodigy JSONL (prodigy db-out: one example a line).")
    counts = LineCount() if counts is None else counts
    text, encoding = open_text(stream)
    try:
        _, _, records = open_json(text, fmt, encoding, 1, counts)
    except BaseException:
        text.close()
        raise
    skipped = {"reject": 0, "ignore": 0}
    return SpanFile(rows=_rows(text, records, counts, skipped, "item" if fmt == "json" else "line"), skipped=skipped)


def _rows(
    text: Any, records: Iterator, counts: LineCount, skipped: dict[str, int], unit: str
) -> Iterator[SpanRow | RowError]:
    seen: dict[tuple[str, str], int] = {}  # the one structure that grows with the file
    try:
        for item in records:
            if item.__class__ is RowError:
                yield item
                continue
            line, example, bad = item
            row = _row(line, example, bad)
            if isinstance(row, str):
                skipped[row] += 1
                counts.skipped += 1
                continue
            if isinstance(row, SpanRow):
                first = seen.setdefault((row.external_id, row.annotator), line)
                if first != line:
                    who = f" by {quote(row.annotator)}" if row.annotator else ""
                    row = RowError(line, f"{quote(row.external_id)} answered again{who} (first on {unit} {first})",
                                   row.external_id)
            yield row
    finally:
        text.close()


def _row(line: int, example: dict[str, Any], bad: str) -> SpanRow | RowError | str:
    """The row, its RowError, or the answer ("reject" or "ignore") it was left out for."""
    problems = [bad] if bad else []
    meta = example.get("meta")
    if meta is None:
        meta = {}
    elif not isinstance(meta, dict):
        problems.append("meta must be an object")
        meta = {}
    external_id = _external_id(example, meta)
    # Before the answer: a binary dataset's rejects are no more a marked text than its accepts.
    if example.get("_view_id") == BINARY_VIEW:
        problems.append("a binary ner answer (one suggested span accepted or rejected), not a marked text")
    answer = example.get("answer")
    if answer not in ANSWERS:
        shown = "no answer" if answer is None else f"unknown answer {quote(str(answer))}"
        problems.append(f"{shown} (expected accept, reject or ignore)")
    elif answer != "accept" and not problems:
        return answer
    text = example.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("no text")
        text = ""
    if not external_id:
        problems.append("no external id: needs meta.external_id, meta.id, id or _input_hash")
    annotator = _text(example.get("_annotator_id")) or _text(example.get("_session_id"))
    for name, value in (("external_id", external_id), ("annotator", annotator)):
        if len(value) > LIMITS[name]:
            problems.append(f"{name} longer than {LIMITS[name]} characters")
    spans = _spans(example, text, problems) if text else ()
    if problems:
        return RowError(line, "; ".join(problems), clean_text(external_id[: LIMITS["external_id"]]))
    return SpanRow(line, external_id, text, spans, annotator, meta)


def _external_id(example: dict[str, Any], meta: dict[str, Any]) -> str:
    for value in (meta.get("external_id"), meta.get("id"), example.get("id"), example.get("_input_hash")):
        if _text(value):
            return _text(value)
    return ""


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return clean_text(value if isinstance(value, str) else str(value)).strip()


def _spans(example: dict[str, Any], text: str, problems: list[str]) -> tuple[ImportedSpan, ...]:
    raw = example.get("spans")
    if raw is None:
        return ()  # accepted with nothing marked: a text without attributes
    if not isinstance(raw, list):
        problems.append("spans must be a list")
        return ()
    tokens = _tokens(example.get("tokens"), text, problems)
    spans = []
    for i, span in enumerate(raw):
        checked = _span(i, span, text, tokens, problems)
        if checked is not None:
            spans.append(checked)
    spans.sort(key=lambda span: (span.start, span.end))
    for before, after in pairwise(spans):
        if after.start < before.end:
            problems.append(f"spans {before.start}-{before.end} and {after.start}-{after.end} overlap")
    return tuple(spans)


def _span(
    i: int, span: Any, text: str, tokens: tuple[dict[int, int], dict[int, int]] | None, problems: list[str]
) -> ImportedSpan | None:
    if not isinstance(span, dict):
        problems.append(f"span {i} is not an object")
        return None
    start, end, label = span.get("start"), span.get("end"), _text(span.get("label"))
    if not (_is_int(start) and _is_int(end)):
        problems.append(f"span {i} needs whole-number start and end")
    elif end <= start:
        problems.append(f"span {i} ends at {end}, not after its start {start}")
    elif start < 0 or end > len(text):
        problems.append(f"span {i} ({start}-{end}) is outside the text's {len(text)} characters")
    elif not label:
        problems.append(f"span {start}-{end} has no label")
    elif len(label) > LIMITS["label"]:
        problems.append(f"span {start}-{end}: label longer than {LIMITS['label']} characters")
    elif tokens is None:
        return ImportedSpan(start, end, label, *_given_token_range(span, start, end, problems))
    elif start not in tokens[0] or end not in tokens[1]:
        problems.append(f"span {start}-{end} ({quote(text[start:end])}) does not start and end on the tokens")
    else:
        token_start, token_end = tokens[0][start], tokens[1][end]
        if (span.get("token_start"), span.get("token_end")) not in ((None, None), (token_start, token_end)):
            problems.append(
                f"span {start}-{end} gives tokens {span.get('token_start')}-{span.get('token_end')}; "
                f"its characters are tokens {token_start}-{token_end}"
            )
        return ImportedSpan(start, end, label, token_start, token_end)
    return None


def _given_token_range(span: dict[str, Any], start: int, end: int, problems: list[str]) -> tuple[int | None, ...]:
    token_start, token_end = span.get("token_start"), span.get("token_end")
    if token_start is None and token_end is None:
        return None, None
    if not (_is_int(token_start) and _is_int(token_end) and 0 <= token_start <= token_end):
        problems.append(f"span {start}-{end} has token_start {token_start!r} and token_end {token_end!r}")
    return token_start, token_end


def _tokens(raw: Any, text: str, problems: list[str]) -> tuple[dict[int, int], dict[int, int]] | None:
    """(token start -> index, token end -> index) of the example's tokens, None when it has none or they do
    not spell the text (a problem then)."""
    if raw is None:
        return None
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    at = 0
    for i, token in enumerate(raw if isinstance(raw, list) else [None]):
        start, end = (token.get("start"), token.get("end")) if isinstance(token, dict) else (None, None)
        if not (_is_int(start) and _is_int(end) and at <= start < end <= len(text)):
            problems.append(f"token {i} has no start and end in the text after the token before it")
            return None
        if token.get("text", text[start:end]) != text[start:end]:
            problems.append(f"token {i} reads {quote(str(token['text']))} but the text holds {quote(text[start:end])}")
            return None
        starts[start], ends[end] = i, i
        at = end
    return starts, ends


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
