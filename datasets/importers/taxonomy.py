"""Category trees from Google taxonomy text, CSV or JSON, one row per category path."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO

from .files import ImportFormatError, RowError, check_head, extension, open_text, read_head
from .records import DELIMITERS, SNIFF_CHARS, iter_csv, sniff_delimiter
from .values import MAX_JSON_DEPTH, bad_text_reason, clean_text, normalize_column, quote, too_deep

FORMATS = ("google", "csv", "json")
MAX_DEPTH = 10
MAX_SEGMENT = 255
_ACCEPTED = "a taxonomy text, CSV or JSON file"
_EXTENSIONS = {".txt": "google", ".csv": "csv", ".tsv": "csv", ".json": "json"}
_GOOGLE_LINE_RE = re.compile(r"(\d+)\s+-\s+(.*)")
_ID_COLUMNS = ("id", "code", "category_id", "external_id")
_PATH_COLUMNS = ("path", "category_path", "full_path", "category")
_NAME_COLUMNS = ("name", "category_name", "title", "label")
_PARENT_COLUMNS = ("parent_id", "parent_code", "parent")
_SYNONYMS_COLUMN = "synonyms"  # other words for the category, separated by "|" or ";"
_SYNONYM_SEPARATOR_RE = re.compile(r"[|;]")
_HEADER_WORDS = frozenset(_ID_COLUMNS + _PATH_COLUMNS + _NAME_COLUMNS + _PARENT_COLUMNS)
_SPACED_SEPARATOR_RE = re.compile(r"\s+>\s+")

# Sources yield (line, code, raw path segments[, raw synonyms]) or a RowError; _validated does the rest.
_Entry = tuple[int, str, Iterable[Any]] | tuple[int, str, Iterable[Any], Any]


@dataclass(frozen=True, slots=True)
class TaxonomyRow:
    line: int
    code: str
    path: tuple[str, ...]
    synonyms: tuple[str, ...] = ()


def parse_taxonomy(
    stream: BinaryIO, *, filename: str = "", fmt: str | None = None
) -> Iterator[TaxonomyRow | RowError]:
    """Stream category paths; file-level problems raise ImportFormatError from this call."""
    head_text = check_head(read_head(stream), _ACCEPTED)
    fmt = fmt or _detect(head_text, filename)
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown taxonomy format '{fmt}'; choose google, csv or json.")
    text, encoding = open_text(stream)
    try:
        if fmt == "google":
            entries: Iterable[_Entry | RowError] = _google_entries(text)
        elif fmt == "csv":
            entries = _csv_entries(text)
        else:
            entries = _json_entries(text)
    except BaseException:
        text.close()
        raise
    return _validated(text, entries, encoding, "item" if fmt == "json" else "line")


def split_path(path: str) -> list[str]:
    """The levels of a category path, stripped: "A > B", "A>B" -> ["A", "B"].

    Every ">" separates levels, except in a path that holds a "<": there "<" and ">" are markup or an
    emoticon inside a name ("Tools & <Hardware>", "Kids <3 Toys"), so only " > " (with spaces around,
    as Google's taxonomy writes it) does.
    """
    parts = _SPACED_SEPARATOR_RE.split(path) if "<" in path else path.split(">")
    return [part.strip() for part in parts]


def _detect(head_text: str, filename: str) -> str:
    """The extension decides; without one, JSON by its bracket, CSV by its header or delimiters, else Google text."""
    if extension(filename) in _EXTENSIONS:
        return _EXTENSIONS[extension(filename)]
    stripped = head_text.lstrip()
    if stripped[0] in "[{":
        return "json"
    first = stripped.split("\n", 1)[0].strip()
    if first.startswith("#") or _GOOGLE_LINE_RE.fullmatch(first):
        return "google"
    delimiter = sniff_delimiter(stripped)
    if any(normalize_column(cell) in _HEADER_WORDS for cell in first.split(delimiter)):
        return "csv"
    return "csv" if any(d in first for d in DELIMITERS) else "google"


def _google_entries(text: TextIO) -> Iterator[_Entry]:
    for line_no, line in enumerate(text, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _GOOGLE_LINE_RE.fullmatch(line)
        code, path = (match[1], match[2]) if match else ("", line)
        yield line_no, code, split_path(path)


def _csv_entries(text: TextIO) -> Iterator[_Entry | RowError]:
    delimiter = sniff_delimiter(text.read(SNIFF_CHARS))
    text.seek(0)
    records = iter_csv(text, delimiter)
    first = next(records, None)
    if first is None:
        raise ImportFormatError("The file has no rows.")
    if isinstance(first, RowError):
        raise ImportFormatError(f"Cannot read the first row: {first.reason}.")
    names = [normalize_column(cell) for cell in first[1]]
    if not _HEADER_WORDS.intersection(names) or any(">" in cell for cell in first[1]):
        # Header-less: "path" or "id,path" per row; the first row is data too.
        path_at, code_at = (1, 0) if len(names) >= 2 else (0, -1)
        return _path_rows(itertools.chain([first], records), code_at, path_at)
    code_at = _find(names, _ID_COLUMNS)
    path_at = _find(names, _PATH_COLUMNS)
    name_at = _find(names, _NAME_COLUMNS)
    parent_at = _find(names, _PARENT_COLUMNS)
    synonyms_at = _find(names, (_SYNONYMS_COLUMN,))
    if path_at < 0 and parent_at >= 0 and name_at >= 0 and code_at >= 0:
        rows = (item if isinstance(item, RowError)
                else (item[0], *_cells(item[1], code_at, name_at, parent_at, synonyms_at)) for item in records)
        return _from_parents(rows)
    path_at = path_at if path_at >= 0 else name_at
    if path_at < 0:
        found = ", ".join(cell.strip() for cell in first[1])
        raise ImportFormatError(f"No path column (path, category or name): found columns {found}.")
    return _path_rows(records, code_at, path_at, synonyms_at)


def _find(names: list[str], candidates: tuple[str, ...]) -> int:
    return next((names.index(candidate) for candidate in candidates if candidate in names), -1)


def _cells(row: list[str], *positions: int) -> list[str]:
    return [row[i].strip() if 0 <= i < len(row) else "" for i in positions]


def _path_rows(records: Iterable, code_at: int, path_at: int, synonyms_at: int = -1) -> Iterator[_Entry | RowError]:
    for item in records:
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        code, path, synonyms = _cells(row, code_at, path_at, synonyms_at)
        yield line, code, split_path(path), synonyms


def _json_entries(text: TextIO) -> Iterator[_Entry | RowError]:
    # Taxonomies are small (thousands of nodes), and nested trees need whole-document context.
    document = text.read()
    if too_deep(document):
        raise ImportFormatError(f"The file nests JSON more than {MAX_JSON_DEPTH} levels deep.")
    try:
        data = json.loads(document)
    except ValueError as exc:
        raise ImportFormatError(f"The file is not valid JSON: {exc}.") from exc
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ImportFormatError("The JSON file must hold a list of categories or a category tree.")
    if any(isinstance(item, dict) and _key(item, ("parent_id", "parent")) is not None for item in items):
        rows = ((n, _text(_key(item, ("id", "code"))), _text(_key(item, ("name", "title"))),
                 _text(_key(item, ("parent_id", "parent"))), item.get(_SYNONYMS_COLUMN)) if isinstance(item, dict)
                else RowError(n, "not a category object") for n, item in enumerate(items, 1))
        return _from_parents(rows)
    return _json_nodes(items)


def _json_nodes(items: list) -> Iterator[_Entry | RowError]:
    counter = 0
    stack: list[tuple[Any, tuple[str, ...]]] = [(item, ()) for item in reversed(items)]
    while stack:  # depth-first, so item numbers follow the order a reader sees them
        node, parents = stack.pop()
        counter += 1
        if isinstance(node, str):
            yield counter, "", split_path(node)
        elif not isinstance(node, dict):
            yield RowError(counter, "not a category (expected a string or an object)")
        elif "path" in node:
            path = node["path"]
            segments = split_path(path) if isinstance(path, str) else path if isinstance(path, list) else [path]
            yield counter, _text(_key(node, ("id", "code"))), segments, node.get(_SYNONYMS_COLUMN)
        else:
            path = (*parents, _text(_key(node, ("name", "title"))))
            yield counter, _text(_key(node, ("id", "code"))), path, node.get(_SYNONYMS_COLUMN)
            children = node.get("children") or []
            if isinstance(children, list):
                stack.extend((child, path) for child in reversed(children))


def _from_parents(rows: Iterable) -> Iterator[_Entry | RowError]:
    """Turn (line, code, name, parent_code) rows into paths; parents may come later in the file."""
    rows = list(rows)
    nodes: dict[str, tuple[str, str]] = {}
    for row in rows:
        if not isinstance(row, RowError) and row[1] not in nodes:
            nodes[row[1]] = (row[2], row[3])
    for row in rows:
        if isinstance(row, RowError):
            yield row
            continue
        line, code, name, parent, *synonyms = row
        path, visited, error = [name], {code}, ""
        while parent and len(path) <= MAX_DEPTH:  # past MAX_DEPTH the depth check reports it
            if parent in visited:
                error = f"parent cycle through {quote(parent)}"
                break
            if parent not in nodes:
                own = parent == row[3]
                error = f"{'' if own else 'ancestor has '}unknown parent_id {quote(parent)}"
                break
            visited.add(parent)
            name, parent = nodes[parent]
            path.append(name)
        if error:
            yield RowError(line, error, clean_text(code))
        else:
            yield line, code, reversed(path), *synonyms


def _validated(
    text: TextIO, entries: Iterable[_Entry | RowError], encoding: str, unit: str
) -> Iterator[TaxonomyRow | RowError]:
    seen_paths: dict[tuple[str, ...], int] = {}
    seen_codes: dict[str, int] = {}
    try:
        for entry in entries:
            if isinstance(entry, RowError):
                yield entry
                continue
            line, code, segments, *raw_synonyms = entry
            path = tuple(_text(segment) for segment in segments)
            synonyms = _synonyms(raw_synonyms[0] if raw_synonyms else None)
            bad = bad_text_reason(code + "".join(path) + "".join(synonyms), encoding)
            problems = [bad] if bad else []
            if not any(path):
                problems.append("missing path")
            elif not all(path):
                problems.append("empty path segment")
            if len(path) > MAX_DEPTH:
                problems.append(f"path deeper than {MAX_DEPTH} levels")
            if any(len(segment) > MAX_SEGMENT for segment in path):
                problems.append(f"category name longer than {MAX_SEGMENT} characters")
            if len(code) > MAX_SEGMENT:
                problems.append(f"id longer than {MAX_SEGMENT} characters")
            if any(len(synonym) > MAX_SEGMENT for synonym in synonyms):
                problems.append(f"synonym longer than {MAX_SEGMENT} characters")
            if not problems and path in seen_paths:
                shown = quote(" > ".join(path))
                problems.append(f"duplicate path {shown} (first seen on {unit} {seen_paths[path]})")
            elif not problems and code in seen_codes:
                problems.append(f"duplicate id {quote(code)} (first seen on {unit} {seen_codes[code]})")
            if problems:
                yield RowError(line, "; ".join(problems), clean_text(code[:MAX_SEGMENT]))
                continue
            seen_paths[path] = line
            if code:
                seen_codes[code] = line
            yield TaxonomyRow(line, code, path, synonyms)
    finally:
        text.close()


def _synonyms(raw: Any) -> tuple[str, ...]:
    """A synonyms cell ("trainers | kicks") or JSON list, stripped, each once whatever its case."""
    values = _SYNONYM_SEPARATOR_RE.split(raw) if isinstance(raw, str) else raw if isinstance(raw, list) else []
    kept: dict[str, str] = {}
    for value in values:
        text = " ".join(_text(value).split())
        if text:
            kept.setdefault(text.casefold(), text)
    return tuple(kept.values())


def _key(obj: dict, names: tuple[str, ...]) -> Any:
    return next((obj[name] for name in names if obj.get(name) is not None), None)


def _text(value: Any) -> str:
    return "" if value is None else (value if isinstance(value, str) else str(value)).strip()
