"""Relevance judgments already made, from CSV, JSON Lines or JSON arrays: (query, product, grade) rows.

A row names its query by `query_id` (and may bring its text, `query`, which creates or renames the query),
its product by `product_id`, and its grade in a `grade` column (`esci_label` in Amazon's Shopping Queries
files, `relevance`, `label`...), as the dataset's scale spells it: the grade is read later, against that
scale, so this parser keeps it as written. An `annotator` column says who judged; without one the file is
one source. Common spellings of each column are read, as for queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from .files import RowError
from .lines import LineCount
from .mapping import columns_by_spelling
from .products import Upload, open_upload
from .queries import FIELD_LIMITS as QUERY_LIMITS
from .values import clean_text, quote

COLUMNS: dict[str, tuple[str, ...]] = {
    "query_id": ("query_id", "qid", "search_id"),
    "query": ("query", "query_text", "search_term", "keywords"),
    "product_id": ("product_id", "external_id", "docid", "doc_id", "asin", "item_id", "sku"),
    "grade": ("grade", "esci_label", "relevance", "label", "judgment", "judgement", "rel"),
    "annotator": ("annotator", "judge", "rater", "assessor", "user"),
}
FIELD_LIMITS = {"query_id": QUERY_LIMITS["external_id"], "query": QUERY_LIMITS["text"], "product_id": 255,
                "grade": 64, "annotator": 150}
REQUIRED = ("query_id", "product_id", "grade")


@dataclass(frozen=True, slots=True)
class JudgmentRow:
    line: int
    query_id: str
    product_id: str
    grade: str  # as written: the dataset's scale reads it
    query: str = ""
    annotator: str = ""


def parse_judgments(
    stream: BinaryIO,
    *,
    filename: str = "",
    fmt: str | None = None,
    delimiter: str | None = None,
    counts: LineCount | None = None,
) -> Iterator[JudgmentRow | RowError]:
    """Stream judgments; a file without a query id, product id or grade column is refused whole
    (ImportFormatError). Row errors: a missing value, an overlong one, and the same query, product and
    annotator judged twice in the file."""
    upload = open_upload(stream, filename=filename, fmt=fmt, delimiter=delimiter, counts=counts)
    try:
        fields = judgment_columns(upload.columns)
    except BaseException:
        upload.text.close()
        raise
    return _rows(upload, fields)


def judgment_columns(columns: list[str]) -> dict[str, str]:
    """field -> column of the file, each field taken from the first of its spellings the file has."""
    return columns_by_spelling(
        columns, COLUMNS, required=REQUIRED,
        hint="A judgments file has query_id, product_id and grade columns (esci_label in the Shopping Queries "
        "layout), and optionally query and annotator.",
    )


def _rows(upload: Upload, fields: dict[str, str]) -> Iterator[JudgmentRow | RowError]:
    seen: dict[tuple[str, str, str], int] = {}  # the one structure that grows with the file
    return upload.validated(fields, lambda line, values, bad: _row(line, values, bad, seen=seen, unit=upload.unit))


def _row(line: int, values: dict[str, Any], bad: str, *, seen: dict, unit: str) -> JudgmentRow | RowError:
    got = {field: clean_text(" ".join(str(values.get(field) or "").split())) for field in COLUMNS}
    problems = [bad] if bad else []
    problems += [f"missing {field}" for field in REQUIRED if not got[field]]
    problems += [f"{field} longer than {FIELD_LIMITS[field]} characters" for field in COLUMNS
                 if len(got[field]) > FIELD_LIMITS[field]]
    if problems:
        return RowError(line, "; ".join(problems), got["product_id"][: FIELD_LIMITS["product_id"]])
    key = (got["query_id"], got["product_id"], got["annotator"])
    first = seen.setdefault(key, line)
    if first != line:
        who = f" by {quote(got['annotator'])}" if got["annotator"] else ""
        return RowError(
            line,
            f"query {quote(got['query_id'])} and product {quote(got['product_id'])} judged again{who} "
            f"(first on {unit} {first})",
            got["product_id"],
        )
    return JudgmentRow(line, got["query_id"], got["product_id"], got["grade"], got["query"], got["annotator"])
