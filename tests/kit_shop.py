"""The conformance kit's seed for the built-in shop connectors (dsar.kit.people's contract).

A SQLite shop of its own, emptied at each seed, holding the kit's people only: for each
spelling of a person's address one customer with everything the shop keeps (an account, an
open and a delivered order with lines and a shipment, a subscription, a contact message,
support notes, a marketing consent). Anna's first customer holds the kit's markup in every
table's free text. Statuses are those the erasure and correction checks need: an order
still open and an active subscription, which a correction changes, and an erasure that the
kit decides as ERASE throughout (the planner, not the connector, keeps records by law).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select

from dsar.connectors.shop.database import shop_engine
from dsar.connectors.shop.schema import (
    contact_messages,
    create_demo_shop,
    customers,
    marketing_consents,
    metadata,
    order_lines,
    orders,
    shipments,
    subscriptions,
    support_notes,
)
from dsar.kit import People, Person

#: The kit's data is dated, not taken from the clock: each seed writes the same rows.
_START = datetime(2024, 3, 1, 9, 30)

#: Corrections that change something in every shop record a correction may change.
CORRECTIONS = {"name": "Anna Kit-Jansen", "street": "Kitstraat 2", "city": "Utrecht"}


class KitShop:
    """A shop database for the kit: its settings, its seed and its seed_many."""

    def __init__(self, path: Path) -> None:
        """Creates an empty shop in a SQLite file at that path."""
        self.url = f"sqlite:///{path}"
        self.settings: Mapping[str, Any] = {"SHOP_DATABASE_URL": self.url}
        create_demo_shop(self.engine)

    @property
    def engine(self) -> Engine:
        """The connectors' own engine for this shop, so the seed shares their pool."""
        return shop_engine(self.url)

    def seed(self, people: People) -> None:
        """Empties the shop and stores the kit's people, as the seed contract asks."""
        with self.engine.begin() as connection:
            # Children before parents: the foreign keys are enforced.
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
            number = 0
            for person_index, person in enumerate((people.anna, *people.others())):
                for spelling_index, spelling in enumerate(person.stored_as):
                    number += 1
                    first_of_anna = person is people.anna and spelling_index == 0
                    markup = people.markup if first_of_anna else None
                    _store_customer(connection, person, spelling, number, markup,
                                    active=spelling_index == 0, person_index=person_index)

    def seed_many(self, table: str) -> Callable[[Person, int], None]:
        """Returns a seed_many that adds records of one connector's main table for a person."""

        def seed_many(person: Person, count: int) -> None:
            """Adds `count` rows for the person to that table, in one statement."""
            with self.engine.begin() as connection:
                customer = connection.execute(
                    select(customers.c.id, customers.c.customer_number)
                    .where(customers.c.email == person.stored_as[0])
                    .order_by(customers.c.id)
                ).first()
                assert customer is not None, f"seed() stored no account for {person.email}"
                _MANY[table](connection, person, customer.id, count)

        return seed_many


def _store_customer(
    connection: Connection,
    person: Person,
    spelling: str,
    number: int,
    markup: str | None,
    *,
    active: bool,
    person_index: int,
) -> None:
    """Stores one customer with a record in every table, under that spelling of the address."""
    at = _START + timedelta(days=number)
    customer_number = f"C{900000 + number:06d}"
    customer_id = _insert(connection, customers, {
        "customer_number": customer_number,
        "email": spelling,
        "name": markup or person.name,
        "street": f"Kitweg {number}",
        "postal_code": "1234 AB",
        "city": "Amsterdam",
        "country": "NL",
        "phone": f"+31 6 1234 {number:04d}",
        "billing_street": f"Kitweg {number}",
        "billing_postal_code": "1234 AB",
        "billing_city": "Amsterdam",
        "billing_country": "NL",
        "payment_method": "iDEAL",
        "payment_details": f"NL{number:02d}KITB0123456789",
        "registration_ip": f"192.0.2.{number}",
        "last_login_ip": f"192.0.2.{number}",
        "created_at": at,
        "closed_at": None,
    })
    base = {
        "email": spelling,
        "phone": f"+31 6 1234 {number:04d}",
        "ship_street": f"Kitweg {number}",
        "ship_postal_code": "1234 AB",
        "ship_city": "Amsterdam",
        "ship_country": "NL",
        "billing_street": f"Kitweg {number}",
        "billing_postal_code": "1234 AB",
        "billing_city": "Amsterdam",
        "billing_country": "NL",
        "ip_address": f"192.0.2.{number}",
        "payment_method": "iDEAL",
        "currency": "EUR",
    }
    # Open, on the account: what a correction changes.
    open_order = _insert(connection, orders, {
        **base,
        "order_number": f"KIT-{number}-1",
        "customer_id": customer_id,
        "name": person.name,
        "payment_reference": f"PAY-{number}-1",
        "total_cents": 2495,
        "status": "paid",
        "placed_at": at + timedelta(days=2),
        "completed_at": None,
    })
    # Delivered as a guest, found by address alone, with the carrier's copy of the address.
    guest_order = _insert(connection, orders, {
        **base,
        "order_number": f"KIT-{number}-2",
        "customer_id": None,
        "name": markup or person.name,
        "payment_reference": f"PAY-{number}-2",
        "total_cents": 1250,
        "status": "delivered",
        "placed_at": at + timedelta(days=1),
        "completed_at": at + timedelta(days=3),
    })
    for order_id in (open_order, guest_order):
        _insert(connection, order_lines, {
            "order_id": order_id, "sku": "KIT-1", "description": markup or "Kit mug",
            "quantity": 1, "unit_price_cents": 1250,
        })
    _insert(connection, shipments, {
        "order_id": guest_order,
        "carrier": "PostNL",
        "tracking_number": f"3SKIT{number:06d}",
        "recipient_name": person.name,
        "recipient_street": f"Kitweg {number}",
        "recipient_postal_code": "1234 AB",
        "recipient_city": "Amsterdam",
        "recipient_country": "NL",
        "recipient_phone": f"+31 6 1234 {number:04d}",
        "handed_over_at": at + timedelta(days=2),
    })
    _insert(connection, subscriptions, {
        "customer_id": customer_id,
        "plan": "Kit monthly",
        "status": "active" if active else "cancelled",
        "started_at": at,
        "terminated_at": None if active else at + timedelta(days=40),
        "billing_email": spelling,
        "billing_name": markup or person.name,
        "billing_street": f"Kitweg {number}",
        "billing_postal_code": "1234 AB",
        "billing_city": "Amsterdam",
        "billing_country": "NL",
        "payment_method": "SEPA direct debit",
        "payment_details": f"NL{number:02d}KITB0123456789",
        "ip_address": f"192.0.2.{number}",
    })
    _insert(connection, contact_messages, {
        "customer_number": customer_number,
        "email": spelling,
        "name": person.name,
        "phone": f"+31 6 1234 {number:04d}",
        "address": f"Kitweg {number}, 1234 AB Amsterdam",
        "subject": "Where is my mug?",
        "body": markup or "My mug has not arrived yet.",
        "received_at": at + timedelta(days=4),
        "resolved_at": at + timedelta(days=5),
    })
    # One note on the account, one found by the address alone (a phone call before signing up).
    for customer, body in ((customer_id, markup or "Asked about a delivery."),
                           (None, "Called before registering.")):
        _insert(connection, support_notes, {
            "customer_id": customer,
            "email": None if customer else spelling,
            "channel": "phone",
            "agent": f"agent-{person_index}",
            "body": body,
            "created_at": at + timedelta(days=6),
        })
    _insert(connection, marketing_consents, {
        "email": spelling,
        "customer_id": customer_id,
        "consented_at": at,
        "source": markup or "checkout",
        "ip_address": f"192.0.2.{number}",
        "withdrawn_at": None,
    })


def _insert(connection: Connection, table: Table, row: Mapping[str, Any]) -> int:
    """Inserts one row and returns its id."""
    inserted = connection.execute(insert(table).values(dict(row)).returning(table.c.id))
    return int(inserted.scalar_one())


def _many_accounts(connection: Connection, person: Person, _customer_id: int, count: int) -> None:
    """Adds that many accounts under the person's first spelling."""
    connection.execute(insert(customers), [
        {"customer_number": f"C{800000 + n:06d}", "email": person.stored_as[0],
         "name": person.name, "street": f"Kitweg {n}", "city": "Amsterdam",
         "created_at": _START + timedelta(minutes=n)}
        for n in range(count)
    ])


def _many_orders(connection: Connection, person: Person, customer_id: int, count: int) -> None:
    """Adds that many delivered orders, each with a line, on the person's first account."""
    connection.execute(insert(orders), [
        {"order_number": f"KIT-MANY-{n}", "customer_id": customer_id,
         "email": person.stored_as[0], "name": person.name, "ship_street": f"Kitweg {n}",
         "total_cents": 995, "currency": "EUR", "status": "delivered",
         "placed_at": _START + timedelta(minutes=n)}
        for n in range(count)
    ])
    added = connection.execute(
        select(orders.c.id).where(orders.c.order_number.startswith("KIT-MANY-"))).scalars()
    connection.execute(insert(order_lines), [
        {"order_id": order_id, "sku": "KIT-2", "description": "Kit sticker", "quantity": 1,
         "unit_price_cents": 995}
        for order_id in added
    ])


def _many_subscriptions(
    connection: Connection, person: Person, customer_id: int, count: int
) -> None:
    """Adds that many ended subscriptions on the person's first account."""
    connection.execute(insert(subscriptions), [
        {"customer_id": customer_id, "plan": "Kit weekly", "status": "cancelled",
         "started_at": _START + timedelta(minutes=n), "billing_email": person.stored_as[0],
         "billing_name": person.name}
        for n in range(count)
    ])


def _many_notes(connection: Connection, person: Person, customer_id: int, count: int) -> None:
    """Adds that many support notes on the person's first account."""
    connection.execute(insert(support_notes), [
        {"customer_id": customer_id, "channel": "e-mail", "agent": "agent-0",
         "body": f"Follow-up {n} about a delivery.",
         "created_at": _START + timedelta(minutes=n)}
        for n in range(count)
    ])


def _many_consents(connection: Connection, person: Person, customer_id: int, count: int) -> None:
    """Adds that many marketing consents under the person's first spelling."""
    connection.execute(insert(marketing_consents), [
        {"email": person.stored_as[0], "customer_id": customer_id,
         "consented_at": _START + timedelta(minutes=n), "source": "newsletter form"}
        for n in range(count)
    ])


#: Per connector, what seed_many adds: the records of its main table.
_MANY: dict[str, Callable[[Connection, Person, int, int], None]] = {
    "accounts": _many_accounts,
    "orders": _many_orders,
    "subscriptions": _many_subscriptions,
    "support": _many_notes,
    "marketing": _many_consents,
}
