"""Model instances read by hand-written SQL, for the few hot reads where compiling an ORM query costs more than
running it (the annotator's next and submit: a join with a correlated subquery compiles in about a millisecond
and runs in a tenth of that).

`columns` lists a model's concrete columns under a table alias, and `instances` turns one row of such lists back
into instances, each field converted as the ORM converts it (JSON, for one), so the rest of the code cannot tell.

On PostgreSQL `one_row` runs each statement prepared, once per connection: planning the claim took a millisecond
per next, more than running it, and a prepared statement is planned once (DATABASE_PREPARED_STATEMENTS=false turns
this off, for a pooler in transaction mode, which cannot keep a session's prepared statements).
"""

import functools
import hashlib
import re
import weakref
from collections.abc import Iterator, Mapping, Sequence

from django.conf import settings
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
        if connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS:
            name, values = _prepared(cursor, sql, params)
            cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(values))})" if values else f"EXECUTE {name}",
                           values)
        else:
            cursor.execute(sql, params)
        return cursor.fetchone()


# %% is a literal percent sign in a statement with parameters; %s and %(name)s are its parameters.
_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")
# The names of the statements each open connection has prepared (a new connection prepares them again).
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@functools.cache
def _positional(sql: str) -> tuple[str, str, tuple[str | int, ...]]:
    """The statement's name, its text with PostgreSQL's $1, $2... for the placeholders (a name used twice is one
    parameter), and which parameter each number takes: a position in a sequence, or a key of a mapping."""
    order: list[str | int] = []

    def number(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        key = match.group(1) if match.group(1) is not None else sum(isinstance(k, int) for k in order)
        if key not in order:
            order.append(key)
        return f"${order.index(key) + 1}"

    text = _PLACEHOLDER.sub(number, sql)
    name = "shelfmark_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
    _SOURCES[name] = sql
    return name, text, tuple(order)


_SOURCES: dict[str, str] = {}


def statement_source(executed: str) -> str:
    """The statement an `EXECUTE shelfmark_...` ran (as logs and captured queries show it), else `executed`."""
    if executed.startswith("EXECUTE shelfmark_"):
        return _SOURCES.get(executed.split()[1], executed)
    return executed


def _prepared(cursor, sql: str, params: Sequence | Mapping) -> tuple[str, list]:
    """The name of `sql` prepared on the cursor's connection (preparing it the first time) and its parameters in
    the prepared order."""
    name, text, order = _positional(sql)
    raw = cursor.cursor.connection
    done = _PREPARED.setdefault(raw, set())
    if name not in done:
        # Through the driver's own cursor: setting up the connection is not one of the request's statements.
        cursor.cursor.execute(f"PREPARE {name} AS {text}")
        done.add(name)
    return name, [params[key] for key in order]


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
