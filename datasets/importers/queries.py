"""Search queries from CSV, JSON Lines or JSON arrays (a relevance dataset's queries), validated row by row.

A query has an id (`query_id`), its text (`query`), and optionally a locale (ESCI's `us`, `es`, `jp`) and a
weight (how much it counts in overall figures, such as its frequency in the search log). Common spellings
of each column are read (`qid`, `search_term`, `keywords`, `frequency`...). A file without an id column
gets ids from the queries' text, so the same query imported again is found again. Other columns are
left out, and named in `QueryFile.ignored`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from .files import RowError
from .lines import LineCount
from .mapping import columns_by_spelling
from .products import Upload, open_upload
from .values import clean_text, quote

HASH_PREFIX = "q:"
# field -> the column names read as it, after normalize_column ("Query ID" -> "query_id"), in preference order
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("query_id", "qid", "id", "search_id"),
    "text": ("query", "query_text", "search_term", "search_query", "keywords", "text", "q"),
    "locale": ("locale", "query_locale", "product_locale", "language", "lang", "market"),
    "weight": ("weight", "query_weight", "frequency", "freq", "count", "searches", "volume"),
}
FIELD_LIMITS = {"external_id": 255, "text": 1000, "locale": 16}
_SHOWN_NAMES = {"external_id": "query_id", "text": "query", "locale": "locale"}


@dataclass(frozen=True, slots=True)
class QueryRow:
    line: int
    external_id: str
    text: str
    locale: str = ""
    weight: float = 1.0


@dataclass
class QueryFile:
    """An opened queries file: its rows (QueryRow or RowError) and the columns it maps and leaves out."""

    rows: Iterator[QueryRow | RowError]
    fields: dict[str, str]  # field -> column
    ignored: list[str]


def query_hash(text: str) -> str:
    """The id of a query the file gives none: "q:" and 16 hex digits of its casefolded, whitespace-collapsed
    text, so that the same query gets the same id in every file."""
    normalized = " ".join(text.casefold().split())
    return HASH_PREFIX + hashlib.blake2b(normalized.encode(), digest_size=8).hexdigest()


def parse_queries(
    stream: BinaryIO,
    *,
    filename: str = "",
    fmt: str | None = None,
    delimiter: str | None = None,
    counts: LineCount | None = None,
) -> QueryFile:
    """Open a queries file; whole-file problems (no query column, an unreadable file) raise ImportFormatError.

    Row errors: no query text, an overlong field, a weight that is not a positive number, and a query id (or,
    without ids, a query text) already seen earlier in the file.
    """
    upload = open_upload(stream, filename=filename, fmt=fmt, delimiter=delimiter, counts=counts)
    try:
        fields = query_columns(upload.columns)
    except BaseException:
        upload.text.close()
        raise
    ignored = [column for column in upload.columns if column not in fields.values()]
    return QueryFile(rows=_rows(upload, fields), fields=fields, ignored=ignored)


def query_columns(columns: list[str]) -> dict[str, str]:
    """field -> column of the file, each field taken from the first of its spellings the file has."""
    return columns_by_spelling(
        columns, COLUMNS, required=("text",),
        hint="A queries file has a query column (the text searched) and usually a query_id; locale and weight "
        "are optional.",
    )


def _rows(upload: Upload, fields: dict[str, str]) -> Iterator[QueryRow | RowError]:
    seen: dict[str, int] = {}  # the one structure that grows with the file
    hashed = "external_id" not in fields
    return upload.validated(
        fields, lambda line, values, bad: _row(line, values, bad, seen=seen, unit=upload.unit, hashed=hashed)
    )


def _row(
    line: int, values: dict[str, Any], bad: str, *, seen: dict[str, int], unit: str, hashed: bool
) -> QueryRow | RowError:
    text = clean_text(" ".join(str(values.get("text") or "").split()))
    external_id = query_hash(text) if hashed and text else clean_text(str(values.get("external_id") or ""))
    locale = clean_text(str(values.get("locale") or "")).lower()
    problems = [bad] if bad else []
    if not external_id and not hashed:
        problems.append("missing query_id")
    if not text:
        problems.append("missing query")
    for name, value in (("external_id", external_id), ("text", text), ("locale", locale)):
        if len(value) > FIELD_LIMITS[name]:
            problems.append(f"{_SHOWN_NAMES[name]} longer than {FIELD_LIMITS[name]} characters")
    weight = _weight(values.get("weight"), problems)
    if problems:
        return RowError(line, "; ".join(problems), external_id[: FIELD_LIMITS["external_id"]])
    first = seen.setdefault(external_id, line)
    if first != line:
        what = f"query {quote(text)}" if hashed else f"query_id {quote(external_id)}"
        return RowError(line, f"duplicate {what} (first seen on {unit} {first})", external_id)
    return QueryRow(line, external_id, text, locale, weight)


def _weight(raw: Any, problems: list[str]) -> float:
    if raw is None or raw == "":
        return 1.0
    try:
        weight = float(raw)
    except (TypeError, ValueError):
        weight = math.nan
    if isinstance(raw, bool) or not math.isfinite(weight) or weight <= 0:
        problems.append(f"weight {quote(str(raw))} is not a positive number")
        return 1.0
    return weight
