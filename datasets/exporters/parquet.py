"""Parquet: typed columns written one row group at a time, so memory holds one group, not the dataset.

`attributes` differ from product to product, so they stay one JSON string column; suggestions are a
list of structs, which pandas and pyarrow read as nested values. Bytes are deterministic for one
pyarrow version (its name is in the file footer), which is enough: a snapshot is stored, not rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, BinaryIO

from .common import Row, columns_of, dumps, peek

ROW_GROUP_ROWS = 50_000


def _schema(columns: list[str]) -> Any:
    import pyarrow as pa

    types = {
        "price": pa.decimal128(14, 2),
        "label_id": pa.int64(),
        "gold": pa.bool_(),
        "votes": pa.int64(),
        "agreement": pa.float64(),
        "flagged": pa.bool_(),
        "suggestions": pa.list_(
            pa.struct([("label", pa.string()), ("label_id", pa.int64()), ("probability", pa.float64())])
        ),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in columns])


def _cell(name: str, value: Any) -> Any:
    if name == "attributes":
        return dumps(value or {})
    if name == "price" and value is not None and not isinstance(value, Decimal):
        return Decimal(str(value))
    return value


def write_parquet(rows: Iterable[Row], out: BinaryIO) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    first, stream = peek(rows)
    columns = columns_of(first)
    schema = _schema(columns)
    count = 0
    # Column-wise buffers: building arrays from lists is far cheaper than from row dicts.
    buffers: dict[str, list[Any]] = {name: [] for name in columns}

    with pq.ParquetWriter(out, schema, compression="zstd", write_statistics=True) as writer:

        def flush() -> None:
            arrays = [pa.array(buffers[name], type=schema.field(name).type) for name in columns]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema), row_group_size=ROW_GROUP_ROWS)
            for values in buffers.values():
                values.clear()

        for row in stream:
            for name in columns:
                buffers[name].append(_cell(name, row.get(name)))
            count += 1
            if count % ROW_GROUP_ROWS == 0:
                flush()
        if count % ROW_GROUP_ROWS or not count:
            flush()
    return count
