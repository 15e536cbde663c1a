"""Pure export writers (no Django): stream export rows into the formats training code loads.

A row is a plain dict: a product's (see `common.BASE_COLUMNS`, plus `attributes`, optional `annotator` and
`suggestions`), a pair's (`left_*`, `right_*`, `label`...) or a marked text's (`text`, `spans`, optional
`tokens`: see `span_rows`). The caller gives the column order of the tabular formats (`common.Columns`;
product rows by default); spacy and labelstudio read product rows, ditto pair rows, spacy_ner, prodigy,
conll and labelstudio_spans marked texts. Output is deterministic - sorted keys, fixed separators, no
timestamps - so a snapshot re-downloads byte-identical. Every format streams (Parquet one row group at a
time) except the two DocBins (see `spacy_docbin`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO

from . import conll, ditto, prodigy_spans, qrels
from . import labelstudio_spans as ls_spans
from .common import BASE_COLUMNS, PRODUCT_ROWS, Columns, Row, dumps
from .labelstudio import write_labelstudio
from .parquet import write_parquet
from .spacy_docbin import write_spacy
from .spacy_ner import write_spacy_ner
from .tabular import write_csv, write_json, write_jsonl

# The formats of product rows; ditto is for pair rows only.
FORMATS: tuple[str, ...] = ("csv", "jsonl", "json", "spacy", "parquet", "labelstudio")
EXTENSIONS: dict[str, str] = {
    "csv": "csv",
    "jsonl": "jsonl",
    "json": "json",
    "spacy": "spacy",
    "parquet": "parquet",
    "labelstudio": "labelstudio.json",
    "ditto": ditto.EXTENSION,
    "qrels": qrels.EXTENSION,
    # A matching dataset's product clusters (one row per product) in the tabular formats.
    "clusters_csv": "clusters.csv",
    "clusters_jsonl": "clusters.jsonl",
    # Span labeling (attribute extraction): the marked texts.
    "spacy_ner": "ner.spacy",
    "prodigy": prodigy_spans.EXTENSION,
    "conll": conll.EXTENSION,
    "labelstudio_spans": ls_spans.EXTENSION,
}
# Named here rather than guessed from the extension: the guess depends on the machine's mime.types.
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "json": "application/json",
    "spacy": "application/octet-stream",
    "parquet": "application/vnd.apache.parquet",
    "labelstudio": "application/json",
    "ditto": ditto.CONTENT_TYPE,
    "qrels": "text/plain; charset=utf-8",
    "clusters_csv": "text/csv; charset=utf-8",
    "clusters_jsonl": "application/jsonl; charset=utf-8",
    "spacy_ner": "application/octet-stream",
    "prodigy": "application/jsonl; charset=utf-8",
    "conll": "text/plain; charset=utf-8",
    "labelstudio_spans": "application/json",
}


def write_export(
    rows: Iterable[Row],
    out: BinaryIO,
    *,
    fmt: str,
    labels: Sequence[str] | None = None,
    columns: Columns = PRODUCT_ROWS,
) -> int:
    """Write `rows` to the binary file `out` in `fmt`; returns the number of rows written.

    `labels` (every taxonomy path) is required for spacy only; `columns` orders the columns of csv and parquet
    (JSON and JSONL write each row's keys sorted). Raises ValueError for an unknown format.
    """
    if fmt in ("csv", "clusters_csv"):
        return write_csv(rows, out, columns)
    if fmt in ("jsonl", "clusters_jsonl"):
        return write_jsonl(rows, out)
    if fmt == "json":
        return write_json(rows, out)
    if fmt == "spacy":
        return write_spacy(rows, out, labels)
    if fmt == "parquet":
        return write_parquet(rows, out, columns)
    if fmt == "labelstudio":
        return write_labelstudio(rows, out)
    if fmt == "ditto":
        return ditto.write_ditto(rows, out)
    if fmt == "qrels":
        return qrels.write_qrels(rows, out)
    if fmt == "spacy_ner":
        return write_spacy_ner(rows, out)
    if fmt == "prodigy":
        return prodigy_spans.write_prodigy_spans(rows, out)
    if fmt == "conll":
        return conll.write_conll(rows, out)
    if fmt == "labelstudio_spans":
        return ls_spans.write_labelstudio_spans(rows, out)
    raise ValueError(f"Unknown export format {fmt!r}; expected one of {', '.join(EXTENSIONS)}.")


__all__ = [
    "BASE_COLUMNS",
    "CONTENT_TYPES",
    "EXTENSIONS",
    "FORMATS",
    "PRODUCT_ROWS",
    "Columns",
    "dumps",
    "write_export",
]
