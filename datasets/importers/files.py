"""Opening uploads: format sniffing, binary refusal, encoding detection, the text stream.

Uploads can be 1 GB, so every decision here is taken from a bounded head sample.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import re
from dataclasses import dataclass
from typing import BinaryIO, TextIO

import charset_normalizer

from .values import BROKEN_RE, MAX_JSON_DEPTH, too_deep

HEAD_BYTES = 64 * 1024
ENCODING_SAMPLE_BYTES = 1024 * 1024
JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson")
_CJK_ENCODINGS = frozenset((
    "big5", "big5hkscs", "cp932", "cp949", "cp950", "euc_jis_2004", "euc_jisx0213", "euc_jp", "euc_kr",
    "gb18030", "gb2312", "gbk", "hz", "johab", "shift_jis", "shift_jis_2004", "shift_jisx0213",
))
_HIGH_BYTE_RUN_RE = re.compile(rb"[\x80-\xff]+")
# Control characters text files do not contain (tab, line breaks, form feed and the vertical tab some
# spreadsheets write inside cells are left out); random or compressed bytes are about 10% of them.
_CONTROL_RE = re.compile("[\x01-\x08\x0e-\x1f\x7f]")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (or an .xlsx workbook)"),
    (b"PK\x05\x06", "a ZIP archive (or an .xlsx workbook)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office document (such as an .xls workbook)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class ImportFormatError(Exception):
    """The whole file is refused (binary, wrong format, empty, no usable columns); str(e) is for the user."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One record refused; the rest of the file goes on. line is the item number for JSON arrays.

    line_end is the last line a broken record covered, when it ran over several (None: just `line`).
    """

    line: int
    reason: str
    external_id: str = ""
    line_end: int | None = None


def _escape_any_byte(err: UnicodeError) -> tuple[str, int]:
    # surrogateescape refuses bytes below 0x80, which broken UTF-16 code units contain.
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return "".join(chr(0xDC00 + b) for b in err.object[err.start : err.end]), err.end


codecs.register_error("importers.escape", _escape_any_byte)


class _TextStream(io.TextIOWrapper):
    """Text view that never closes the caller's binary stream (it is rewound and reused)."""

    def close(self) -> None:
        with contextlib.suppress(ValueError):  # already detached
            self.detach()


def extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > filename.replace("\\", "/").rfind("/") else ""


def read_head(stream: BinaryIO) -> bytes:
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    return head


def bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def check_head(head: bytes, accepted: str = "CSV, JSON or JSONL") -> str:
    """Refuse empty or binary files; return the head decoded (lossily) for sniffing."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            hint = " Save it as CSV and upload that instead." if "workbook" in what else ""
            raise ImportFormatError(f"This file looks like {what}, not {accepted}.{hint}")
    encoding = bom_encoding(head)
    text = head.decode(encoding or "utf-8", "replace").lstrip("\ufeff")
    if "\x00" in text:
        raise ImportFormatError(
            f"This file contains binary data (NUL bytes), not {accepted}. "
            "If it is UTF-16 text without a byte order mark, save it as UTF-8."
        )
    if not text.strip():
        raise ImportFormatError("The file is empty.")
    controls = len(_CONTROL_RE.findall(text))
    if controls > max(8, len(text) // 100):
        raise ImportFormatError(f"This file contains binary data (control characters), not {accepted}.")
    return text


def check_depth(head_text: str) -> None:
    """Refuse JSON nested past MAX_JSON_DEPTH in the head: Python's JSON reader recurses once per level,
    so such a file is turned away at upload, before a page or a worker reads it."""
    if head_text.lstrip()[:1] in ("[", "{") and too_deep(head_text):
        raise ImportFormatError(
            f"This file nests JSON arrays or objects more than {MAX_JSON_DEPTH} levels deep; "
            "product, Label Studio and Prodigy records need only a few levels."
        )


def detect_format(head: bytes, filename: str = "") -> str:
    text = check_head(head).lstrip()
    ext = extension(filename)
    check_depth(text)
    if text[0] == "[":
        return "json"
    if text[0] == "{":
        if ext in (".jsonl", ".ndjson"):
            return "jsonl"
        first, newline, rest = text.partition("\n")
        try:
            complete = isinstance(json.loads(first), dict)
        except ValueError:
            complete = False
        if complete:
            # One object alone in a .json file is a document, not JSON Lines.
            return "json" if ext == ".json" and not rest.strip() else "jsonl"
        # No newline in the head: one huge line, which is JSONL unless the name says otherwise.
        return "jsonl" if not newline and ext != ".json" else "json"
    if ext in JSON_EXTENSIONS:
        raise ImportFormatError(f"This file has a {ext} extension but does not contain JSON.")
    return "csv"


def detect_encoding(sample: bytes) -> str:
    """BOM, else UTF-8 if the sample is (nearly all) UTF-8, else charset_normalizer's guess, else utf-8."""
    bom = bom_encoding(sample)
    if bom:
        return bom
    try:
        # final=False: a multibyte character cut at the sample boundary is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    text = sample.decode("utf-8", "surrogateescape")
    escaped = len(BROKEN_RE.findall(text))
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - escaped
    # Valid UTF-8 sequences are rare by accident (a few % of CJK double-byte pairs, almost
    # never in 8-bit text), so a UTF-8 file with a few bad lines stays UTF-8 and only
    # those lines become row errors.
    if multibyte and escaped <= multibyte:
        return "utf-8"
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        return "utf-8"
    encoding = codecs.lookup(best.encoding).name
    if encoding in _CJK_ENCODINGS and _mostly_isolated_high_bytes(sample) and _decodes(sample, "cp1252"):
        # Short Latin text ("Cuisine équipée") also decodes as Big5 or Shift_JIS, but
        # there accented letters stand alone while CJK characters come in byte runs.
        return "cp1252"
    # Short samples tie between many code pages; Western exports are mostly cp1252.
    for match in matches:
        if (
            match.percent_chaos <= best.percent_chaos
            and match.percent_coherence >= best.percent_coherence
            and "cp1252" in match.could_be_from_charset
        ):
            return "cp1252"
    return encoding


def _mostly_isolated_high_bytes(sample: bytes) -> bool:
    runs = _HIGH_BYTE_RUN_RE.findall(sample)
    return sum(len(run) == 1 for run in runs) * 2 > len(runs)


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def open_text(stream: BinaryIO) -> tuple[TextIO, str]:
    """Wrap a seekable binary stream as streamed text; closing the result leaves `stream` open."""
    if not stream.seekable():
        raise ValueError("the import stream must be seekable")
    stream.seek(0)
    encoding = detect_encoding(stream.read(ENCODING_SAMPLE_BYTES))
    stream.seek(0)
    errors = "importers.escape" if encoding.startswith(("utf-16", "utf-32")) else "surrogateescape"
    return _TextStream(stream, encoding=encoding, errors=errors, newline=""), encoding  # type: ignore[arg-type]


