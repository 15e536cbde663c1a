"""TREC qrels: one judgment a line, `query_id 0 product_id grade`, what trec_eval and ir_measures read.

The fields are separated by single spaces, so an id holding whitespace has it percent-encoded ("%20"), as
is a "%" itself: the file stays four fields a line and the id can be read back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import BinaryIO

from .common import Row

EXTENSION = "qrels"
_UNSAFE = re.compile(r"[%\s]")


def qrels_id(value: object) -> str:
    text = str(value)
    if not text:
        raise ValueError("a qrels line needs a query id and a product id")
    return _UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group(0).encode()), text)


def write_qrels(rows: Iterable[Row], out: BinaryIO) -> int:
    """Write rows with `query_id`, `product_id` and an integer `grade` as UTF-8 lines ending in "\\n" (trec_eval
    splits on whitespace; a stray "\\r" would not be); returns the lines written."""
    count = 0
    for row in rows:
        grade = row["grade"]
        if isinstance(grade, bool) or not isinstance(grade, int):
            raise ValueError(f"a qrels grade is an integer, got {grade!r}")
        out.write(f"{qrels_id(row['query_id'])} 0 {qrels_id(row['product_id'])} {grade}\n".encode())
        count += 1
    return count
