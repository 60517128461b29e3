"""Carrying out the retention planner's decisions on the shop's rows (Art. 17 GDPR).

A record is found by the key its export gave it, never by the subject's address: a record
minimised years ago no longer holds the address when its scheduled erasure comes back. The
planning here is pure (rows and decisions in, deletes, updates and outcomes out); the
connectors load the rows, add what is particular to them (an order's lines and shipments,
an account kept as a tombstone) and write the result in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, Table, delete, select, update
from sqlalchemy.engine import RowMapping

from dsar.connector import Decision, Disposition, Outcome

#: The recipient of payment data of orders and subscriptions (cplus-shop-schema.md).
PAYMENT_PROVIDER = "the payment provider"

#: Dispositions under which a record is not touched at all.
LEFT_ALONE = frozenset({Disposition.RETAIN, Disposition.BLOCKED})


def nobody(_row: RowMapping) -> tuple[str, ...]:
    """Returns no recipients: the shop gave this data to no one."""
    return ()


@dataclass(frozen=True)
class RecordShape:
    """Where one category's records are stored, and which of their fields are personal.

    Attributes:
        category: the category's name, as the export gives it.
        table: the table holding its rows; every shop table has an integer `id`.
        key: the column the export's key is taken from.
        fields: the record's fields as the export names them; keep_fields must be among them.
        personal: each personal field and the column storing it. Only these are cleared;
            the rest (dates, amounts, a status) identify no one on their own.
        blanks: for a column that may not be NULL, what clears it, computed from the row.
        recipients: who received a row's data and must hear of its erasure (Art. 19).
    """

    category: str
    table: Table
    key: str
    fields: tuple[str, ...]
    personal: Mapping[str, str]
    blanks: Mapping[str, Callable[[RowMapping], object]] = field(default_factory=dict)
    recipients: Callable[[RowMapping], tuple[str, ...]] = nobody


@dataclass
class ErasureWork:
    """What a set of decisions does to one table: rows to delete, values to set, outcomes."""

    deletes: list[int] = field(default_factory=list)
    updates: dict[int, dict[str, object]] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)


def decisions_by_category(
    shapes: Mapping[str, RecordShape], decisions: Iterable[Decision]
) -> dict[str, list[Decision]]:
    """Groups the decisions by category, refusing any this connector cannot carry out.

    Raises:
        ValueError: a category the connector does not hold, a record decided twice, or a
            kept field its records do not have. Checked before anything is written, so a
            mistaken plan changes nothing rather than half of what it meant.
    """
    grouped: dict[str, list[Decision]] = {name: [] for name in shapes}
    seen: set[tuple[str, str]] = set()
    for decision in decisions:
        shape = shapes.get(decision.category)
        if shape is None:
            raise ValueError(f"no records of category {decision.category!r} here")
        if (decision.category, decision.key) in seen:
            raise ValueError(f"{decision.category} {decision.key!r} is decided twice")
        seen.add((decision.category, decision.key))
        unknown = set(decision.keep_fields) - set(shape.fields)
        if unknown:
            raise ValueError(
                f"{decision.category} records have no fields {', '.join(sorted(unknown))}"
            )
        grouped[decision.category].append(decision)
    return grouped


def key_values(shape: RecordShape, decisions: Sequence[Decision]) -> list[object]:
    """Returns the decisions' keys as the key column stores them."""
    if not isinstance(shape.table.c[shape.key].type, Integer):
        return [decision.key for decision in decisions]
    values: list[object] = []
    for decision in decisions:
        # The export gives row ids as decimal strings; anything else was never our key.
        if not decision.key.isdigit():
            raise ValueError(f"{shape.category} key {decision.key!r} is not a row id")
        values.append(int(decision.key))
    return values


def load_rows(
    connection: Connection,
    shape: RecordShape,
    decisions: Sequence[Decision],
    also: ColumnElement[bool] | None = None,
) -> dict[str, RowMapping]:
    """Loads, in one query, the decided rows (and those `also` matches), by their key."""
    if not decisions and also is None:
        return {}
    condition: ColumnElement[bool] = shape.table.c[shape.key].in_(key_values(shape, decisions))
    if also is not None:
        condition = condition | also
    rows = connection.execute(select(shape.table).where(condition)).mappings().all()
    return {str(row[shape.key]): row for row in rows}


def blank(shape: RecordShape, column: str, row: RowMapping) -> object:
    """Returns what a cleared column holds: NULL, or the blank its NOT NULL demands."""
    make = shape.blanks.get(column)
    return make(row) if make else None


def held_fields(shape: RecordShape, row: RowMapping) -> tuple[str, ...]:
    """Returns the personal fields that hold something in the row, in the record's order."""
    return tuple(
        name
        for name in shape.fields
        if name in shape.personal and row[shape.personal[name]] not in (None, "")
    )


def cleared_values(
    shape: RecordShape, row: RowMapping, keep: Iterable[str]
) -> tuple[dict[str, object], tuple[str, ...]]:
    """Returns the column values that clear every personal field not kept, and those fields.

    Only columns that do not already hold their blank are returned, so a row cleared before
    yields nothing: that is what makes a second run report "unchanged".
    """
    kept = set(keep)
    values: dict[str, object] = {}
    changed: list[str] = []
    for name in shape.fields:
        column = shape.personal.get(name)
        if column is None or name in kept:
            continue
        value = blank(shape, column, row)
        if row[column] != value:
            values[column] = value
            changed.append(name)
    return values, tuple(changed)


def plan_erasure(
    shape: RecordShape,
    decisions: Sequence[Decision],
    rows: Mapping[str, RowMapping],
    tombstone: Callable[[RowMapping], Mapping[str, Any]] | None = None,
) -> ErasureWork:
    """Turns the decisions on one table's rows into deletes, updates and one outcome each.

    Args:
        shape: the category's storage.
        decisions: the planner's decisions for this category.
        rows: the rows found, by key; a decided key without a row was erased before.
        tombstone: for a row that other tables point at, so cannot be deleted: the values
            that mark it erased besides clearing every personal field. Without it an erased
            row is deleted.
    """
    work = ErasureWork()
    for decision in decisions:
        row = rows.get(decision.key)
        if row is None or decision.disposition in LEFT_ALONE:
            work.outcomes.append(Outcome(decision.category, decision.key, "unchanged"))
            continue
        if decision.disposition is Disposition.ERASE and tombstone is None:
            work.deletes.append(row["id"])
            work.outcomes.append(
                Outcome(
                    decision.category,
                    decision.key,
                    "erased",
                    fields=held_fields(shape, row),
                    recipients=shape.recipients(row),
                )
            )
            continue
        erasing = decision.disposition is Disposition.ERASE
        values, changed = cleared_values(shape, row, () if erasing else decision.keep_fields)
        if erasing and tombstone is not None:
            values.update(tombstone(row))
        if not values:
            work.outcomes.append(Outcome(decision.category, decision.key, "unchanged"))
            continue
        work.updates[row["id"]] = values
        work.outcomes.append(
            Outcome(
                decision.category,
                decision.key,
                "erased" if erasing else "minimised",
                fields=changed,
                recipients=shape.recipients(row),
            )
        )
    return work


def write_erasure(connection: Connection, table: Table, work: ErasureWork) -> None:
    """Writes the work: one DELETE, and one UPDATE per distinct set of values."""
    if work.deletes:
        connection.execute(delete(table).where(table.c.id.in_(work.deletes)))
    # Most minimised rows of a person clear the same columns to the same blanks; grouping
    # keeps the statements few however many records there are.
    groups: defaultdict[tuple[tuple[str, object], ...], list[int]] = defaultdict(list)
    for row_id, values in work.updates.items():
        groups[tuple(sorted(values.items()))].append(row_id)
    for values_key, ids in groups.items():
        connection.execute(update(table).where(table.c.id.in_(ids)).values(dict(values_key)))


def carry_out(
    connection: Connection,
    shape: RecordShape,
    decisions: Sequence[Decision],
    tombstone: Callable[[RowMapping], Mapping[str, Any]] | None = None,
) -> list[Outcome]:
    """Loads, plans and writes the decisions of one self-contained category."""
    rows = load_rows(connection, shape, decisions)
    work = plan_erasure(shape, decisions, rows, tombstone)
    write_erasure(connection, shape.table, work)
    return work.outcomes
