"""The connection to the shop's database, and how a subject's e-mail is matched in it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Engine, RowMapping, Select, create_engine, event, func
from sqlalchemy.sql.elements import ColumnClause

#: Rows fetched from the database at a time while a long history streams.
STREAM_ROWS = 500

# Addresses are stored as the customer typed them. The shop indexes lower(email), so the
# match has to be on lower(email) to use the index; the stray blanks a typed address may
# carry (a trailing space from autocomplete, a leading one from pasting) are covered by
# listing those few variants instead of trimming the column, which no index would serve.
_BLANK_VARIANTS = ("", " ", "  ", "\t")


def email_variants(email: str) -> list[str]:
    """Returns the stored forms a normalised address may take, blanks around it included."""
    address = email.strip().lower()
    return sorted(
        {f"{lead}{address}{trail}" for lead in _BLANK_VARIANTS for trail in _BLANK_VARIANTS}
    )


def email_matches(
    column: ColumnClause[Any] | ColumnElement[Any], email: str
) -> ColumnElement[bool]:
    """A condition that matches the address in that column case-insensitively, using the index."""
    return func.lower(column).in_(email_variants(email))


def shop_database_url(settings: Mapping[str, Any]) -> str:
    """Returns the URL of the shop's database from the service's settings."""
    url = settings.get("SHOP_DATABASE_URL")
    if not url:
        raise RuntimeError("SHOP_DATABASE_URL is not set")
    return str(url)


def streamed(engine: Engine, query: Select[Any]) -> Iterator[RowMapping]:
    """A query's rows as they are taken, a few hundred fetched at a time: an export of a
    person with thousands of records costs no more memory than one with a few."""
    with engine.connect() as connection:
        yield from connection.execution_options(yield_per=STREAM_ROWS).execute(query).mappings()


@cache
def shop_engine(url: str) -> Engine:
    """Returns one engine per shop URL and process, so connections are pooled."""
    # The shop's values are personal data: keep them out of error messages and logs.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Lets several processes share the demo shop's file: wait on locks instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def shop_now() -> datetime:
    """Returns the current moment as the shop stores it: UTC without a zone, whole seconds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
