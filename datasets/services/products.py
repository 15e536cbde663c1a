"""Writes imported products: upserted by external_id, a few statements per batch, never a query per row.

On PostgreSQL a batch of new products goes by one COPY straight into the table (`products_insert`), its ids
drawn from the table's sequence first so that the app that owns a kind's tasks can COPY them too. A batch with
a product the dataset holds already goes instead through a staging table and one upsert statement, a WITH
clause (`PRODUCTS_UPSERT_CTE`) that the tasks' app ends with its own INSERT: categorization gives every new
product its task in the same statement (labeling.kinds.categorization.tasks). `products_upsert` ends it with
the ids alone, for kinds whose tasks are not one per product.
"""

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction

from config.copy import copy_in, sequence_ids, text_column
from datasets.importers import ProductRow
from datasets.models import Dataset, Product
from datasets.selectors import product_ids
from datasets.services.write_lock import dataset_write_lock

UPDATE_FIELDS = ["title", "description", "brand", "price", "currency", "image_url", "url", "attributes", "updated_at"]
_STAGE_COLUMNS = (
    "external_id text, title text, description text, brand text, price numeric, currency text, "
    "image_url text, url text, attributes jsonb"
)
# A statement beginning with this upserts the staged products; it goes on with `upserted` (id, external_id, and
# inserted: xmax = 0 when the row is new, not updated) and passes the dataset's id as %(dataset)s.
PRODUCTS_UPSERT_CTE = """
WITH upserted AS (
    INSERT INTO datasets_product (
        dataset_id, external_id, title, description, brand, price, currency, image_url, url, attributes,
        created_at, updated_at
    )
    SELECT %(dataset)s, external_id, title, coalesce(description, ''), coalesce(brand, ''), price,
           coalesce(currency, ''), coalesce(image_url, ''), coalesce(url, ''), attributes, now(), now()
    FROM import_product_stage
    ON CONFLICT (dataset_id, external_id) DO UPDATE SET
        title = EXCLUDED.title, description = EXCLUDED.description, brand = EXCLUDED.brand, price = EXCLUDED.price,
        currency = EXCLUDED.currency, image_url = EXCLUDED.image_url, url = EXCLUDED.url,
        attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at
    RETURNING id, external_id, (xmax = 0) AS inserted
)
"""


@dataclass(frozen=True)
class StageExtra:
    """Columns staged beside the product's, for the statement that follows the upsert (a task's random key)."""

    columns: str  # their SQL definitions: "random_key bigint"
    values: Callable[[Sequence[ProductRow]], Iterable[tuple[Any, ...]]]  # each row's values for them, in order


_NO_EXTRA = StageExtra(columns="", values=lambda rows: ())
_STAGED = attrgetter("external_id", "title", "description", "brand", "price", "currency", "image_url", "url")
_ATTRIBUTES = attrgetter("attributes")


def products_stage(
    *, cursor: Any, dataset: Dataset, rows: Sequence[ProductRow], extra: StageExtra = _NO_EXTRA
) -> None:
    """COPY `rows` into a fresh temporary `import_product_stage`, with the caller's extra columns, then take the
    dataset's write lock until this transaction ends (`dataset_write_lock`: the upsert that follows writes alone).

    Made anew each time, not emptied: callers stage different extra columns on one connection, and the
    batches of one import may share an outer transaction (so not ON COMMIT either). External ids must be
    unique within `rows`: one statement cannot upsert the same product twice.
    """
    columns = f"{_STAGE_COLUMNS}, {extra.columns}" if extra.columns else _STAGE_COLUMNS
    # Built by C iterators end to end (attrgetter, orjson, tuple concatenation): no Python frame per row,
    # which made building this buffer cost as much as the statement that reads it.
    staged = map(tuple.__add__, map(_STAGED, rows), zip(_attributes_json(rows)))
    if extra.columns:
        staged = map(tuple.__add__, staged, extra.values(rows))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(staged)
    cursor.execute("DROP TABLE IF EXISTS pg_temp.import_product_stage")
    cursor.execute(f"CREATE TEMP TABLE import_product_stage ({columns})")
    copy_in(cursor, "COPY import_product_stage FROM STDIN WITH (FORMAT csv)", buffer.getvalue())
    dataset_write_lock(dataset)


# The id comes last: a row's line is made without it, possibly ahead of the write (`products_prepare`).
_PRODUCTS_COPY = (
    "COPY datasets_product (dataset_id, external_id, title, description, brand, price, currency, image_url, url, "
    "attributes, created_at, updated_at, id) FROM STDIN"
)
_TEXT_FIELDS = ("external_id", "title", "description", "brand", "currency", "image_url", "url")


class _PreparedRows(list):
    """Rows with each one's COPY line made ahead, but for its id (`products_prepare`)."""

    dataset_id: int
    lines: list[str]


def products_prepare(*, dataset: Dataset, rows: Sequence[ProductRow]) -> Sequence[ProductRow]:
    """`rows` with their COPY text made, which needs no database: an import makes it in its parser's thread while
    the database writes the batch before, and `products_insert` then only adds the ids. Elsewhere than on
    PostgreSQL, `rows` as they are."""
    if connection.vendor != "postgresql":
        return rows
    prepared = _PreparedRows(rows)
    prepared.dataset_id, prepared.lines = dataset.pk, _products_lines(dataset, rows)
    return prepared


def products_insert(*, cursor: Any, dataset: Dataset, rows: Sequence[ProductRow]) -> list[int] | None:
    """`rows` as new products of `dataset` by one COPY straight into the table (PostgreSQL); their ids, in the
    rows' order, or None with nothing written when the dataset holds one of them already (the caller upserts).

    Takes the dataset's write lock first (`dataset_write_lock`). COPY fills the table's pages many rows at a time
    where the upsert inserts, checks and returns row by row through a staging table: about twice as fast. A
    re-imported file's first row already conflicts, so trying costs a refused COPY of a few rows there.
    """
    dataset_write_lock(dataset)
    ids = sequence_ids(cursor, "datasets_product", len(rows))
    made = isinstance(rows, _PreparedRows) and rows.dataset_id == dataset.pk
    lines = rows.lines if made else _products_lines(dataset, rows)
    try:
        with transaction.atomic():
            copy_in(cursor, _PRODUCTS_COPY, "".join(map("%s%d\n".__mod__, zip(lines, ids, strict=True))))
    except IntegrityError:
        return None
    return ids


def _products_lines(dataset: Dataset, rows: Sequence[ProductRow]) -> list[str]:
    """Each row's COPY text line up to its id, column by column: a format per row instead of a csv writer's tuple
    per row and quoting, three times faster (35 against 110 ms for 20,000 products). 'now' is the transaction's
    start, as now() is in the upsert."""
    text = [text_column(list(map(attrgetter(name), rows))) for name in _TEXT_FIELDS]
    prices = ["\\N" if price is None else price for price in map(attrgetter("price"), rows)]
    attributes = _attributes_json(rows)
    if "\\" in "".join(attributes):  # JSON's own escapes: COPY would read them as its own
        attributes = [value.replace("\\", "\\\\") for value in attributes]
    # The values are arguments of the format, never part of its template: a % in them is only a character.
    line = f"{dataset.pk}\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tnow\tnow\t"
    return list(map(line.__mod__, zip(*text[:4], prices, *text[4:], attributes, strict=True)))


def _attributes_json(rows: Sequence[ProductRow]) -> Iterable[str]:
    try:
        return list(map(bytes.decode, map(orjson.dumps, map(_ATTRIBUTES, rows))))
    except orjson.JSONEncodeError:  # what orjson refuses (an integer past 64 bits): the standard library writes it
        return [json.dumps(row.attributes, ensure_ascii=False) for row in rows]


def products_upsert(*, dataset: Dataset, rows: Sequence[ProductRow]) -> dict[str, int]:
    """Create or update `rows` by external_id (unique within `rows`), no tasks; returns their ids by external_id."""
    if not rows:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            ids = products_insert(cursor=cursor, dataset=dataset, rows=rows)
            if ids is not None:
                return dict(zip(map(attrgetter("external_id"), rows), ids, strict=True))
            products_stage(cursor=cursor, dataset=dataset, rows=rows)
            statement = PRODUCTS_UPSERT_CTE + "SELECT external_id, id FROM upserted"  # noqa: S608 - constants only
            cursor.execute(statement, {"dataset": dataset.pk})
            return dict(cursor.fetchall())
    Product.objects.bulk_create(
        [_product(dataset, row) for row in rows],
        update_conflicts=True,
        unique_fields=["dataset", "external_id"],
        update_fields=UPDATE_FIELDS,
        batch_size=2000,
    )
    return product_ids(dataset=dataset, external_ids=[row.external_id for row in rows])


def _product(dataset: Dataset, row: ProductRow) -> Product:
    return Product(
        dataset=dataset, external_id=row.external_id, title=row.title, description=row.description, brand=row.brand,
        price=row.price, currency=row.currency, image_url=row.image_url, url=row.url, attributes=row.attributes,
    )
