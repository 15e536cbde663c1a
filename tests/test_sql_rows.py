"""config.sql_rows: hand-written statements, prepared once per PostgreSQL connection."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from config.sql_rows import _positional, one_row, statement_source

pytestmark = pytest.mark.django_db


def test_placeholders_become_numbered_parameters_a_repeated_name_one_of_them():
    _, text, order = _positional("SELECT %(a)s, %(b)s, %(a)s, '50%%'")
    assert (text, order) == ("SELECT $1, $2, $1, '50%'", ("a", "b"))
    _, text, order = _positional("SELECT %s + %s")
    assert (text, order) == ("SELECT $1 + $2", (0, 1))


def test_same_text_same_name_other_text_other_name():
    assert _positional("SELECT %s")[0] == _positional("SELECT %s")[0] != _positional("SELECT %s + 1")[0]


def _prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)  # it closes the connection, which a test's transaction would not allow
def test_postgresql_prepares_a_statement_once_per_connection_and_answers_as_unprepared(postgres):
    sql = "SELECT %(n)s::int + 1, %(word)s::text || %(word)s::text, %(none)s::int IS NULL"
    name = _positional(sql)[0]
    with CaptureQueriesContext(connection) as captured:
        first = one_row(sql, {"n": 1, "word": "ab", "none": None})
        second = one_row(sql, {"n": 41, "word": "c", "none": 3})
    assert (first, second) == ((2, "abab", True), (42, "cc", False))
    assert [query["sql"].split(" (")[0] for query in captured] == [f"EXECUTE {name}"] * 2  # PREPARE is not counted
    assert name in _prepared_here()
    connection.close()  # a new connection has none: the next call prepares it again
    assert one_row(sql, {"n": 2, "word": "d", "none": None}) == (3, "dd", True)
    assert name in _prepared_here()
    with override_settings(DATABASE_PREPARED_STATEMENTS=False), CaptureQueriesContext(connection) as captured:
        assert one_row(sql, {"n": 5, "word": "e", "none": None}) == (6, "ee", True)
    assert captured[0]["sql"].startswith("SELECT 5::int + 1")


def test_an_executed_prepared_statement_names_its_source():
    sql = "SELECT %s::int * 2"
    name = _positional(sql)[0]
    assert statement_source(f"EXECUTE {name} (3)") == sql
    assert statement_source("SELECT 1") == "SELECT 1"
