"""Record streams out of CSV, JSON Lines and JSON arrays, each tagged with the line (or item) it starts on."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from typing import TextIO

import ijson

from .files import ImportFormatError, RowError
from .values import BROKEN_RE, bad_text_reason, bad_value_reason, clean_text

SNIFF_CHARS = 32 * 1024
DELIMITERS = ",;\t|"
# Well above the largest field limit, so oversized values reach the per-row length
# check instead of crashing the reader, yet bounded so an unbalanced quote cannot
# pull a whole 1 GB file into a single field.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
_MAX_PEEK = 1000

CsvRecord = tuple[int, list[str]]
JsonRecord = tuple[int, dict, str]  # (line or item number, object, bad-text reason)


def sniff_delimiter(sample: str) -> str:
    first_line = sample.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first_line.lower().startswith("sep=") and len(first_line) == 5:
        return first_line[4]  # Excel's explicit separator hint
    whole_lines = sample[: sample.rfind("\n") + 1] or sample
    try:
        delimiter = csv.Sniffer().sniff(whole_lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    # Header names rarely contain separators, so the header line settles doubtful guesses.
    if not delimiter or delimiter not in first_line:
        count, best = max((first_line.count(d), d) for d in DELIMITERS)
        delimiter = best if count else ","
    return delimiter


def iter_csv(text: TextIO, delimiter: str) -> Iterator[CsvRecord | RowError]:
    """(line where the record starts, fields) for each non-blank record."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(text, delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            if row and not (start == 1 and len(row) <= 2 and row[0].lower().startswith("sep=")):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        # The reader cannot resynchronise reliably after this, so stop rather than guess.
        yield RowError(start, f"unreadable CSV record ({exc}); the rest of the file was skipped")


def open_csv(text: TextIO, delimiter: str | None) -> tuple[str, list[str], Iterator[CsvRecord | RowError]]:
    """(delimiter, column names, the records after the header)."""
    if not delimiter:
        delimiter = sniff_delimiter(text.read(SNIFF_CHARS))
        text.seek(0)
    records = iter_csv(text, delimiter)
    for item in records:
        if isinstance(item, RowError):
            raise ImportFormatError(f"Cannot read the header row: {item.reason}.")
        return delimiter, column_names(item[1]), records
    raise ImportFormatError("The file has no header row.")


def column_names(header: list[str]) -> list[str]:
    """Stripped names (real files have ' Merchant ID'), made unique because attributes are keyed by them."""
    names: list[str] = []
    for position, raw in enumerate(header, 1):
        name = clean_text(raw.replace("\ufeff", "")).strip() or f"column {position}"
        unique, n = name, 2
        while unique in names:
            unique, n = f"{name} ({n})", n + 1
        names.append(unique)
    return names


def open_json(text: TextIO, fmt: str, encoding: str, peek: int) -> tuple[list[str], list[dict], Iterator]:
    """(keys of the first `peek` objects, those objects, every record including them)."""
    records = iter_jsonl(text, encoding) if fmt == "jsonl" else iter_json_array(text, encoding)
    buffered: list[JsonRecord | RowError] = []
    objects: list[dict] = []
    for item in records:
        buffered.append(item)
        if not isinstance(item, RowError):
            objects.append(item[1])
            if len(objects) >= peek:
                break
        elif len(buffered) >= _MAX_PEEK:  # nothing but broken lines so far: stop looking
            break
    if not buffered:
        raise ImportFormatError("The file contains no records.")
    columns = list(dict.fromkeys(clean_text(key).strip() for obj in objects for key in obj))
    return columns, objects, itertools.chain(buffered, records)


def iter_jsonl(text: TextIO, encoding: str) -> Iterator[JsonRecord | RowError]:
    for line_no, line in enumerate(text, 1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            obj = _DECODER.decode(stripped)
        except ValueError as exc:
            yield RowError(line_no, f"not valid JSON ({_first_line(exc)})")
            continue
        if not isinstance(obj, dict):
            yield RowError(line_no, "not a JSON object")
            continue
        bad = bad_text_reason(stripped, encoding)
        if not bad and "\\u" in stripped:  # escapes can smuggle in NULs and lone surrogates
            bad = bad_value_reason(obj, encoding)
        yield line_no, obj, bad


def iter_json_array(text: TextIO, encoding: str) -> Iterator[JsonRecord | RowError]:
    first = text.read(4096).lstrip("\ufeff \t\r\n")[:1]
    text.seek(0)
    if first != "[":
        what = "a single object" if first == "{" else "no array"
        raise ImportFormatError(
            f"The JSON file holds {what} at the top level; expected an array of objects "
            '[{"id": ...}, ...] or JSON Lines (one object per line).'
        )
    count = 0
    try:
        for obj in ijson.items(_Utf8Reader(text), "item", use_float=True):
            count += 1
            if isinstance(obj, dict):
                yield count, obj, bad_value_reason(obj, encoding)
            else:
                yield RowError(count, "not a JSON object")
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        if not count:
            raise ImportFormatError(f"The file is not valid JSON: {_first_line(exc)}.") from exc
        # Nothing after a syntax error can be trusted, so stop at the break.
        reason = f"invalid JSON after item {count} ({_first_line(exc)}); the rest of the file was skipped"
        yield RowError(count + 1, reason)


class _Utf8Reader:
    """Feeds ijson, which wants UTF-8 bytes, from the decoded (possibly cp1252) text stream."""

    def __init__(self, text: TextIO) -> None:
        self._text = text

    def read(self, size: int = -1) -> bytes:
        chunk = self._text.read(size)
        if not chunk.isascii():
            chunk = BROKEN_RE.sub("\U0010ffff", chunk)  # lone surrogates cannot be encoded
        return chunk.encode("utf-8")


def _reject_constant(name: str) -> None:
    # NaN/Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not allowed")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _first_line(exc: Exception) -> str:
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):  # the yajl backend reports bytes
        message = message.decode("utf-8", "replace")
    lines = str(message).strip().splitlines()
    return clean_text(lines[0]) if lines else type(exc).__name__
