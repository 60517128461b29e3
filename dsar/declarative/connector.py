"""The connector a declaration describes: SQLAlchemy Core on the tables as reflected.

A subject's records are found by their address, compared as lower(trim(column)) in SQL, in
the category's table or through the table its rows point at; records an earlier erasure
kept (`Subject.held`) by their key. Erasure and correction find records by key, in one
transaction, and report a record already erased or corrected as "unchanged" (no change).
What an erasure does is the planner's decision; the declaration only says how each
decision is carried out in the table (`on_erase`).
"""

from __future__ import annotations

import base64
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Table,
    delete,
    false,
    func,
    or_,
    select,
    update,
)

from dsar.connector import (
    ActionNotSupported,
    Category,
    Change,
    Connector,
    Decision,
    Disposition,
    JSONValue,
    Outcome,
    Record,
    Subject,
)
from dsar.declarative.spec import CategorySpec, ConnectorSpec
from dsar.declarative.tables import children_first, declared_tables, engine_for

#: Rows fetched from the database at a time while an export streams.
BATCH = 500
#: The label the record's key is selected under, beside the exported fields.
_KEY = "dsar_record_key"
#: Dispositions under which a record is not touched.
_LEFT_ALONE = frozenset({Disposition.RETAIN, Disposition.BLOCKED})


def json_value(value: Any) -> JSONValue:
    """A column's value as JSON carries it: dates and times as ISO 8601 text, exact
    decimals as text unless whole, binary data as base64."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class DeclaredConnector(Connector):
    """A connector whose categories and tables come from a declaration file.

    `connector_class(spec)` makes a subclass per declaration; its database URL is read from
    the environment variable the declaration names, unless one is given (a scratch copy).
    """

    spec: ClassVar[ConnectorSpec]

    def __init__(self, settings: Mapping[str, Any], *, database_url: str | None = None) -> None:
        """Keeps the settings, and the URL of the database to use instead of the declared one."""
        super().__init__(settings)
        self._database_url = database_url

    def database_url(self) -> str:
        """The URL of the system's database, from the environment variable declared."""
        if self._database_url:
            return self._database_url
        variable = self.spec.database_url_env
        url = os.environ.get(variable)
        if not url:
            raise RuntimeError(
                f"{variable} is not set: the {self.name} connector ({self.spec.path}) reads "
                "its database URL from it")
        return url

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields the subject's records of each category, streamed from the database."""
        engine = engine_for(self.database_url())
        with engine.connect() as connection:
            tables = declared_tables(self.spec, connection)
            for category in self.spec.categories:
                held = subject.held.get(category.name, ())
                query = _records(category, tables, subject.email, held)
                result = connection.execute(query.execution_options(yield_per=BATCH))
                for row in result.mappings():
                    yield Record(
                        category=category.name,
                        key=str(row[_KEY]),
                        data={name: json_value(row[name]) for name in category.fields},
                    )

    def verify(self, subject: Subject) -> Iterator[Record]:
        """Reads the records again with the fields that make them the person's: those an
        erasure clears (a declared `clear`: the row stays, with facts that name no one) and
        those a correction may change. Checked against the planner's decisions, a row left
        with only its facts then counts as erased, as its declaration says it is."""
        concerned = {category.name: {*category.personal, *category.correctable}
                     for category in self.spec.categories}
        for record in self.export(subject):
            yield Record(record.category, record.key,
                         {name: value for name, value in record.data.items()
                          if name in concerned[record.category]})

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Carries out the planner's decisions in one transaction, records found by key.

        A record already deleted, or whose fields are already clear, is "unchanged".

        Raises:
            ValueError: a decision this connector cannot carry out (a category it does not
                hold, a record decided twice, a kept field its records lack); checked before
                anything is written.
        """
        wanted = self._grouped(decisions)
        engine = engine_for(self.database_url())
        done: dict[tuple[str, str], Outcome] = {}
        with engine.begin() as connection:
            tables = declared_tables(self.spec, connection)
            for category in children_first(self.spec.categories, tables):
                if wanted[category.name]:
                    for outcome in _erase(connection, category, tables[category.table],
                                          wanted[category.name]):
                        done[(outcome.category, outcome.key)] = outcome
        return [done[(decision.category, decision.key)] for decision in decisions]

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Lists, or with apply=True makes, the corrections of the declared `correctable`
        fields in the subject's records; a field that already holds the value is no change.

        Records an earlier erasure kept under a legal duty are not corrected: they are no
        longer found by the address. A correction of a field no category declares
        correctable is not this system's to make.

        Raises:
            ActionNotSupported: the declaration makes no field correctable, so the officer
                checks this system by hand.
        """
        correctable = [category for category in self.spec.categories if category.correctable]
        if not correctable:
            raise ActionNotSupported(f"{self.name} declares no correctable fields")
        engine = engine_for(self.database_url())
        changes: list[Change] = []
        # One transaction: what is listed is what is written, even with apply=False.
        with engine.begin() as connection:
            tables = declared_tables(self.spec, connection)
            for category in correctable:
                wanted = {name: corrections[name] for name in category.correctable
                          if name in corrections}
                if wanted:
                    changes += _correct(connection, category, tables, subject.email, wanted,
                                        apply=apply)
        return changes

    def _grouped(self, decisions: Sequence[Decision]) -> dict[str, list[Decision]]:
        """The decisions by category, refusing those this connector cannot carry out."""
        grouped: dict[str, list[Decision]] = {c.name: [] for c in self.spec.categories}
        seen: set[tuple[str, str]] = set()
        for decision in decisions:
            if decision.category not in grouped:
                raise ValueError(f"{self.name} holds no category {decision.category!r}")
            if (decision.category, decision.key) in seen:
                raise ValueError(f"{decision.category} {decision.key!r} is decided twice")
            seen.add((decision.category, decision.key))
            fields = self.spec.category(decision.category).fields
            unknown = sorted(set(decision.keep_fields) - set(fields))
            if unknown:
                raise ValueError(f"{decision.category} records have no fields "
                                 f"{', '.join(unknown)}")
            grouped[decision.category].append(decision)
        return grouped


def connector_class(spec: ConnectorSpec) -> type[DeclaredConnector]:
    """The connector class of a declaration, named after it (`loyalty` → LoyaltyConnector)."""
    class_name = "".join(part.capitalize() for part in spec.name.split("_")) + "Connector"
    categories: tuple[Category, ...] = tuple(category.category for category in spec.categories)
    made = type(class_name, (DeclaredConnector,), {
        "__module__": __name__,
        "__doc__": f"{spec.title}, declared in {spec.path}.",
        "name": spec.name,
        "title": spec.title,
        "categories": categories,
        "retention_rules": {category.name: category.rule for category in spec.categories},
        "spec": spec,
    })
    return cast(type[DeclaredConnector], made)


def address_matches(column: ColumnElement[Any], email: str) -> ColumnElement[bool]:
    """The column holds the address, whatever its case and the blanks around it."""
    return func.lower(func.trim(column)) == email.strip().lower()


def subject_rows(
    category: CategorySpec, tables: Mapping[str, Table], email: str
) -> ColumnElement[bool]:
    """The condition that finds the subject's rows of a category by address."""
    table = tables[category.table]
    match = category.match
    if match.through is None:
        return address_matches(table.c[match.column], email)
    assert match.on and match.references
    parent = tables[match.through]
    return table.c[match.on].in_(
        select(parent.c[match.references]).where(address_matches(parent.c[match.column], email))
    )


def key_values(table: Table, key: str, keys: Sequence[str]) -> list[Any]:
    """Record keys as the key column stores them (an integer key from its decimal text).

    Raises:
        ValueError: a key that cannot be one of this column's (never given by the export).
    """
    if not isinstance(table.c[key].type, Integer):
        return list(keys)
    if not all(re.fullmatch(r"-?[0-9]+", item) for item in keys):
        raise ValueError(f"{table.name}.{key} holds whole numbers: {list(keys)!r} are not keys")
    return [int(item) for item in keys]


def _records(
    category: CategorySpec, tables: Mapping[str, Table], email: str, held: Sequence[str]
) -> Select[Any]:
    """The query of a category's records of the subject: by address, and kept ones by key."""
    table = tables[category.table]
    key = table.c[category.key]
    by_key = key.in_(key_values(table, category.key, held)) if held else false()
    return (
        select(*(table.c[name] for name in category.fields), key.label(_KEY))
        .where(or_(subject_rows(category, tables, email), by_key))
        .order_by(key)
    )


def blank(table: Table, column: str) -> Any:
    """What a cleared column holds: NULL, or an empty text where NULL is not allowed.

    Raises:
        ValueError: the column may not be NULL and is not text, so nothing can clear it.
    """
    found = table.c[column]
    if found.nullable:
        return None
    if isinstance(found.type, String):
        return ""
    raise ValueError(f"{table.name}.{column} may not be NULL and is not text: an erasure "
                     "cannot clear it (declare on_erase = \"delete\", or leave it out)")


def _erase(
    connection: Connection, category: CategorySpec, table: Table, decisions: list[Decision]
) -> list[Outcome]:
    """Deletes and clears one category's decided rows; returns an outcome per decision."""
    key = table.c[category.key]
    rows = {
        str(row[_KEY]): row
        for row in connection.execute(
            select(*(table.c[name] for name in category.fields), key.label(_KEY))
            .where(key.in_(key_values(table, category.key, [d.key for d in decisions])))
        ).mappings()
    }
    deletes: list[Any] = []
    updates: defaultdict[tuple[tuple[str, Any], ...], list[Any]] = defaultdict(list)
    outcomes = []
    for decision in decisions:
        row = rows.get(decision.key)
        if row is None or decision.disposition in _LEFT_ALONE:
            outcomes.append(Outcome(category.name, decision.key, "unchanged"))
            continue
        erasing = decision.disposition is Disposition.ERASE
        if erasing and category.on_erase == "delete":
            deletes.append(row[_KEY])
            held = tuple(name for name in category.fields
                         if name != category.key and row[name] not in (None, ""))
            outcomes.append(Outcome(category.name, decision.key, "erased", fields=held,
                                    recipients=category.category.recipients))
            continue
        kept = () if erasing else decision.keep_fields
        cleared = tuple(name for name in category.personal
                        if name not in kept and row[name] not in (None, ""))
        if not cleared:
            outcomes.append(Outcome(category.name, decision.key, "unchanged"))
            continue
        values = tuple((name, blank(table, name)) for name in cleared)
        updates[values].append(row[_KEY])
        outcomes.append(Outcome(category.name, decision.key,
                                "erased" if erasing else "minimised", fields=cleared,
                                recipients=category.category.recipients))
    if deletes:
        connection.execute(delete(table).where(key.in_(deletes)))
    # Rows of one person mostly clear the same columns: one statement per set of columns.
    for values, keys in updates.items():
        connection.execute(update(table).where(key.in_(keys)).values(dict(values)))
    return outcomes


def _correct(
    connection: Connection,
    category: CategorySpec,
    tables: Mapping[str, Table],
    email: str,
    corrections: Mapping[str, str],
    *,
    apply: bool,
) -> list[Change]:
    """The corrections of one category's rows of the subject, written when apply is set."""
    table = tables[category.table]
    key = table.c[category.key]
    query = (
        select(*(table.c[name] for name in corrections), key.label(_KEY))
        .where(subject_rows(category, tables, email))
        .order_by(key)
    )
    changes = []
    writes: defaultdict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in connection.execute(query).mappings():
        for name, new in corrections.items():
            if row[name] == new:
                continue
            changes.append(Change(category=category.name, key=str(row[_KEY]), field=name,
                                  old=json_value(row[name]), new=new,
                                  recipients=category.category.recipients))
            writes[(name, new)].append(row[_KEY])
    if apply:
        for (name, new), keys in writes.items():
            connection.execute(update(table).where(key.in_(keys)).values({name: new}))
    return changes
