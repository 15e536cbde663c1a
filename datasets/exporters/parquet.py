"""Parquet: typed columns written one row group at a time, so memory holds one group, not the dataset.

`attributes` differ from product to product, so they stay one JSON string column; suggestions are a
list of structs, which pandas and pyarrow read as nested values. Bytes are deterministic for one
pyarrow version (its name is in the file footer), which is enough: a snapshot is stored, not rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, BinaryIO

from .common import PRODUCT_ROWS, Columns, Row, columns_of, dumps, peek

ROW_GROUP_ROWS = 50_000
# Each column's type by its name; other names are strings. A layout's `Columns.types` adds or overrides names.
_TYPES = {
    "price": "decimal",
    "label_id": "int",
    "gold": "bool",
    "votes": "int",
    "agreement": "float",
    "flagged": "bool",
    "suggestions": "suggestions",
}


def _arrow_type(type_name: str) -> Any:
    import pyarrow as pa

    return {
        "decimal": pa.decimal128(14, 2),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "string": pa.string(),
        "suggestions": pa.list_(
            pa.struct([("label", pa.string()), ("label_id", pa.int64()), ("probability", pa.float64())])
        ),
    }[type_name]


def _schema(names: list[str], columns: Columns) -> Any:
    import pyarrow as pa

    types = _TYPES | dict(columns.types)
    return pa.schema([(name, _arrow_type(types.get(name, "string"))) for name in names])


def _to_json(value: Any) -> str:
    return dumps(value or {})


def _to_decimal(value: Any) -> Any:
    return Decimal(str(value)) if value is not None and not isinstance(value, Decimal) else value


def _cell_converter(name: str, schema: Any, columns: Columns) -> Any:
    """How a row's value becomes the column's: JSON text for objects, a Decimal for prices, else as it is."""
    import pyarrow as pa

    if name in columns.json_objects:
        return _to_json
    if pa.types.is_decimal(schema.field(name).type):
        return _to_decimal
    return None


def write_parquet(rows: Iterable[Row], out: BinaryIO, columns: Columns = PRODUCT_ROWS) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    first, stream = peek(rows)
    names = columns_of(first, columns)
    schema = _schema(names, columns)
    count = 0
    # Column-wise buffers: building arrays from lists is far cheaper than from row dicts.
    buffers: dict[str, list[Any]] = {name: [] for name in names}
    cells = [(name, buffers[name], _cell_converter(name, schema, columns)) for name in names]

    with pq.ParquetWriter(out, schema, compression="zstd", write_statistics=True) as writer:

        def flush() -> None:
            arrays = [pa.array(buffers[name], type=schema.field(name).type) for name in names]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema), row_group_size=ROW_GROUP_ROWS)
            for values in buffers.values():
                values.clear()

        for row in stream:
            for name, buffer, convert in cells:
                value = row.get(name)
                buffer.append(convert(value) if convert is not None else value)
            count += 1
            if count % ROW_GROUP_ROWS == 0:
                flush()
        if count % ROW_GROUP_ROWS or not count:
            flush()
    return count
