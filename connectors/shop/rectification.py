"""Correcting the subject's current data in the shop (Art. 16), and whom to tell (Art. 19).

Only current data is corrected: an open account, an active subscription, an order not yet
shipped. Closed records under a legal duty and shipments already handed to a carrier keep
what they held. A carrier that received the old value in a shipment is named as a recipient
of the change, so the service tells it (see `CarrierCopies`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.engine import RowMapping

from dsar.connector import Change, JSONValue

from .records import row_data
from .schema import orders, shipments
from .subjects import subject_orders

#: The fields a person may have corrected, as the service names them.
CORRECTABLE = (
    "name",
    "phone",
    "street",
    "postal_code",
    "city",
    "country",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
)

#: The shipment column holding what a carrier received of each correctable field.
CARRIER_RECEIVED = {
    "name": "recipient_name",
    "phone": "recipient_phone",
    "street": "recipient_street",
    "postal_code": "recipient_postal_code",
    "city": "recipient_city",
    "country": "recipient_country",
}


#: Columns that only link the shop's rows together, never part of what a record says.
INTERNAL = ("id", "customer_id", "order_id")


def checked(corrections: Mapping[str, str]) -> dict[str, str]:
    """Returns the corrections in a fixed order, refusing fields no shop record holds."""
    unknown = set(corrections) - set(CORRECTABLE)
    if unknown:
        raise ValueError(f"cannot correct {', '.join(sorted(unknown))}")
    return {name: corrections[name] for name in CORRECTABLE if name in corrections}


def _same(held: object, value: object) -> bool:
    """Whether two typed values are the same datum, whatever their case and spacing."""
    if not isinstance(held, str) or not isinstance(value, str):
        return held == value
    return " ".join(held.split()).casefold() == " ".join(value.split()).casefold()


@dataclass(frozen=True)
class CarrierCopies:
    """What the carriers received of the subject, shipment by shipment.

    Shipments are never corrected: they record what was handed over. Instead the carriers
    that received a value being corrected are named as recipients of that change (Art. 19)
    on the change to the current record. Naming them on the current record's change, not
    on a change of the shipment, keeps rectification idempotent: once the current record
    is corrected there is no change left, so a second run tells no one again, while the
    shipments go on holding the old value for as long as the order is kept.
    """

    rows: tuple[RowMapping, ...]

    @classmethod
    def load(cls, connection: Connection, email: str, fields: Sequence[str]) -> CarrierCopies:
        """Loads the subject's shipments in one query, when a field carriers hold is corrected."""
        if not any(name in CARRIER_RECEIVED for name in fields):
            return cls(rows=())
        query = (
            select(shipments)
            .select_from(shipments.join(orders, orders.c.id == shipments.c.order_id))
            .where(subject_orders(email))
        )
        return cls(rows=tuple(connection.execute(query).mappings().all()))

    def received(self, name: str, old: JSONValue) -> tuple[str, ...]:
        """Returns the carriers that received this old value of the field, by name."""
        column = CARRIER_RECEIVED.get(name)
        if column is None or old in (None, ""):
            return ()
        carriers = {row["carrier"] for row in self.rows if _same(row[column], old)}
        return tuple(sorted(carrier for carrier in carriers if carrier))


@dataclass(frozen=True)
class Correction:
    """One change to make, with the row and column it is written to."""

    row_id: int
    column: str
    change: Change


def corrections_in(
    rows: Sequence[RowMapping],
    *,
    category: str,
    key: str,
    columns: Mapping[str, str],
    corrections: Mapping[str, str],
    recipients: Callable[[str, JSONValue], tuple[str, ...]],
) -> list[Correction]:
    """Returns the changes the corrections make to these rows; a value already right is none.

    Args:
        rows: the current records, each with its `id`.
        category: the records' category.
        key: the column that gives a record's key, as the export gives it.
        columns: each correctable field these records hold, and the column holding it;
            the column's name is also the record's field name in the export.
        corrections: the checked corrections.
        recipients: who received the old value of a corrected field, from the field's name
            and that value.
    """
    found: list[Correction] = []
    for row in rows:
        # The record as it stands, for settling who received it; not our internal ids.
        record = row_data(row, [name for name in row if name not in INTERNAL])
        for name, new in corrections.items():
            column = columns.get(name)
            if column is None or row[column] == new:
                continue
            old = row[column]
            change = Change(
                category=category,
                key=str(row[key]),
                field=column,
                old=old,
                new=new,
                recipients=recipients(name, old),
                record=record,
            )
            found.append(Correction(row_id=row["id"], column=column, change=change))
    return found


def write_corrections(connection: Connection, table: Table, found: Sequence[Correction]) -> None:
    """Writes the corrections: one UPDATE per column and new value, whatever the rows."""
    groups: defaultdict[tuple[str, JSONValue], list[int]] = defaultdict(list)
    for correction in found:
        groups[(correction.column, correction.change.new)].append(correction.row_id)
    for (column, new), ids in groups.items():
        connection.execute(update(table).where(table.c.id.in_(ids)).values({column: new}))
