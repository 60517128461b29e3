"""The declared connector's database: one engine per URL, and its tables as reflected.

The tables are reflected from the database itself each time a connector acts, and every
table and column the declaration names is looked up among them: a name from the file is
only ever used to pick a reflected `Table` or `Column`, which SQLAlchemy quotes itself.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event
from sqlalchemy.exc import NoSuchTableError, SAWarning

from dsar.declarative.spec import CategorySpec, ConnectorSpec

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DeclarationMismatch(RuntimeError):
    """The database does not hold what the declaration names (a table or a column)."""


def engine_for(url: str) -> Engine:
    """One engine per database URL and process, so connections are pooled."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            # The system's values are personal data: keep them out of errors and logs.
            engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Closes the pooled connections to a database no longer used (a scratch copy)."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Waits on a lock instead of failing, and keeps the file's foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


@contextmanager
def quiet_reflection() -> Iterator[None]:
    """Reflects without the warnings about indexes SQLAlchemy cannot represent (an index
    on lower(trim(email)) in SQLite, a partial index in PostgreSQL): queries need none."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"(Skipped unsupported reflection|Predicate of partial index)",
            category=SAWarning)
        yield


def reflect(connection: Connection, names: set[str] | list[str]) -> dict[str, Table]:
    """The tables of those names that the database holds, as reflected now."""
    metadata = MetaData()
    found: dict[str, Table] = {}
    with quiet_reflection():
        for name in sorted(names):
            try:
                found[name] = Table(name, metadata, autoload_with=connection,
                                    resolve_fks=False)
            except NoSuchTableError:
                continue
    return found


def mismatches(spec: ConnectorSpec, tables: Mapping[str, Table]) -> list[str]:
    """What the declaration names that the reflected tables lack, one line each."""
    problems = []
    for name, columns in sorted(spec.columns_used().items()):
        table = tables.get(name)
        if table is None:
            problems.append(f"table {name!r} does not exist")
            continue
        missing = sorted(column for column in columns if column not in table.c)
        if missing:
            problems.append(
                f"table {name!r} has no column {', '.join(map(repr, missing))} "
                f"(it has {', '.join(column.name for column in table.c)})")
    return problems


def declared_tables(spec: ConnectorSpec, connection: Connection) -> dict[str, Table]:
    """The reflected tables the declaration names.

    Raises:
        DeclarationMismatch: a table or column the declaration names is not there.
    """
    tables = reflect(connection, list(spec.columns_used()))
    problems = mismatches(spec, tables)
    if problems:
        raise DeclarationMismatch(f"{spec.path}: " + "; ".join(problems))
    return tables


def children_first(
    categories: list[CategorySpec] | tuple[CategorySpec, ...], tables: Mapping[str, Table]
) -> list[CategorySpec]:
    """The categories in the order rows can be deleted: a table whose rows point at another
    table's before that one, so no foreign key is left pointing at a deleted row."""
    points_at = {
        name: {fk.target_fullname.split(".")[-2] for fk in table.foreign_keys} - {name}
        for name, table in tables.items()
    }
    depth: dict[str, int] = {}

    def parents(name: str, seen: frozenset[str]) -> int:
        """How long the chain of tables this one points at is (a cycle counts once)."""
        if name not in depth:
            above = [parents(other, seen | {name}) for other in points_at.get(name, ())
                     if other in tables and other not in seen]
            depth[name] = 1 + max(above, default=0)
        return depth[name]

    return sorted(categories, key=lambda category: -parents(category.table, frozenset()))
