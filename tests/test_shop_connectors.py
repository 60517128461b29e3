"""The shop's export connectors: everything of the subject's, nothing of anyone else's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, select

from dsar.connector import Connector, Record, Subject
from dsar.connectors.shop.accounts import AccountsConnector
from dsar.connectors.shop.database import shop_engine
from dsar.connectors.shop.marketing import MarketingConnector
from dsar.connectors.shop.orders import OrdersConnector
from dsar.connectors.shop.redaction import CUSTOMER_NUMBER, PLACEHOLDER, REDACTED_FLAG
from dsar.connectors.shop.schema import (
    contact_messages,
    customers,
    marketing_consents,
    order_lines,
    orders,
    shipments,
    subscriptions,
    support_notes,
)
from dsar.connectors.shop.seed import DEMO_EMAIL, seed_shop
from dsar.connectors.shop.subscriptions import SubscriptionsConnector
from dsar.connectors.shop.support import SupportConnector

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SANNE = Subject(email=DEMO_EMAIL, name="Sanne de Vries")
CONNECTORS: tuple[type[Connector], ...] = (
    AccountsConnector,
    OrdersConnector,
    SubscriptionsConnector,
    SupportConnector,
    MarketingConnector,
)
EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")


def norm(email: str | None) -> str:
    """An address as matching sees it."""
    return (email or "").strip().lower()


def rows_of(url: str, table: Any) -> list[dict[str, Any]]:
    """Every row of a shop table, read straight from the database."""
    engine = create_engine(url)
    with engine.connect() as connection:
        found = [dict(row) for row in connection.execute(select(table)).mappings()]
    engine.dispose()
    return found


def export(url: str, subject: Subject) -> list[Record]:
    """Every record all five connectors export for the subject."""
    settings = {"SHOP_DATABASE_URL": url}
    return [record for cls in CONNECTORS for record in cls(settings).export(subject)]


def keys(records: list[Record], category: str) -> list[str]:
    """The keys of the records of one category, in the order exported."""
    return [record.key for record in records if record.category == category]


@pytest.fixture
def seeded(shop_url: str) -> str:
    """The URL of a shop seeded with 120 customers."""
    engine = create_engine(shop_url)
    seed_shop(engine, customers=120, seed=7, now=NOW)
    engine.dispose()
    return shop_url


@pytest.fixture
def sanne(seeded: str) -> list[Record]:
    """Everything exported for the showcase customer."""
    return export(seeded, SANNE)


def test_every_record_of_hers_comes_back(seeded: str, sanne: list[Record]) -> None:
    """Both accounts, guest order, lines, shipments, subscriptions, messages, notes, consents."""
    accounts = [row for row in rows_of(seeded, customers) if norm(row["email"]) == DEMO_EMAIL]
    ids = {row["id"] for row in accounts}
    numbers = {row["customer_number"] for row in accounts}
    her_orders = [
        row
        for row in rows_of(seeded, orders)
        if row["customer_id"] in ids or norm(row["email"]) == DEMO_EMAIL
    ]
    order_ids = {row["id"] for row in her_orders}

    assert sorted(keys(sanne, "account")) == sorted(numbers)
    assert len(numbers) == 2
    assert sorted(keys(sanne, "orders")) == sorted(row["order_number"] for row in her_orders)
    assert sorted(keys(sanne, "shipments")) == sorted(
        str(row["id"]) for row in rows_of(seeded, shipments) if row["order_id"] in order_ids
    )
    assert sorted(keys(sanne, "subscriptions")) == sorted(
        str(row["id"]) for row in rows_of(seeded, subscriptions) if row["customer_id"] in ids
    )
    assert sorted(keys(sanne, "contact_messages")) == sorted(
        str(row["id"])
        for row in rows_of(seeded, contact_messages)
        if row["customer_number"] in numbers or norm(row["email"]) == DEMO_EMAIL
    )
    assert sorted(keys(sanne, "support_notes")) == sorted(
        str(row["id"])
        for row in rows_of(seeded, support_notes)
        if row["customer_id"] in ids or norm(row["email"]) == DEMO_EMAIL
    )
    assert sorted(keys(sanne, "marketing_consents")) == sorted(
        str(row["id"])
        for row in rows_of(seeded, marketing_consents)
        if row["customer_id"] in ids or norm(row["email"]) == DEMO_EMAIL
    )


def test_her_records_show_what_she_would_recognise(seeded: str, sanne: list[Record]) -> None:
    """A closed and an open account, a guest order, nested lines, carriers, both kinds of all."""
    by_category: dict[str, list[Record]] = {}
    for record in sanne:
        by_category.setdefault(record.category, []).append(record)
    line_count: dict[str, int] = {}
    order_numbers = {row["id"]: row["order_number"] for row in rows_of(seeded, orders)}
    for line in rows_of(seeded, order_lines):
        number = order_numbers[line["order_id"]]
        line_count[number] = line_count.get(number, 0) + 1

    assert [record.data["closed_at"] is None for record in by_category["account"]] == [False, True]
    guest = [r for r in by_category["orders"] if r.data["customer_number"] is None]
    assert [r.data["email"] for r in guest] == [" SANNE.DEVRIES@example.nl "]
    for record in by_category["orders"]:
        lines = record.data["lines"]
        assert isinstance(lines, list) and len(lines) == line_count[record.key]
        assert set(lines[0]) == {"sku", "description", "quantity", "unit_price_cents"}
    assert {r.data["carrier"] for r in by_category["shipments"]} <= {"PostNL", "DHL"}
    assert {r.data["recipient_name"] for r in by_category["shipments"]} == {"Sanne de Vries"}
    assert {r.data["status"] for r in by_category["subscriptions"]} == {"active", "cancelled"}
    assert {r.data["customer_number"] is None for r in by_category["contact_messages"]} == {
        True,
        False,
    }
    assert {r.data["withdrawn_at"] is None for r in by_category["marketing_consents"]} == {
        True,
        False,
    }
    redacted = [r for r in by_category["support_notes"] if REDACTED_FLAG in r.flags]
    assert redacted and all(PLACEHOLDER in str(r.data["body"]) for r in redacted)


def test_nothing_of_anyone_else_comes_back(seeded: str, sanne: list[Record]) -> None:
    """No other customer's address, name or number appears anywhere in her records."""
    others = [row for row in rows_of(seeded, customers) if norm(row["email"]) != DEMO_EMAIL]
    her_numbers = {
        row["customer_number"]
        for row in rows_of(seeded, customers)
        if norm(row["email"]) == DEMO_EMAIL
    }
    text = json.dumps([[r.category, r.key, r.data] for r in sanne], ensure_ascii=False)
    # What she wrote herself comes back as she wrote it, her bookkeeper's address included.
    written = {norm(found) for row in rows_of(seeded, contact_messages)
               if norm(row["email"]) == DEMO_EMAIL for found in EMAIL.findall(row["body"])}
    assert written == {"boekhouding.devries@example.com"}

    assert {norm(found) for found in EMAIL.findall(text)} == {DEMO_EMAIL, *written}
    assert set(CUSTOMER_NUMBER.findall(text)) == her_numbers
    for other in others:
        assert norm(other["email"]) not in text.lower()
        assert other["customer_number"] not in text
        name = r"\s+".join(map(re.escape, other["name"].split()))
        assert not re.search(rf"(?<!\w){name}(?!\w)", text, re.IGNORECASE), other["name"]


def test_records_are_json_with_utc_timestamps_in_stable_order(sanne: list[Record]) -> None:
    """Data survives JSON; timestamps are ISO 8601 in UTC; records come oldest first."""
    json.dumps([dict(record.data) for record in sanne])
    placed = [str(r.data["placed_at"]) for r in sanne if r.category == "orders"]
    created = [str(r.data["created_at"]) for r in sanne if r.category == "account"]

    assert all(stamp.endswith("+00:00") for stamp in placed + created)
    assert placed == sorted(placed) and created == sorted(created)
    assert all("id" not in record.data and "customer_id" not in record.data for record in sanne)


def test_every_record_has_the_fields_its_category_declares(sanne: list[Record]) -> None:
    """A record carries exactly its category's fields, and its category is declared."""
    declared = {category.name: category for cls in CONNECTORS for category in cls.categories}

    for record in sanne:
        assert tuple(record.data) == declared[record.category].fields


def test_the_address_is_matched_in_any_case_and_with_blanks(
    seeded: str, sanne: list[Record]
) -> None:
    """However the address is given, the same records come back."""
    shouted = export(seeded, Subject(email="  SANNE.deVRIES@Example.NL "))

    assert [(r.category, r.key) for r in shouted] == [(r.category, r.key) for r in sanne]


def test_a_stranger_gets_nothing(seeded: str) -> None:
    """An address the shop does not know has no records anywhere."""
    assert export(seeded, Subject(email="nobody@example.nl")) == []


def test_a_contact_message_found_by_customer_number_alone(shop_url: str) -> None:
    """A message under her number from another address is hers, the other customer redacted."""
    engine = create_engine(shop_url)
    stamp = datetime(2025, 1, 1, 9, 0)
    with engine.begin() as connection:
        connection.execute(
            insert(customers),
            [
                {
                    "customer_number": "C100001",
                    "email": "Lot@Example.nl",
                    "name": "Lot Bakker",
                    "created_at": stamp,
                },
                {
                    "customer_number": "C100002",
                    "email": "piet@example.com",
                    "name": "Piet Smit",
                    "created_at": stamp,
                },
            ],
        )
        connection.execute(
            insert(contact_messages),
            [
                {
                    "customer_number": "C100001",
                    "email": "lot.work@example.org",
                    "name": "Lot Bakker",
                    "subject": "Parcel",
                    "received_at": stamp,
                    "body": "I am Lot Bakker (C100001). My parcel went to piet smit, C100002.",
                },
                {
                    "customer_number": "C100002",
                    "email": "piet@example.com",
                    "name": "Piet Smit",
                    "subject": "About Lot Bakker",
                    "received_at": stamp,
                    "body": "Lot Bakker's parcel came to me.",
                },
            ],
        )
    engine.dispose()

    records = list(
        SupportConnector({"SHOP_DATABASE_URL": shop_url}).export(Subject(email="lot@example.nl"))
    )

    assert len(records) == 1
    assert records[0].data["email"] == "lot.work@example.org"
    assert records[0].data["body"] == (
        f"I am Lot Bakker (C100001). My parcel went to {PLACEHOLDER}, {PLACEHOLDER}."
    )
    assert records[0].flags == (REDACTED_FLAG,)


def test_categories_follow_the_privacy_policy() -> None:
    """Purpose, basis, recipients and retention are the policy's, quoted where it has words."""
    categories = {category.name: category for cls in CONNECTORS for category in cls.categories}

    assert "until you delete your user account" in categories["account"].retention
    assert "Art. 6(1)(b)" in categories["account"].legal_basis
    assert "We are legally obliged to do so" in categories["orders"].legal_basis
    assert "Art. 6(1)(c)" in categories["orders"].legal_basis
    assert "until your order is completed and seven years later" in categories["orders"].retention
    assert "bank or credit card company" in categories["orders"].source
    assert any("payment provider" in r for r in categories["orders"].recipients)
    assert any("PostNL" in r and "DHL" in r for r in categories["shipments"].recipients)
    assert "two years after termination and seven years thereafter" in (
        categories["subscriptions"].retention
    )
    assert "Art. 6(1)(c)" in categories["subscriptions"].legal_basis
    assert any("payment provider" in r for r in categories["subscriptions"].recipients)
    assert "for up to six months afterwards" in categories["contact_messages"].retention
    assert "The policy states no period" in categories["support_notes"].retention
    assert "at most two years" in categories["support_notes"].retention
    assert "does not state" in categories["support_notes"].legal_basis
    assert "Art. 6(1)(a)" in categories["marketing_consents"].legal_basis
    assert "withdraw" in categories["marketing_consents"].retention
    for category in categories.values():
        assert category.purpose and category.legal_basis and category.retention
        assert category.source and category.fields


def test_connectors_are_found_through_their_entry_points() -> None:
    """dsar finds each connector under its name."""
    found = {ep.name: ep.load() for ep in entry_points(group="dsar.connectors")}

    for cls in CONNECTORS:
        assert found[cls.name] is cls


# --- one query per table, on indexes -----------------------------------------------------


@pytest.fixture
def statements(seeded: str) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements the shop's engine runs while the test runs."""
    engine = shop_engine(seeded)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        """Keeps a statement and its parameters."""
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("cls", "queries"),
    [
        (AccountsConnector, 1),
        (OrdersConnector, 3),
        (SubscriptionsConnector, 1),
        # Messages and notes twice: once for whom their texts name, once for the records
        # (both streamed); and the customers they name.
        (SupportConnector, 5),
        (MarketingConnector, 1),
    ],
)
def test_each_table_is_read_with_one_query(
    seeded: str, statements: list[tuple[str, Any]], cls: type[Connector], queries: int
) -> None:
    """However many records there are, a connector runs a fixed number of queries."""
    records = list(cls({"SHOP_DATABASE_URL": seeded}).export(SANNE))

    assert records
    assert len([s for s, _ in statements if s.lstrip().upper().startswith("SELECT")]) == queries


@pytest.mark.parametrize("cls", CONNECTORS)
def test_queries_use_the_shops_indexes(
    seeded: str, statements: list[tuple[str, Any]], cls: type[Connector]
) -> None:
    """No query scans a whole table (SQLite's query plan; other databases plan their own)."""
    engine: Engine = shop_engine(seeded)
    if engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    list(cls({"SHOP_DATABASE_URL": seeded}).export(SANNE))
    captured = list(statements)
    tables = {
        "customers",
        "orders",
        "order_lines",
        "shipments",
        "subscriptions",
        "contact_messages",
        "support_notes",
        "marketing_consents",
    }

    with engine.connect() as connection:
        for statement, parameters in captured:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            details = [row[3] for row in plan]
            scans = [d for d in details if d.startswith("SCAN ") and d.split()[1] in tables]
            assert not scans, f"{statement}\n{details}"
