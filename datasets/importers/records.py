"""Record streams out of CSV, JSON Lines and JSON arrays, each tagged with the line (or item) it starts on.

Every physical line is accounted for (see lines.LineCount). A CSV record that cannot be what its writer
meant (a quoted field still open at the end of the file, or over MAX_RECORD_LINES lines, or a line or
field over MAX_LINE_CHARS, or quotes that only parse loosely across lines) becomes one RowError with the
lines it covered, and reading goes on from the line after its first: the lines it swallowed are read
again as records of their own.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from typing import TextIO

import ijson

from .files import ImportFormatError, RowError
from .lines import MAX_LINE_CHARS, LineCount, LineSource, LineTooLong, RecordTooLong
from .values import BROKEN_RE, TOO_DEEP, bad_text_reason, bad_value_reason, clean_text, too_deep

SNIFF_CHARS = 32 * 1024
DELIMITERS = ",;\t|"
# A record, and so a field, may be as long as a line: oversized values still reach the per-row length
# check with a clear reason, while a runaway quote stops after a few MB.
MAX_RECORD_CHARS = MAX_LINE_CHARS
# The longest description kept is 100,000 characters: beyond 1,000 lines its lines would average under
# 100 characters. A quoted field open for longer is a quote left unclosed, not a description.
MAX_RECORD_LINES = 1000
# ijson's C backend rescans a token's buffer on every read, so a huge string costs (size / read)²: big
# reads keep a multi-MB item to a fraction of a second.
IJSON_READ_CHARS = 1024 * 1024
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


def iter_csv(text: TextIO, delimiter: str, counts: LineCount | None = None) -> Iterator[CsvRecord | RowError]:
    """(line where the record starts, fields) for each non-blank record, or a RowError for a broken one."""
    if csv.field_size_limit() < MAX_RECORD_CHARS:
        csv.field_size_limit(MAX_RECORD_CHARS)
    counts = LineCount() if counts is None else counts
    source = LineSource(text, counts, max_record_lines=MAX_RECORD_LINES, max_record_chars=MAX_RECORD_CHARS)
    first = 1
    while True:
        # Strict, so that a quote closed early or never is an error here instead of a record that
        # silently swallows the lines after it; _broken keeps what a lenient reader accepts on one line.
        reader = csv.reader(source.lines(first), delimiter=delimiter, strict=True)
        base, start = first - 1, first
        try:
            for row in reader:
                end = base + reader.line_num
                if end != start:  # a quoted field with line breaks: rare, so checked here only
                    if end - start >= MAX_RECORD_LINES:
                        raise RecordTooLong(end, f"{MAX_RECORD_LINES:,} lines")
                    counts.skipped += end - start
                counts.read = end
                if row and not (start == 1 and len(row) <= 2 and row[0].lower().startswith("sep=")):
                    yield start, row
                else:
                    counts.skipped += 1
                start = end + 1
            return
        except (csv.Error, LineTooLong, RecordTooLong) as error:
            item = _broken(error, source, delimiter, start, base + reader.line_num)
        counts.read = start
        yield item
        first = start + 1


def _broken(
    error: Exception, source: LineSource, delimiter: str, start: int, last: int, *, lenient: bool = False
) -> CsvRecord | RowError:
    """What the record starting on line `start` is, the strict reader having failed on line `last`:
    a RowError with its line range, or the record when a lenient reader reads it on that one line."""
    if isinstance(error, LineTooLong):
        if error.line == start:
            return RowError(start, f"line longer than {MAX_LINE_CHARS:,} characters")
        why = f"it reaches line {error.line}, longer than {MAX_LINE_CHARS:,} characters"
        return _unreadable(start, error.line, why)
    if isinstance(error, RecordTooLong):
        return _unreadable(start, error.last, f"a quoted field runs over more than {error.limit}")
    message = clean_text(str(error))
    if "field limit" in message:
        return _unreadable(start, last, f"a field longer than {MAX_RECORD_CHARS:,} characters")
    if "unexpected end of data" in message:
        return _unreadable(start, last, "a quoted field is never closed: it runs to the end of the file")
    if lenient:
        return _unreadable(start, last, message)
    # A stray quote ('"12" tall', '"A" B'): a lenient reader reads it as it always has, if it ends on this line.
    loose = csv.reader(source.lines(start), delimiter=delimiter)
    try:
        row = next(loose)
    except (csv.Error, LineTooLong, RecordTooLong) as again:
        return _broken(again, source, delimiter, start, start - 1 + loose.line_num, lenient=True)
    end = start - 1 + loose.line_num
    if end == start:
        return start, row
    return _unreadable(start, end, f"its quotes do not pair up (line {last}: {message})")


def _unreadable(start: int, end: int, why: str) -> RowError:
    if end == start:
        return RowError(start, f"unreadable CSV record: {why}")
    again = f"line {end} was" if end == start + 1 else f"lines {start + 1}-{end} were"
    return RowError(start, f"unreadable CSV record (lines {start}-{end}): {why}; {again} read again", line_end=end)


def open_csv(
    text: TextIO, delimiter: str | None, counts: LineCount | None = None
) -> tuple[str, list[str], Iterator[CsvRecord | RowError]]:
    """(delimiter, column names, the records after the header)."""
    if not delimiter:
        delimiter = sniff_delimiter(text.read(SNIFF_CHARS))
        text.seek(0)
    counts = LineCount() if counts is None else counts
    records = iter_csv(text, delimiter, counts)
    for item in records:
        if isinstance(item, RowError):
            raise ImportFormatError(f"Cannot read the header row: {item.reason}.")
        counts.skipped = counts.read  # the header, and any blank lines or sep= hint above it
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


def open_json(
    text: TextIO, fmt: str, encoding: str, peek: int, counts: LineCount | None = None
) -> tuple[list[str], list[dict], Iterator]:
    """(keys of the first `peek` objects, those objects, every record including them)."""
    counts = LineCount() if counts is None else counts
    records = iter_jsonl(text, encoding, counts) if fmt == "jsonl" else iter_json_array(text, encoding, counts)
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


def iter_jsonl(text: TextIO, encoding: str, counts: LineCount | None = None) -> Iterator[JsonRecord | RowError]:
    counts = LineCount() if counts is None else counts
    source = LineSource(text, counts)
    first = 1
    while True:
        line_no = first - 1
        try:
            for line in source.lines(first):
                line_no += 1
                counts.read = line_no
                stripped = line.strip()
                if not stripped:
                    counts.skipped += 1
                    continue
                if too_deep(stripped):
                    yield RowError(line_no, TOO_DEEP)
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
            return
        except LineTooLong as error:
            counts.read = error.line
            yield RowError(error.line, f"line longer than {MAX_LINE_CHARS:,} characters")
            first = error.line + 1


def iter_json_array(text: TextIO, encoding: str, counts: LineCount | None = None) -> Iterator[JsonRecord | RowError]:
    """Items of a top-level array; counts are in items (an array has no lines to speak of)."""
    counts = LineCount() if counts is None else counts
    first = text.read(4096).lstrip("\ufeff \t\r\n")[:1]
    text.seek(0)
    if first != "[":
        what = "a single object" if first == "{" else "no array"
        raise ImportFormatError(
            f"The JSON file holds {what} at the top level; expected an array of objects "
            '[{"id": ...}, ...] or JSON Lines (one object per line).'
        )
    count = 0
    reader = _Utf8Reader(text)
    fed = 0
    try:
        for obj in ijson.items(reader, "item", use_float=True, buf_size=IJSON_READ_CHARS):
            count += 1
            counts.read = count
            # Characters read for this item (give or take one read): a huge one is refused before it is copied.
            size, fed = reader.chars - fed, reader.chars
            if size > MAX_RECORD_CHARS:
                yield RowError(count, f"longer than {MAX_RECORD_CHARS:,} characters")
            elif isinstance(obj, dict):
                bad = bad_value_reason(obj, encoding)
                # Too deep to show on the mapping page or to store: refused like a broken record.
                yield RowError(count, bad) if bad == TOO_DEEP else (count, obj, bad)
            else:
                yield RowError(count, "not a JSON object")
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        if not count:
            raise ImportFormatError(f"The file is not valid JSON: {_first_line(exc)}.") from exc
        # Nothing after a syntax error can be trusted, so stop at the break.
        counts.read = count + 1
        reason = f"invalid JSON after item {count} ({_first_line(exc)}); the rest of the file was skipped"
        yield RowError(count + 1, reason)


class _Utf8Reader:
    """Feeds ijson, which wants UTF-8 bytes, from the decoded (possibly cp1252) text stream."""

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self.chars = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._text.read(size)
        self.chars += len(chunk)
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
