"""The demo shop: Dutch customers, their orders and messages, with every trap real data has.

The traps (cplus-shop-schema.md) are built in on purpose, so the connectors are shown to
handle them: addresses typed in mixed case and with stray blanks, guest orders, contact
messages with only an address, agents' notes naming other customers, and people with a
closed and a new account under one address. One showcase customer has all of them at once.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import Connection, Engine, Table, func, insert, select

from .catalogue import (
    FREE_SHIPPING_FROM,
    MESSAGES,
    MESSAGES_NAMING_ANOTHER,
    NOTES,
    NOTES_NAMING_ANOTHER,
    PLANS,
    PRODUCTS,
    SHIPPING,
)
from .schema import (
    contact_messages,
    customers,
    marketing_consents,
    order_lines,
    orders,
    shipments,
    subscriptions,
    support_notes,
)

#: The showcase customer, always present, with every trap at once.
DEMO_EMAIL = "sanne.devries@example.nl"
DEMO_NAME = "Sanne de Vries"

#: Fewer customers than this cannot hold every trap besides the showcase's.
MIN_CUSTOMERS = 10
#: Customer numbers are "C" and six digits; this many still fit.
MAX_CUSTOMERS = 100_000

# Reserved for documentation (RFC 2606), so no generated address can reach a real person.
_DOMAINS = ("example.nl", "example.com", "example.org")
_COUNTRY = "NL"
_YEAR = timedelta(days=365)
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
#: How long after it was placed an order in each final status was completed: from, to.
COMPLETION_WINDOWS = {
    "delivered": (_DAY, 4 * _DAY),
    "returned": (10 * _DAY, 30 * _DAY),
    "cancelled": (_HOUR, 30 * _HOUR),
}


@dataclass(frozen=True)
class SeedSummary:
    """What seed_shop wrote, table by table."""

    customers: int
    orders: int
    guest_orders: int
    order_lines: int
    shipments: int
    subscriptions: int
    contact_messages: int
    support_notes: int
    marketing_consents: int
    demo_email: str = DEMO_EMAIL


@dataclass
class _Person:
    """Someone who shops at Cplus; the rows of their accounts, newest last."""

    name: str
    email: str
    phone: str
    iban: str
    accounts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_name(self) -> str:
        """Returns the name the person signs with."""
        return self.name.split()[0]


def customer_count(engine: Engine) -> int:
    """Returns how many accounts the shop holds."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(customers)).scalar_one())


def seed_shop(
    engine: Engine, customers: int, seed: int, now: datetime | None = None
) -> SeedSummary:
    """Fills an empty shop with demo data, the same data for the same seed and moment.

    Args:
        engine: the shop's database, its tables created and empty.
        customers: how many accounts to create, the showcase customer's two included.
        seed: the seed of every random choice.
        now: the moment the data is generated up to; defaults to the current time. Ages
            matter (some orders were completed more than seven years ago), so they are
            relative to it.

    Returns:
        The counts of what was written.
    """
    if not MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between {MIN_CUSTOMERS} and {MAX_CUSTOMERS}")
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    shop = _DemoShop(seed=seed, now=moment)
    shop.build(customers)
    with engine.begin() as connection:
        shop.write(connection)
    return shop.summary()


class _DemoShop:
    """The rows of one demo shop, built in memory, then written in bulk."""

    def __init__(self, seed: int, now: datetime) -> None:
        """Starts an empty shop whose every choice follows the seed."""
        # Demo data, not secrets: a seeded generator is what makes the shop reproducible.
        self.rng = random.Random(seed)  # noqa: S311
        self.fake = Faker("nl_NL")
        self.fake.seed_instance(seed)
        # The shop stores UTC without a zone (cplus-shop-schema.md).
        self.now = now
        self.names = {DEMO_NAME.lower()}
        self.emails = {DEMO_EMAIL}
        self.customers: list[dict[str, Any]] = []
        self.orders: list[dict[str, Any]] = []
        self.subscriptions: list[dict[str, Any]] = []
        self.contact_messages: list[dict[str, Any]] = []
        self.support_notes: list[dict[str, Any]] = []
        self.marketing_consents: list[dict[str, Any]] = []
        self.agents = [self._agent() for _ in range(6)]

    # -- building ---------------------------------------------------------------------------

    def build(self, accounts: int) -> None:
        """Creates the people and accounts, then everything they did in the shop."""
        sanne = self._showcase_accounts()
        holders = self._accounts(accounts - len(sanne.accounts))
        guests = [self._person() for _ in range(max(2, accounts // 25))]
        self._number_accounts()
        self._showcase_history(sanne, others=holders)
        for index, person in enumerate(holders):
            # The first customer carries the traps outside the showcase, whatever the seed.
            self._history(person, others=holders, show_traps=index == 0)
        for person in guests:
            self._guest_history(person, others=holders)
        self._number_orders()

    def _accounts(self, count: int) -> list[_Person]:
        """Creates people with `count` accounts in all, some with a closed and a new one."""
        people: list[_Person] = []
        while count > 0:
            person = self._person()
            # The first pair is certain, so the trap exists in a shop of any size.
            if count >= 2 and (not people or self.rng.random() < 0.04):
                closed_from = self._between(self.now - 9 * _YEAR, self.now - 4 * _YEAR)
                closed_at = self._between(closed_from + _YEAR, closed_from + 3 * _YEAR)
                self._account(person, self._typed(person.email), closed_from, closed_at)
                moved = self._address() if self.rng.random() < 0.5 else None
                created = self._between(closed_at + 30 * _DAY, closed_at + _YEAR)
                self._account(person, self._typed(person.email), created, None, moved)
                count -= 2
            else:
                created = self._between(self.now - 9 * _YEAR, self.now - 10 * _DAY)
                closed = None
                if self.rng.random() < 0.04 and created < self.now - 60 * _DAY:
                    closed = self._between(created + 30 * _DAY, self.now)
                self._account(person, self._typed(person.email), created, closed)
                count -= 1
            people.append(person)
        return people

    def _history(self, person: _Person, others: list[_Person], show_traps: bool) -> None:
        """Creates what an account holder did: orders, subscriptions, messages, consents."""
        for account in person.accounts:
            end = account["closed_at"] or self.now
            for _ in range(self.rng.choices(range(7), weights=(15, 25, 20, 15, 10, 8, 7))[0]):
                self._order(person, account, self._between(account["created_at"], end))
            if self.rng.random() < 0.12:
                started = self._between(account["created_at"], end - 30 * _DAY)
                terminated = account["closed_at"]
                if (
                    terminated is None
                    and started < self.now - 60 * _DAY
                    and self.rng.random() < 0.4
                ):
                    terminated = self._between(started + 30 * _DAY, self.now)
                self._subscription(person, account, started, terminated)
        latest = person.accounts[-1]
        if show_traps or self.rng.random() < 0.08:
            # A guest order, its address typed otherwise than on any of the accounts.
            self._order(
                person,
                None,
                self._between(latest["created_at"], self.now),
                email=self._typed(person.email, forbid={row["email"] for row in person.accounts}),
            )
        if show_traps:
            # Open and cancelled orders are rare by chance; the shop must show every status.
            self._order(person, latest, self.now - 3 * _HOUR, status="placed")
            self._order(person, latest, self.now - 40 * _DAY, status="cancelled")
        messages = 2 if show_traps else int(self.rng.random() < 0.2)
        for index in range(messages):
            # With traps shown, the first message carries only an address.
            with_number = index == 1 if show_traps else self.rng.random() < 0.65
            self._contact_message(person, latest if with_number else None, others)
        notes = 2 if show_traps else self.rng.choice((1, 2)) * int(self.rng.random() < 0.25)
        for index in range(notes):
            self._support_note(person, latest, others, name_another=show_traps and index == 0)
        if self.rng.random() < 0.35:
            consent_account = latest if self.rng.random() < 0.7 else None
            self._consent(person, consent_account, self._between(latest["created_at"], self.now))

    def _guest_history(self, person: _Person, others: list[_Person]) -> None:
        """Creates what someone without an account did: guest orders and messages."""
        for _ in range(self.rng.randint(1, 3)):
            self._order(person, None, self._between(self.now - 9 * _YEAR, self.now))
        if self.rng.random() < 0.5:
            self._contact_message(person, None, others)
        if self.rng.random() < 0.3:
            self._support_note(person, None, others, name_another=False)
        if self.rng.random() < 0.3:
            self._consent(person, None, self._between(self.now - 9 * _YEAR, self.now))

    # -- the showcase customer -------------------------------------------------------------

    def _showcase_accounts(self) -> _Person:
        """Creates Sanne de Vries's closed account and her new one, under one address."""
        sanne = _Person(
            name=DEMO_NAME, email=DEMO_EMAIL, phone="+31 6 12345678", iban="NL91ABNA0417164300"
        )
        utrecht = {"street": "Oudegracht 112", "postal_code": "3511 AX", "city": "Utrecht"}
        amsterdam = {"street": "Lindengracht 42", "postal_code": "1015 KK", "city": "Amsterdam"}
        closed_from = self.now - 8 * _YEAR - 40 * _DAY
        closed_at = self.now - 3 * _YEAR - 100 * _DAY
        closed = self._account(sanne, "sanne.devries@example.nl ", closed_from, closed_at, utrecht)
        closed["payment_method"], closed["payment_details"] = "creditcard", "Visa **** 4821"
        self._account(sanne, "Sanne.deVries@Example.nl", closed_at + 200 * _DAY, None, amsterdam)
        return sanne

    def _showcase_history(self, sanne: _Person, others: list[_Person]) -> None:
        """Gives Sanne every trap at once: guest order, both kinds of message, a named other."""
        closed, current = sanne.accounts
        # Completed more than seven years ago: the retention planner has something to erase.
        self._order(sanne, closed, closed["created_at"] + 20 * _DAY, status="delivered")
        self._order(sanne, closed, self.now - 5 * _YEAR, status="returned")
        self._order(
            sanne,
            None,
            closed["closed_at"] + 60 * _DAY,
            status="delivered",
            email=" SANNE.DEVRIES@example.nl ",
        )
        self._order(sanne, current, self.now - 2 * _YEAR, status="delivered")
        self._order(sanne, current, self.now - 3 * _DAY, status="shipped")
        self._order(sanne, current, self.now - 1 * _DAY, status="paid")
        self._subscription(
            sanne, closed, closed["created_at"] + 100 * _DAY, closed["closed_at"] - 30 * _DAY
        )
        self._subscription(sanne, current, current["created_at"] + 30 * _DAY, None)
        self.contact_messages.append(
            self._message_row(
                sanne,
                None,
                "SANNE.deVries@example.NL",
                self.now - 2 * _YEAR + 3 * _DAY,
                "Invoice",
                "Could you send the invoice of my order to me and to my bookkeeper at "
                "boekhouding.devries@example.com? Thanks, Sanne",
            )
        )
        self.contact_messages.append(
            self._message_row(
                sanne,
                current,
                current["email"],
                self.now - 2 * _DAY,
                "Where is my order?",
                "Hello, my order was shipped but the tracking link does not "
                "work. Kind regards, Sanne",
            )
        )
        other = self.rng.choice(others)
        other_number = other.accounts[-1]["customer_number"]
        self.support_notes.append(
            {
                "customer_id": current,
                "email": None,
                "channel": "phone",
                "agent": self.rng.choice(self.agents),
                "created_at": self.now - 2 * _DAY + _HOUR,
                "body": f"Customer says her neighbour {other.name} ({other_number}, {other.email}) "
                "received her parcel by mistake; asked the carrier to collect it there.",
            }
        )
        self.support_notes.append(
            {
                "customer_id": closed,
                "email": "sanne.devries@example.nl",
                "channel": "email",
                "agent": self.rng.choice(self.agents),
                "created_at": self.now - 5 * _YEAR + 9 * _DAY,
                "body": "Customer asked about the refund of her return; refund approved.",
            }
        )
        self._consent(
            sanne,
            None,
            closed["closed_at"] + 60 * _DAY,
            email=" SANNE.DEVRIES@example.nl ",
            withdrawn=True,
        )
        self._consent(
            sanne, current, current["created_at"], email=current["email"], withdrawn=False
        )

    # -- rows -------------------------------------------------------------------------------

    def _person(self) -> _Person:
        """Creates a new person with a name and an address nobody else in the shop has."""
        while True:
            first, last = self.fake.first_name(), self.fake.last_name()
            name = f"{first} {last}"
            if name.lower() not in self.names:
                break
        self.names.add(name.lower())
        person = _Person(
            name=name,
            email=self._unique_email(first, last),
            phone=self.fake.phone_number(),
            iban=self.fake.iban(),
        )
        return person

    def _account(
        self,
        person: _Person,
        typed_email: str,
        created_at: datetime,
        closed_at: datetime | None,
        address: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Creates an account row; its customer number is given once all accounts exist."""
        home = address or self._address()
        billing = home if self.rng.random() < 0.9 else self._address()
        method = self.rng.choices(("iDEAL", "creditcard", "PayPal"), weights=(60, 25, 15))[0]
        row: dict[str, Any] = {
            "customer_number": None,
            "email": typed_email,
            "name": person.name,
            "street": home["street"],
            "postal_code": home["postal_code"],
            "city": home["city"],
            "country": _COUNTRY,
            "phone": person.phone,
            "billing_street": billing["street"],
            "billing_postal_code": billing["postal_code"],
            "billing_city": billing["city"],
            "billing_country": _COUNTRY,
            "payment_method": method,
            "payment_details": self._payment_details(person, method),
            "registration_ip": self._ip(),
            "last_login_ip": self._ip(),
            "created_at": created_at,
            "closed_at": closed_at,
        }
        person.accounts.append(row)
        self.customers.append(row)
        return row

    def _order(
        self,
        person: _Person,
        account: dict[str, Any] | None,
        placed_at: datetime,
        status: str | None = None,
        email: str | None = None,
    ) -> None:
        """Creates an order with its lines and, once handed to a carrier, its shipment."""
        status = status or self._status(placed_at)
        completed_at = self._completed_at(status, placed_at)
        # A guest order of an account holder still goes to where they live.
        home = account or (person.accounts[-1] if person.accounts else None)
        address = (
            {"street": home["street"], "postal_code": home["postal_code"], "city": home["city"]}
            if home
            else self._address()
        )
        lines = self._lines()
        method = self.rng.choices(("iDEAL", "creditcard", "PayPal"), weights=(60, 20, 20))[0]
        order: dict[str, Any] = {
            "order_number": None,
            # The account row itself until written; its id replaces it then.
            "customer_id": account,
            "email": email or (account["email"] if account else self._typed(person.email)),
            "name": person.name,
            "phone": person.phone,
            "ship_street": address["street"],
            "ship_postal_code": address["postal_code"],
            "ship_city": address["city"],
            "ship_country": _COUNTRY,
            "billing_street": address["street"],
            "billing_postal_code": address["postal_code"],
            "billing_city": address["city"],
            "billing_country": _COUNTRY,
            "ip_address": self._ip(),
            "payment_method": method,
            "payment_reference": "tr_"
            + "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=10)),
            "total_cents": sum(line["quantity"] * line["unit_price_cents"] for line in lines),
            "currency": "EUR",
            "status": status,
            "placed_at": placed_at,
            "completed_at": completed_at,
            "_lines": lines,
            "_shipment": None,
        }
        if status in ("shipped", "delivered", "returned"):
            order["_shipment"] = self._shipment(order, completed_at)
        self.orders.append(order)

    def _status(self, placed_at: datetime) -> str:
        """Returns where an order placed then would be now."""
        age = self.now - placed_at
        if age < 2 * _DAY:
            return self.rng.choice(("placed", "paid"))
        if age < 7 * _DAY:
            return self.rng.choice(("paid", "shipped", "shipped", "delivered"))
        return self.rng.choices(("delivered", "returned", "cancelled"), weights=(85, 8, 7))[0]

    def _completed_at(self, status: str, placed_at: datetime) -> datetime | None:
        """Returns when an order in that status was completed, or None while it is open."""
        if status not in COMPLETION_WINDOWS:
            return None
        earliest, latest = COMPLETION_WINDOWS[status]
        return min(self._between(placed_at + earliest, placed_at + latest), self.now)

    def _lines(self) -> list[dict[str, Any]]:
        """Returns the lines of an order: a few products, shipping below the free threshold."""
        count = self.rng.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
        lines: list[dict[str, Any]] = [
            {
                "sku": sku,
                "description": description,
                "quantity": self.rng.choices((1, 2, 3), weights=(70, 22, 8))[0],
                "unit_price_cents": price,
            }
            for sku, description, price in self.rng.sample(PRODUCTS, count)
        ]
        if sum(line["quantity"] * line["unit_price_cents"] for line in lines) < FREE_SHIPPING_FROM:
            sku, description, price = SHIPPING
            lines.append(
                {"sku": sku, "description": description, "quantity": 1, "unit_price_cents": price}
            )
        return lines

    def _shipment(self, order: dict[str, Any], completed_at: datetime | None) -> dict[str, Any]:
        """Returns the shipment of an order, as the carrier received it."""
        carrier = self.rng.choices(("PostNL", "DHL"), weights=(65, 35))[0]
        digits = "".join(self.rng.choices(string.digits, k=16))
        tracking = f"3SCPLS{digits[:9]}" if carrier == "PostNL" else f"JVGL{digits}"
        handed_over = self._between(order["placed_at"] + 4 * _HOUR, order["placed_at"] + 30 * _HOUR)
        handed_over = min(handed_over, completed_at or self.now, self.now)
        return {
            "carrier": carrier,
            "tracking_number": tracking,
            "recipient_name": order["name"],
            "recipient_street": order["ship_street"],
            "recipient_postal_code": order["ship_postal_code"],
            "recipient_city": order["ship_city"],
            "recipient_country": order["ship_country"],
            "recipient_phone": order["phone"],
            "handed_over_at": handed_over,
        }

    def _subscription(
        self,
        person: _Person,
        account: dict[str, Any],
        started_at: datetime,
        terminated_at: datetime | None,
    ) -> None:
        """Creates a subscription on an account, cancelled when it was terminated."""
        self.subscriptions.append(
            {
                "customer_id": account,
                "plan": self.rng.choice(PLANS),
                "status": "cancelled" if terminated_at else "active",
                "started_at": started_at,
                "terminated_at": terminated_at,
                "billing_email": self._typed(person.email),
                "billing_name": person.name,
                "billing_street": account["billing_street"],
                "billing_postal_code": account["billing_postal_code"],
                "billing_city": account["billing_city"],
                "billing_country": account["billing_country"],
                "payment_method": "SEPA direct debit",
                "payment_details": person.iban,
                "ip_address": self._ip(),
            }
        )

    def _contact_message(
        self, person: _Person, account: dict[str, Any] | None, others: list[_Person]
    ) -> None:
        """Creates a contact-form message, with a customer number only when one is given."""
        start = person.accounts[0]["created_at"] if person.accounts else self.now - 9 * _YEAR
        received_at = self._between(start, self.now)
        candidates = [other for other in others if other is not person]
        if candidates and self.rng.random() < 0.06:
            subject, body = self.rng.choice(MESSAGES_NAMING_ANOTHER)
            other = self.rng.choice(candidates)
            body = body.format(other_name=other.name, other_email=other.email)
        else:
            subject, body = self.rng.choice(MESSAGES)
            body = body.format(
                first=person.first_name,
                product=self.rng.choice(PRODUCTS)[1],
                address=self._one_line(self._address()),
            )
        email = account["email"] if account else self._typed(person.email)
        self.contact_messages.append(
            self._message_row(person, account, email, received_at, subject, body)
        )

    def _message_row(
        self,
        person: _Person,
        account: dict[str, Any] | None,
        email: str,
        received_at: datetime,
        subject: str,
        body: str,
    ) -> dict[str, Any]:
        """Returns a contact-message row as the form stores it."""
        home = person.accounts[-1] if person.accounts else None
        address = self._one_line(home) if home else self._one_line(self._address())
        open_question = self.now - received_at < 14 * _DAY and self.rng.random() < 0.5
        resolved_at = None
        if not open_question:
            resolved_at = min(self._between(received_at + _HOUR, received_at + 10 * _DAY), self.now)
        return {
            "customer_number": account["customer_number"] if account else None,
            "email": email,
            "name": person.name,
            "phone": person.phone if self.rng.random() < 0.7 else None,
            "address": address,
            "subject": subject,
            "body": body,
            "received_at": received_at,
            "resolved_at": resolved_at,
        }

    def _support_note(
        self,
        person: _Person,
        account: dict[str, Any] | None,
        others: list[_Person],
        name_another: bool,
    ) -> None:
        """Creates an agent's note; a few name another customer, as agents' notes do."""
        candidates = [other for other in others if other is not person]
        if candidates and (name_another or self.rng.random() < 0.15):
            channel, body = self.rng.choice(NOTES_NAMING_ANOTHER)
            other = self.rng.choice(candidates)
            body = body.format(
                other_name=other.name,
                other_number=other.accounts[-1]["customer_number"],
                other_email=other.email,
            )
        else:
            channel, body = self.rng.choice(NOTES)
        if account is None:
            channel = "email"
        start = account["created_at"] if account else self.now - 9 * _YEAR
        self.support_notes.append(
            {
                "customer_id": account,
                # Agents note the address of an e-mail; a caller gives none.
                "email": self._typed(person.email) if channel == "email" else None,
                "channel": channel,
                "agent": self.rng.choice(self.agents),
                "body": body,
                "created_at": self._between(start, self.now),
            }
        )

    def _consent(
        self,
        person: _Person,
        account: dict[str, Any] | None,
        consented_at: datetime,
        email: str | None = None,
        withdrawn: bool | None = None,
    ) -> None:
        """Creates a consent to e-mails with offers, withdrawn for some."""
        if withdrawn is None:
            withdrawn = self.rng.random() < 0.25
        self.marketing_consents.append(
            {
                "email": email or self._typed(person.email),
                "customer_id": account,
                "consented_at": consented_at,
                "source": self.rng.choice(("checkout", "newsletter form", "account settings")),
                "ip_address": self._ip(),
                "withdrawn_at": self._between(consented_at, self.now) if withdrawn else None,
            }
        )

    # -- numbering and writing -------------------------------------------------------------

    def _number_accounts(self) -> None:
        """Gives accounts customer numbers in the order they were opened, as the shop did."""
        number = 100_000
        for row in sorted(self.customers, key=lambda row: row["created_at"]):
            number += self.rng.randint(1, 7)
            row["customer_number"] = f"C{number}"

    def _number_orders(self) -> None:
        """Gives orders numbers in the order they were placed, counting on across years."""
        self.orders.sort(key=lambda order: order["placed_at"])
        for sequence, order in enumerate(self.orders, start=1):
            order["order_number"] = f"CP-{order['placed_at'].year}-{sequence:06d}"

    def write(self, connection: Connection) -> None:
        """Writes every row in bulk, parents first, so foreign keys get their ids."""
        for row, row_id in zip(
            self.customers, _insert(connection, customers, self.customers), strict=True
        ):
            row["id"] = row_id

        order_rows = [
            {key: value for key, value in order.items() if not key.startswith("_")}
            | {"customer_id": _id_of(order["customer_id"])}
            for order in self.orders
        ]
        for order, order_id in zip(
            self.orders, _insert(connection, orders, order_rows), strict=True
        ):
            order["id"] = order_id
        lines = [
            line | {"order_id": order["id"]} for order in self.orders for line in order["_lines"]
        ]
        sent = [
            order["_shipment"] | {"order_id": order["id"]}
            for order in self.orders
            if order["_shipment"]
        ]
        connection.execute(insert(order_lines), lines)
        if sent:
            connection.execute(insert(shipments), sent)
        for table, rows in (
            (subscriptions, self.subscriptions),
            (support_notes, self.support_notes),
            (marketing_consents, self.marketing_consents),
        ):
            if rows:
                connection.execute(
                    insert(table),
                    [row | {"customer_id": _id_of(row["customer_id"])} for row in rows],
                )
        if self.contact_messages:
            connection.execute(insert(contact_messages), self.contact_messages)

    def summary(self) -> SeedSummary:
        """Returns the counts of what was built."""
        return SeedSummary(
            customers=len(self.customers),
            orders=len(self.orders),
            guest_orders=sum(1 for order in self.orders if order["customer_id"] is None),
            order_lines=sum(len(order["_lines"]) for order in self.orders),
            shipments=sum(1 for order in self.orders if order["_shipment"]),
            subscriptions=len(self.subscriptions),
            contact_messages=len(self.contact_messages),
            support_notes=len(self.support_notes),
            marketing_consents=len(self.marketing_consents),
        )

    # -- small parts -------------------------------------------------------------------------

    def _between(self, start: datetime, end: datetime) -> datetime:
        """Returns a moment between the two, to the second."""
        seconds = max(0, int((end - start).total_seconds()))
        return (start + timedelta(seconds=self.rng.randint(0, seconds))).replace(microsecond=0)

    def _address(self) -> dict[str, str]:
        """Returns a Dutch street address."""
        return {
            "street": self.fake.street_address(),
            "postal_code": self.fake.postcode(),
            "city": self.fake.city(),
        }

    @staticmethod
    def _one_line(address: dict[str, Any]) -> str:
        """Returns an address as one types it into a form."""
        return f"{address['street']}, {address['postal_code']} {address['city']}"

    def _unique_email(self, first: str, last: str) -> str:
        """Returns an address made of the name that no other person in the shop has."""
        first, last = _ascii(first), _ascii(last)
        local = self.rng.choice((f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last}"))
        domain = self.rng.choice(_DOMAINS)
        email = f"{local}@{domain}"
        while email in self.emails:
            email = f"{local}{self.rng.randint(2, 99)}@{domain}"
        self.emails.add(email)
        return email

    def _typed(self, email: str, forbid: Collection[str] = ()) -> str:
        """Returns the address as someone typed it: mostly as is, else in odd case or blanks."""
        while True:
            roll = self.rng.random()
            if roll < 0.55:
                typed = email
            elif roll < 0.80:
                typed = _capitalised(email)
            elif roll < 0.88:
                typed = email.upper()
            elif roll < 0.94:
                typed = email + " "
            else:
                typed = " " + email
            if typed not in forbid:
                return typed

    def _payment_details(self, person: _Person, method: str) -> str:
        """Returns what the shop keeps of a payment method: an IBAN, a masked card, an address."""
        if method == "creditcard":
            brand = self.rng.choice(("Visa", "Mastercard"))
            return f"{brand} **** {self.rng.randint(0, 9999):04d}"
        if method == "PayPal":
            return person.email
        return person.iban

    def _ip(self) -> str:
        """Returns the address a visitor came from, now and then IPv6."""
        return self.fake.ipv6() if self.rng.random() < 0.1 else self.fake.ipv4_public()

    def _agent(self) -> str:
        """Returns a customer-service agent as notes sign them: first name and initial."""
        return f"{self.fake.first_name()} {self.fake.last_name().split()[-1][0]}."


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Inserts rows in bulk and returns their new ids in the order of the rows."""
    result = connection.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars())


def _id_of(row: dict[str, Any] | None) -> int | None:
    """Returns the id a written parent row got, or None where there is no parent."""
    return None if row is None else int(row["id"])


def _ascii(text: str) -> str:
    """Returns a name as it can stand in an address: plain letters, no blanks."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(character for character in folded.lower() if character.isalnum())


def _capitalised(email: str) -> str:
    """Returns an address with capitals, as some people type it: Jan.Jansen@Example.nl."""
    local, domain = email.split("@")
    return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()
