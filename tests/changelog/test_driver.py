"""Statements handed to the driver keep their meaning with PostgreSQL's own placeholders."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import psycopg

from changelog.driver import native_sql


def test_each_name_becomes_one_numbered_placeholder_in_order_of_first_use() -> None:
    statement = text("SELECT :b, CAST(:a AS int), :b || 'x', 'a%b' LIKE '%%'")
    sql, names = native_sql(statement, psycopg.dialect())
    assert names == ("b", "a")
    assert sql == "SELECT $1, CAST($2 AS int), $1 || 'x', 'a%b' LIKE '%%'"


def test_double_colon_casts_stay_casts() -> None:
    sql, names = native_sql(text("SELECT CAST(:v AS text), x::int FROM t"), psycopg.dialect())
    assert (sql, names) == ("SELECT CAST($1 AS text), x::int FROM t", ("v",))
