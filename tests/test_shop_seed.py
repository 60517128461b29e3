"""The demo shop seed: deterministic, realistic, and holding every trap of the shop's data."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy import create_engine, select

from dsar.connectors.shop.redaction import CUSTOMER_NUMBER
from dsar.connectors.shop.schema import create_demo_shop
from dsar.connectors.shop.schema import metadata as shop_metadata
from dsar.connectors.shop.seed import DEMO_EMAIL, DEMO_NAME, MIN_CUSTOMERS, seed_shop

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: The shop stores naive UTC; comparisons with its rows use the same.
NOW_NAIVE = NOW.replace(tzinfo=None)
EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")

Rows = dict[str, list[dict[str, Any]]]


def dump(url: str) -> Rows:
    """Every row of every shop table, in id order."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = {
            table.name: [
                dict(row)
                for row in connection.execute(select(table).order_by(table.c.id)).mappings()
            ]
            for table in shop_metadata.sorted_tables
        }
    engine.dispose()
    return rows


def seed(url: str, customers: int = 120, seed: int = 7) -> None:
    """Seeds the shop at that URL as of NOW."""
    engine = create_engine(url)
    create_demo_shop(engine)
    seed_shop(engine, customers=customers, seed=seed, now=NOW)
    engine.dispose()


def norm(email: str | None) -> str:
    """An address as matching sees it."""
    return (email or "").strip().lower()


@pytest.fixture
def shop(shop_url: str) -> Rows:
    """The rows of a shop seeded with 120 customers."""
    seed(shop_url)
    return dump(shop_url)


def test_the_same_seed_gives_the_same_shop(shop_url: str, tmp_path: Path) -> None:
    """Seeding twice with one seed writes identical rows, on any database; another seed not."""
    other = f"sqlite:///{tmp_path / 'again.db'}"
    different = f"sqlite:///{tmp_path / 'different.db'}"
    seed(shop_url)
    seed(other)
    seed(different, seed=8)

    assert dump(shop_url) == dump(other)
    assert dump(different)["customers"] != dump(other)["customers"]


def test_it_writes_as_many_accounts_as_asked(shop: Rows) -> None:
    """--customers counts accounts, the showcase customer's two included."""
    assert len(shop["customers"]) == 120


def test_too_few_customers_is_refused(shop_url: str) -> None:
    """A shop too small to hold every trap is not seeded at all."""
    engine = create_engine(shop_url)
    with pytest.raises(ValueError, match="customers must be between"):
        seed_shop(engine, customers=MIN_CUSTOMERS - 1, seed=1)
    engine.dispose()
    assert dump(shop_url)["customers"] == []


def test_addresses_are_stored_as_typed(shop: Rows) -> None:
    """Trap: addresses in mixed case and with a stray blank before or after."""
    stored = [row["email"] for row in shop["customers"]] + [row["email"] for row in shop["orders"]]

    assert any(email != email.lower() and email == email.strip() for email in stored)
    assert any(email.endswith(" ") for email in stored)
    assert any(email.startswith(" ") for email in stored)


def test_guest_orders_are_tied_by_address_alone(shop: Rows) -> None:
    """Trap: an account holder's guest order, its address typed otherwise than the account's."""
    accounts_by_email: dict[str, set[str]] = defaultdict(set)
    for row in shop["customers"]:
        accounts_by_email[norm(row["email"])].add(row["email"])
    guest = [row for row in shop["orders"] if row["customer_id"] is None]

    assert guest
    assert any(
        row["email"] not in accounts_by_email[norm(row["email"])]
        for row in guest
        if norm(row["email"]) in accounts_by_email and norm(row["email"]) != DEMO_EMAIL
    )
    # Some guests never had an account at all.
    assert any(norm(row["email"]) not in accounts_by_email for row in guest)


def test_contact_messages_carry_a_customer_number_or_only_an_address(shop: Rows) -> None:
    """Trap: a contact message may carry only an address."""
    numbers = {row["customer_number"] for row in shop["customers"]}
    messages = shop["contact_messages"]

    assert any(row["customer_number"] is None for row in messages)
    assert any(row["customer_number"] in numbers for row in messages)
    assert all(row["customer_number"] in numbers | {None} for row in messages)


def test_support_notes_name_other_customers(shop: Rows) -> None:
    """Trap: agents' notes name another customer by name and number, some by address too."""
    by_number = {row["customer_number"]: row for row in shop["customers"]}
    naming: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for note in shop["support_notes"]:
        for number in CUSTOMER_NUMBER.findall(note["body"]):
            named = by_number[number]
            if named["id"] != note["customer_id"]:
                naming.append((note, named))

    assert len(naming) >= 2
    assert all(named["name"] in note["body"] for note, named in naming)
    assert any(norm(named["email"]) in note["body"].lower() for note, named in naming)
    assert any(note["customer_id"] is None and note["email"] for note in shop["support_notes"])


def test_some_people_have_a_closed_and_a_new_account(shop: Rows) -> None:
    """Trap: a closed account and a newer one under one address, besides the showcase."""
    by_email: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in shop["customers"]:
        by_email[norm(row["email"])].append(row)
    pairs = [rows for email, rows in by_email.items() if len(rows) == 2 and email != DEMO_EMAIL]

    assert pairs
    for closed, new in (sorted(rows, key=lambda row: row["created_at"]) for rows in pairs):
        assert closed["closed_at"] is not None
        assert new["closed_at"] is None
        assert new["created_at"] > closed["closed_at"]
        assert closed["name"] == new["name"]


def test_every_person_has_an_address_of_their_own_on_reserved_domains(shop: Rows) -> None:
    """No two people share an address, and no generated address can reach a real person."""
    names_by_email: dict[str, set[str]] = defaultdict(set)
    for row in shop["customers"]:
        names_by_email[norm(row["email"])].add(row["name"])
    every_text = [
        value
        for rows in shop.values()
        for row in rows
        for value in row.values()
        if isinstance(value, str)
    ]
    addresses = {norm(found) for text in every_text for found in EMAIL.findall(text)}

    assert all(len(names) == 1 for names in names_by_email.values())
    assert addresses
    assert {address.rsplit("@", 1)[1] for address in addresses} <= {
        "example.nl",
        "example.com",
        "example.org",
    }


def test_customer_numbers_have_the_format_redaction_recognises(shop: Rows) -> None:
    """Numbers are "C" and six digits, unique, so redaction can find them in free text."""
    numbers = [row["customer_number"] for row in shop["customers"]]

    assert all(re.fullmatch(r"C\d{6}", number) for number in numbers)
    assert all(CUSTOMER_NUMBER.fullmatch(number) for number in numbers)
    assert len(set(numbers)) == len(numbers)


def test_orders_are_realistic(shop: Rows) -> None:
    """Statuses, completion, euros in cents, lines and nine years of history."""
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in shop["order_lines"]:
        lines[line["order_id"]].append(line)
    orders = shop["orders"]

    assert {row["status"] for row in orders} == {
        "placed",
        "paid",
        "shipped",
        "delivered",
        "cancelled",
        "returned",
    }
    for row in orders:
        completed = row["status"] in ("delivered", "returned", "cancelled")
        assert (row["completed_at"] is not None) == completed
        assert row["currency"] == "EUR"
        assert lines[row["id"]]
        assert row["total_cents"] == sum(
            line["quantity"] * line["unit_price_cents"] for line in lines[row["id"]]
        )
        assert NOW_NAIVE - timedelta(days=9 * 366) <= row["placed_at"] <= NOW_NAIVE
    # Some were completed more than seven years ago: past the retention period.
    assert any(
        row["completed_at"] and row["completed_at"] < NOW_NAIVE - timedelta(days=7 * 366)
        for row in orders
    )
    assert len({row["order_number"] for row in orders}) == len(orders)


def test_orders_handed_to_a_carrier_have_a_shipment(shop: Rows) -> None:
    """Shipped and delivered orders went with PostNL or DHL, tracked; open ones did not."""
    shipments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in shop["shipments"]:
        shipments[row["order_id"]].append(row)

    for order in shop["orders"]:
        if order["status"] in ("shipped", "delivered"):
            assert len(shipments[order["id"]]) == 1
        if order["status"] in ("placed", "paid", "cancelled"):
            assert not shipments[order["id"]]
    assert {row["carrier"] for row in shop["shipments"]} == {"PostNL", "DHL"}
    assert all(row["tracking_number"] and row["recipient_name"] for row in shop["shipments"])


def test_subscriptions_consents_and_notes_come_in_every_kind(shop: Rows) -> None:
    """Active and cancelled subscriptions, withdrawn consents, notes by phone and e-mail."""
    subscriptions = shop["subscriptions"]

    assert {row["status"] for row in subscriptions} == {"active", "cancelled"}
    assert all(
        (row["status"] == "cancelled") == (row["terminated_at"] is not None)
        for row in subscriptions
    )
    assert any(row["withdrawn_at"] for row in shop["marketing_consents"])
    assert any(row["withdrawn_at"] is None for row in shop["marketing_consents"])
    assert {row["channel"] for row in shop["support_notes"]} == {"phone", "email"}
    assert all(row["agent"] for row in shop["support_notes"])


def test_the_showcase_customer_has_every_trap_at_once(shop: Rows) -> None:
    """Sanne de Vries: two accounts, a guest order, both kinds of message, a named other."""
    accounts = sorted(
        (row for row in shop["customers"] if norm(row["email"]) == DEMO_EMAIL),
        key=lambda row: row["created_at"],
    )
    ids = {row["id"] for row in accounts}
    numbers = {row["customer_number"] for row in accounts}
    orders = [
        row
        for row in shop["orders"]
        if row["customer_id"] in ids or norm(row["email"]) == DEMO_EMAIL
    ]
    order_ids = {row["id"] for row in orders}
    messages = [
        row
        for row in shop["contact_messages"]
        if row["customer_number"] in numbers or norm(row["email"]) == DEMO_EMAIL
    ]
    notes = [
        row
        for row in shop["support_notes"]
        if row["customer_id"] in ids or norm(row["email"]) == DEMO_EMAIL
    ]

    assert [row["name"] for row in accounts] == [DEMO_NAME, DEMO_NAME]
    assert accounts[0]["closed_at"] is not None and accounts[1]["closed_at"] is None
    assert any(row["email"] != row["email"].lower() for row in accounts)
    assert {row["customer_id"] for row in orders} == ids | {None}
    assert " SANNE.DEVRIES@example.nl " in {row["email"] for row in orders}
    assert any(row["order_id"] in order_ids for row in shop["shipments"])
    assert {row["status"] for row in shop["subscriptions"] if row["customer_id"] in ids} == {
        "active",
        "cancelled",
    }
    assert {row["customer_number"] is None for row in messages} == {True, False}
    assert any(set(CUSTOMER_NUMBER.findall(row["body"])) - numbers for row in notes), (
        "no note of hers names another customer"
    )
    assert any(
        row["customer_id"] in ids or norm(row["email"]) == DEMO_EMAIL
        for row in shop["marketing_consents"]
    )


# --- dsar shop seed ----------------------------------------------------------------------


@pytest.fixture
def dsar_cli(shop_url: str) -> tuple[CliRunner, FlaskGroup]:
    """A Flask CLI that finds `shop` through the flask.commands entry point, as `dsar` does."""
    app = Flask("shop-cli-test")
    app.config["SHOP_DATABASE_URL"] = shop_url
    group = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    return CliRunner(), group


def test_dsar_shop_seed_fills_an_empty_shop(
    dsar_cli: tuple[CliRunner, FlaskGroup], shop_url: str
) -> None:
    """The command seeds, tells what it wrote, and ends with the demo customer."""
    runner, group = dsar_cli

    result = runner.invoke(group, ["shop", "seed", "--customers", "40", "--seed", "3"])

    assert result.exit_code == 0, result.output
    assert "Seeded the demo shop: 40 customers" in result.output
    assert result.output.splitlines()[-1] == f"Try it with the demo customer: {DEMO_EMAIL}"
    assert len(dump(shop_url)["customers"]) == 40


def test_if_empty_leaves_a_seeded_shop_alone(
    dsar_cli: tuple[CliRunner, FlaskGroup], shop_url: str
) -> None:
    """With --if-empty a second run writes nothing and still names the demo customer."""
    runner, group = dsar_cli
    runner.invoke(group, ["shop", "seed", "--customers", "40"])
    before = dump(shop_url)

    result = runner.invoke(group, ["shop", "seed", "--customers", "40", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "already has 40 customers" in result.output
    assert result.output.splitlines()[-1] == f"Try it with the demo customer: {DEMO_EMAIL}"
    assert dump(shop_url) == before


def test_seeding_a_shop_with_customers_is_refused(
    dsar_cli: tuple[CliRunner, FlaskGroup], shop_url: str
) -> None:
    """Without --if-empty a shop that has customers is not filled a second time."""
    runner, group = dsar_cli
    runner.invoke(group, ["shop", "seed", "--customers", "40"])

    result = runner.invoke(group, ["shop", "seed", "--customers", "40"])

    assert result.exit_code != 0
    assert "already has 40 customers" in result.output
    assert len(dump(shop_url)["customers"]) == 40
