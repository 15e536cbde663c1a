"""Pure export writers (no Django): stream export rows into the formats training code loads.

A row is a plain dict (see `common.BASE_COLUMNS`, plus `attributes`, optional `annotator` and
`suggestions`). The export service reads rows with `.iterator()` and passes them here. Output is
deterministic - sorted keys, fixed separators, no timestamps - so a snapshot re-downloads
byte-identical. Every format streams (Parquet one row group at a time) except spacy (see `spacy_docbin`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO

from .common import BASE_COLUMNS, Row, dumps
from .labelstudio import write_labelstudio
from .parquet import write_parquet
from .spacy_docbin import write_spacy
from .tabular import write_csv, write_json, write_jsonl

FORMATS: tuple[str, ...] = ("csv", "jsonl", "json", "spacy", "parquet", "labelstudio")
EXTENSIONS: dict[str, str] = {
    "csv": "csv",
    "jsonl": "jsonl",
    "json": "json",
    "spacy": "spacy",
    "parquet": "parquet",
    "labelstudio": "labelstudio.json",
}
# Named here rather than guessed from the extension: the guess depends on the machine's mime.types.
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "json": "application/json",
    "spacy": "application/octet-stream",
    "parquet": "application/vnd.apache.parquet",
    "labelstudio": "application/json",
}


def write_export(rows: Iterable[Row], out: BinaryIO, *, fmt: str, labels: Sequence[str] | None = None) -> int:
    """Write `rows` to the binary file `out` in `fmt`; returns the number of rows written.

    `labels` (every taxonomy path) is required for spacy only. Raises ValueError for an unknown format.
    """
    if fmt == "csv":
        return write_csv(rows, out)
    if fmt == "jsonl":
        return write_jsonl(rows, out)
    if fmt == "json":
        return write_json(rows, out)
    if fmt == "spacy":
        return write_spacy(rows, out, labels)
    if fmt == "parquet":
        return write_parquet(rows, out)
    if fmt == "labelstudio":
        return write_labelstudio(rows, out)
    raise ValueError(f"Unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}.")


__all__ = ["BASE_COLUMNS", "CONTENT_TYPES", "EXTENSIONS", "FORMATS", "dumps", "write_export"]
