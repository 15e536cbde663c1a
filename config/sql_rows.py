"""Model instances read by hand-written SQL, for the few hot reads where compiling an ORM query costs more than
running it (the annotator's next and submit: a join with a correlated subquery compiles in about a millisecond
and runs in a tenth of that).

`columns` lists a model's concrete columns under a table alias, and `instances` turns one row of such lists back
into instances, each field converted as the ORM converts it (JSON, for one), so the rest of the code cannot tell.
"""

import functools
from collections.abc import Iterator, Mapping, Sequence

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import Col

BIGINT_MAX = 2**63 - 1


def is_key(value: int) -> bool:
    """Whether `value` can be a row's id: a number from the URL may be out of range, which the ORM's lookups
    answer with no row and a hand-written query with an error (SQLite: OverflowError; PostgreSQL: bigint out of
    range)."""
    return -BIGINT_MAX - 1 <= value <= BIGINT_MAX


def one_row(sql: str, params: Sequence | Mapping) -> tuple | None:
    """The first row a statement gives, or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def columns(model: type[Model], alias: str) -> str:
    """The model's concrete columns, qualified by `alias`, in field order (what `instances` reads back)."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model], vendor: str) -> list[tuple[str, Col, list]]:
    """Each concrete field's attribute name, its column and the converters the ORM applies to it on this backend:
    the backend's (SQLite's datetimes, booleans and decimals, for one) and the field's own (`from_db_value`)."""
    made = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        made.append(
            (field.attname, column, connection.ops.get_db_converters(column) + column.get_db_converters(connection))
        )
    return made


def _instance(model: type[Model], values: Iterator) -> Model:
    names, converted = [], []
    for name, column, converters in _converters(model, connection.vendor):
        value = next(values)
        for converter in converters:
            value = converter(value, column, connection)
        names.append(name)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)


def instances(row: Sequence, *models: type[Model]) -> tuple[list[Model], list]:
    """One instance of each model from the row's leading columns (as `columns` listed them, model after model),
    and the row's remaining values."""
    values = iter(row)
    made = [_instance(model, values) for model in models]
    return made, list(values)
