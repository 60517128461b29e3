"""A scratch copy of a declared system, for the conformance kit: never the live database.

The declared tables, as reflected from the live database, are created in a temporary
SQLite file with their columns in generic types; the kit's people are then stored in them
from the declaration alone: a row per person and spelling of their address in each table,
required columns filled with plausible values by type, and for a match through another
table a row there too, which the category's row points at.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Enum,
    ForeignKey,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    Uuid,
    create_engine,
    delete,
    insert,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeEngine

from dsar.declarative.connector import DeclaredConnector, connector_class
from dsar.declarative.spec import ConnectorSpec
from dsar.declarative.tables import declared_tables, dispose_engine, engine_for

if TYPE_CHECKING:  # the kit needs pytest, which only a connector author's tests bring
    from dsar.kit import People, Person

#: What a correction of each correctable field sets, when the kit corrects.
CORRECTED = {
    "name": "Anna Corrected",
    "phone": "+31 6 11112222",
    "street": "Correctiestraat 1",
    "postal_code": "1234 AB",
    "city": "Utrecht",
    "country": "NL",
    "billing_street": "Correctiestraat 2",
    "billing_postal_code": "4321 BA",
    "billing_city": "Leiden",
    "billing_country": "BE",
}
_START = datetime(2024, 1, 15, 9, 30)


@dataclass(frozen=True)
class Scratch:
    """A seeded copy of a declared system the kit may do anything to.

    Attributes:
        url: the temporary SQLite file's URL.
        make_connector: makes the declared connector on the copy.
        seed: empties the copy and stores the kit's people in it (the kit's seed contract).
        seed_many: adds that many records of the first category for a person.
        corrections: what the kit may ask the connector to correct; None when nothing is
            correctable.
        holds_text: whether a declared field holds text the kit's markup can be put in.
    """

    url: str
    make_connector: Callable[[], DeclaredConnector]
    seed: Callable[[People], None]
    seed_many: Callable[[Person, int], None]
    corrections: dict[str, str] | None
    holds_text: bool = True


@contextmanager
def scratch_copy(spec: ConnectorSpec, live_url: str) -> Iterator[Scratch]:
    """A scratch copy of the declared tables in a temporary SQLite file, removed after.

    The live database is only read (its tables reflected), never written.
    """
    live = create_engine(live_url, hide_parameters=True)
    try:
        with live.connect() as connection:
            reflected = declared_tables(spec, connection)
    finally:
        live.dispose()
    with TemporaryDirectory(prefix="dsar-connector-check-") as folder:
        url = f"sqlite:///{Path(folder) / 'scratch.db'}"
        metadata = MetaData()
        for table in reflected.values():
            _copy(table, metadata, set(reflected))
        engine = engine_for(url)
        try:
            metadata.create_all(engine)
            cls = connector_class(spec)
            seeder = Seeder(engine, spec, metadata)
            corrections = {name: CORRECTED[name] for category in spec.categories
                           for name in category.correctable}
            yield Scratch(
                url=url,
                make_connector=lambda: cls({}, database_url=url),
                seed=seeder.seed,
                seed_many=seeder.seed_many,
                corrections=corrections or None,
                holds_text=seeder.markup_at is not None,
            )
        finally:
            dispose_engine(url)


def _copy(table: Table, metadata: MetaData, copied: set[str]) -> Table:
    """The table in generic types, with its foreign keys to the other tables copied."""
    columns = []
    for column in table.c:
        pointing = [ForeignKey(fk.target_fullname) for fk in column.foreign_keys
                    if _target_table(fk.target_fullname) in copied]
        columns.append(Column(column.name, _generic(column.type), *pointing,
                              primary_key=column.primary_key, nullable=column.nullable,
                              autoincrement=False))
    return Table(table.name, metadata, *columns)


def _target_table(target: str) -> str:
    """The table of a foreign key's target, "schema.table.column" or "table.column"."""
    return target.split(".")[-2]


def _pointed_at(table: Table) -> set[str]:
    """The tables a table's rows point at, and those these point at, and so on."""
    found: set[str] = set()
    waiting = [table]
    while waiting:
        for fk in waiting.pop().foreign_keys:
            name = _target_table(fk.target_fullname)
            if name not in found and name in table.metadata.tables:
                found.add(name)
                waiting.append(table.metadata.tables[name])
    return found


def _generic(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    """The column's type as SQLite can hold it: its generic type, else text."""
    try:
        generic = kind.as_generic()
        generic.compile(dialect=sqlite.dialect())
    except Exception:  # a type SQLite has no name for (an array, a range): text holds it
        return Text()
    return generic


class Seeder:
    """Stores the kit's people in the scratch tables, from the declaration alone."""

    def __init__(self, engine: Engine, spec: ConnectorSpec, metadata: MetaData) -> None:
        """Knows the tables, the order rows go in, and where the markup goes."""
        self.engine = engine
        self.spec = spec
        #: Parents first: a row a foreign key points at is made before the row pointing.
        self.tables = metadata.sorted_tables
        self.markup_at = _markup_field(spec, {table.name: table for table in self.tables})
        self._number = 0

    def seed(self, people: People) -> None:
        """Empties the tables and stores a row in each for each person and spelling:
        anna (with the markup in one text field of hers), bert and every look-alike."""
        self._number = 0
        with self.engine.begin() as connection:
            for table in reversed(self.tables):
                connection.execute(delete(table))
            for spelling in people.anna.stored_as:
                self._store(connection, people.anna, spelling, people.markup)
            for person in people.others():
                for spelling in person.stored_as:
                    self._store(connection, person, spelling, None)

    def seed_many(self, person: Person, count: int) -> None:
        """Adds `count` rows of the first category's table for the person (and a row of
        each table those point at)."""
        table = next(t for t in self.tables if t.name == self.spec.categories[0].table)
        with self.engine.begin() as connection:
            made = self._store(connection, person, person.stored_as[0], None,
                               only=_pointed_at(table))
            connection.execute(insert(table), [
                self._row(table, person, person.stored_as[0], None, made)
                for _ in range(count)])

    def _store(
        self, connection: Connection, person: Person, spelling: str, markup: str | None,
        only: set[str] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """One row in each table (or in those named) for the person under one spelling;
        the rows, by table."""
        made: dict[str, dict[str, Any]] = {}
        for table in self.tables:
            if only is not None and table.name not in only:
                continue
            row = self._row(table, person, spelling, markup, made)
            connection.execute(insert(table).values(row))
            made[table.name] = row
        return made

    def _row(
        self, table: Table, person: Person, spelling: str, markup: str | None,
        made: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]:
        """A row for the person: their address where the declaration looks for it, what
        points at their rows made before, plausible values elsewhere."""
        row: dict[str, Any] = {}
        for category in self.spec.categories:
            match = category.match
            if (match.through is None and category.table == table.name) or \
                    match.through == table.name:
                row[match.column] = spelling
        for column in table.c:
            for fk in column.foreign_keys:
                parent = made.get(_target_table(fk.target_fullname))
                if column.name in row:
                    continue
                if parent is not None:
                    row[column.name] = parent[fk.target_fullname.split(".")[-1]]
                elif column.nullable:  # points at a row the person has none of
                    row[column.name] = None
        for column in table.c:
            if column.name not in row:
                row[column.name] = self._plausible(column, person)
        if markup is not None and self.markup_at and self.markup_at[0] == table.name:
            row[self.markup_at[1]] = markup
        return row

    def _plausible(self, column: Column[Any], person: Person) -> Any:
        """A value a column of its type could hold; numbers differ from row to row."""
        self._number += 1
        number = self._number
        kind = column.type
        if isinstance(kind, Boolean):
            return False
        if isinstance(kind, Integer):
            return number
        if isinstance(kind, Numeric):
            return Decimal("12.50") if kind.asdecimal else 12.5
        if isinstance(kind, DateTime):
            return _START + timedelta(hours=number)
        if isinstance(kind, Date):
            return (_START + timedelta(days=number)).date()
        if isinstance(kind, Time):
            return time(9, 30)
        if isinstance(kind, Interval):
            return timedelta(days=1)
        if isinstance(kind, Uuid):
            return uuid.UUID(int=number)
        if isinstance(kind, LargeBinary):
            return b"\x00\x01"
        if isinstance(kind, JSON):
            return {}
        if isinstance(kind, Enum) and kind.enums:
            return kind.enums[0]
        value = _text_for(column.name, person, number)
        length = getattr(kind, "length", None)
        return value[:length] if length else value


def _markup_field(spec: ConnectorSpec, tables: Mapping[str, Table]) -> tuple[str, str] | None:
    """The table and text field the markup goes in: an exported field an erasure clears,
    not a key, an address or a pointer, and not one a correction changes if another will
    do; None when no category has one."""
    for category in spec.categories:
        table = tables[category.table]
        taken = {category.key, category.match.column, category.match.on}
        found = sorted(
            (name in category.correctable, name) for name in category.personal
            if name not in taken and "email" not in name
            and isinstance(table.c[name].type, String)
        )
        if found:
            return category.table, found[0][1]
    return None


def _text_for(name: str, person: Person, number: int) -> str:
    """A text for a column, after what its name says it holds."""
    lowered = name.lower()
    if "email" in lowered:
        return f"someone.else{number}@example.invalid"
    if "name" in lowered:
        return person.name
    if "country" in lowered:
        return "NL"
    return f"{name} {number}"
