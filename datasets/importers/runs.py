"""A ranker's results, imported to join the judged pool and be scored: a TREC run or a CSV.

A TREC run has a line per result, `qid Q0 docid rank score tag` separated by white space, the tag naming
the ranker (a file may hold several). A CSV has `query_id`, `product_id` and `rank` columns (common
spellings read, as for judgments), and optionally `ranker`; without one the ranker is named by the caller.
Results are ordered by rank within each (ranker, query). A ranking is either whole or refused: a file with a
bad line is refused whole, naming its first bad lines, since a ranker scored on part of its results would
score wrongly without anyone noticing.
"""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

from .files import ImportFormatError, check_head, detect_encoding, read_head
from .mapping import columns_by_spelling

COLUMNS: dict[str, tuple[str, ...]] = {
    "query_id": ("query_id", "qid", "search_id"),
    "product_id": ("product_id", "external_id", "docid", "doc_id", "asin", "item_id", "sku"),
    "rank": ("rank", "position", "pos"),
    "ranker": ("ranker", "tag", "run", "system"),
}
REQUIRED = ("query_id", "product_id", "rank")
SHOWN_ERRORS = 5
TREC_FIELDS = 6

# ranker -> query external id -> product external ids, best first
Run = dict[str, dict[str, list[str]]]


def parse_run(stream: BinaryIO, *, ranker: str = "") -> Run:
    """The file's rankings; `ranker` names a CSV's results without a ranker column and overrides a TREC tag.
    Refused whole (ImportFormatError) for a binary or empty file, a missing column, or any bad line."""
    head = read_head(stream)
    text = check_head(head, accepted="a TREC run or CSV").lstrip()
    content = stream.read().decode(detect_encoding(head), "replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    rows = _csv_rows(content, ranker) if "," in first or ";" in first else _trec_rows(content, ranker)
    return _rankings(rows)


def _trec_rows(content: str, ranker: str) -> list[tuple[int, str, str, str, str]]:
    rows, errors = [], []
    for line, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        fields = raw.split()
        if len(fields) != TREC_FIELDS:
            errors.append(f"line {line}: {len(fields)} fields, a TREC run has 6 (qid Q0 docid rank score tag)")
            continue
        query, _, product, rank, _, tag = fields
        rows.append((line, ranker or tag, query, product, rank))
    _refuse(errors)
    return rows


def _csv_rows(content: str, ranker: str) -> list[tuple[int, str, str, str, str]]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:  # a single column, say: the header check below names what is missing
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
    header = next(reader)
    fields = columns_by_spelling(
        header, COLUMNS, required=REQUIRED,
        hint="A run as CSV has query_id, product_id and rank columns, and optionally ranker.",
    )
    position = {field: header.index(column) for field, column in fields.items()}
    if "ranker" not in position and not ranker:
        raise ImportFormatError("Name the ranker: the file has no ranker column.")
    rows, errors = [], []
    for line, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        if len(values) < len(header):
            errors.append(f"line {line}: {len(values)} values for {len(header)} columns")
            continue
        name = ranker or values[position["ranker"]].strip()
        rows.append((line, name, *(values[position[field]].strip() for field in REQUIRED)))
    _refuse(errors)
    return rows


def _rankings(rows: list[tuple[int, str, str, str, str]]) -> Run:
    ranked: dict[str, dict[str, list[tuple[int, str]]]] = {}
    errors = []
    for line, ranker, query, product, rank in rows:
        if not (ranker and query and product):
            errors.append(f"line {line}: a ranker, a query id and a product id are needed")
        elif not rank.isascii() or not rank.isdigit() or int(rank) < 1:
            errors.append(f"line {line}: the rank {rank!r} is not a whole number from 1")
        else:
            ranked.setdefault(ranker, {}).setdefault(query, []).append((int(rank), product))
    run: Run = {}
    for ranker, queries in ranked.items():
        for query, results in queries.items():
            results.sort()
            ranks = [rank for rank, _ in results]
            products = [product for _, product in results]
            if len(set(ranks)) != len(ranks) or len(set(products)) != len(products):
                errors.append(f"ranker {ranker!r}, query {query!r}: a rank or a product appears twice")
            run.setdefault(ranker, {})[query] = products
    _refuse(errors)
    if not run:
        raise ImportFormatError("The file holds no results.")
    return run


def _refuse(errors: list[str]) -> None:
    if errors:
        more = f" (and {len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
        raise ImportFormatError("The run is refused: " + "; ".join(errors[:SHOWN_ERRORS]) + more + ".")
