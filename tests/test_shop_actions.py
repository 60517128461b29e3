"""The shop connectors' erasure, rectification, restriction and consent withdrawal, row by row.

Decisions are built by hand from the export, as the retention planner would build them, so
these tests depend on no planner. Every test compares whole-table snapshots before and after:
what is expected to change is written out column by column, and everything else (other
customers, retained and blocked records) must come back identical.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select, update

from dsar.connector import (
    ActionNotSupported,
    Change,
    Connector,
    Decision,
    Disposition,
    Outcome,
    Record,
    Subject,
)
from dsar.connectors.shop.accounts import AccountsConnector
from dsar.connectors.shop.database import shop_engine
from dsar.connectors.shop.marketing import MarketingConnector
from dsar.connectors.shop.orders import OrdersConnector
from dsar.connectors.shop.schema import marketing_consents, shipments
from dsar.connectors.shop.schema import metadata as shop_metadata
from dsar.connectors.shop.seed import DEMO_EMAIL, DEMO_NAME
from dsar.connectors.shop.subscriptions import SubscriptionsConnector
from dsar.connectors.shop.support import SupportConnector

SANNE = Subject(email=DEMO_EMAIL, name=DEMO_NAME)
CONNECTORS: tuple[type[Connector], ...] = (
    AccountsConnector,
    OrdersConnector,
    SubscriptionsConnector,
    SupportConnector,
    MarketingConnector,
)
PROVIDER = "the payment provider"

#: What config/retention.toml keeps of a minimised order and subscription.
ORDER_KEEP = (
    "order_number",
    "placed_at",
    "completed_at",
    "status",
    "total_cents",
    "currency",
    "name",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "payment_reference",
    "lines",
)
SUBSCRIPTION_KEEP = (
    "plan",
    "status",
    "started_at",
    "terminated_at",
    "billing_name",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "payment_method",
)
#: What a minimised shipment keeps in these tests: enough to show the rest is cleared.
SHIPMENT_KEEP = ("order_number", "carrier", "handed_over_at", "recipient_country")

Rows = dict[str, dict[int, dict[str, Any]]]


# --- helpers -----------------------------------------------------------------------------


def snapshot(engine: Engine) -> Rows:
    """Every row of every shop table, by table name and row id, read straight from the DB."""
    with engine.connect() as connection:
        return {
            table.name: {
                row["id"]: dict(row) for row in connection.execute(select(table)).mappings()
            }
            for table in shop_metadata.sorted_tables
        }


def norm(email: str | None) -> str:
    """An address as matching sees it."""
    return (email or "").strip().lower()


def connectors(url: str) -> list[Connector]:
    """The five shop connectors on the shop at that URL."""
    return [cls({"SHOP_DATABASE_URL": url}) for cls in CONNECTORS]


def exported(url: str, subject: Subject = SANNE) -> dict[str, list[Record]]:
    """Everything the connectors export for the subject, by category, oldest first."""
    found: dict[str, list[Record]] = defaultdict(list)
    for connector in connectors(url):
        for record in connector.export(subject):
            found[record.category].append(record)
    return found


def decide(record: Record, disposition: Disposition, keep: tuple[str, ...] = ()) -> Decision:
    """A planner's decision on one exported record."""
    return Decision(record.category, record.key, disposition, keep_fields=keep)


def erase_all(url: str, decisions: list[Decision]) -> dict[tuple[str, str], Outcome]:
    """Hands each connector the decisions on its categories; returns outcomes by record."""
    outcomes: dict[tuple[str, str], Outcome] = {}
    for connector in connectors(url):
        own = {category.name for category in connector.categories}
        mine = [decision for decision in decisions if decision.category in own]
        for outcome in connector.erase(SANNE, mine):
            assert (outcome.category, outcome.key) not in outcomes
            outcomes[(outcome.category, outcome.key)] = outcome
    return outcomes


def her_rows(rows: Rows) -> tuple[set[int], set[int]]:
    """Sanne's account ids and the ids of her orders (on her accounts or as a guest)."""
    accounts = {i for i, row in rows["customers"].items() if norm(row["email"]) == DEMO_EMAIL}
    her_orders = {
        i
        for i, row in rows["orders"].items()
        if row["customer_id"] in accounts or norm(row["email"]) == DEMO_EMAIL
    }
    return accounts, her_orders


def cleared_except(row: dict[str, Any], kept: set[str], blank_email: bool) -> dict[str, Any]:
    """The row with every column not kept set to NULL (the e-mail to "", which is NOT NULL)."""
    return {
        column: value if column in kept else ("" if column == "email" and blank_email else None)
        for column, value in row.items()
    }


@pytest.fixture
def url(shop_url: str, seeded_shop: Engine) -> str:
    """The URL of the seeded shop the connectors are configured with."""
    return shop_url


@pytest.fixture
def statements(url: str) -> Iterator[list[str]]:
    """The SQL statements the connectors' engine runs while the test runs."""
    engine = shop_engine(url)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        """Keeps a statement."""
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


# --- erasure -----------------------------------------------------------------------------


@pytest.fixture
def sanne(url: str) -> dict[str, list[Record]]:
    """Everything exported for the showcase customer, checked to be the showcase's history."""
    found = exported(url)
    assert [r.data["closed_at"] is None for r in found["account"]] == [False, True]
    assert [r.data["status"] for r in found["orders"]] == [
        "delivered",
        "returned",
        "delivered",
        "delivered",
        "shipped",
        "paid",
    ]
    assert found["orders"][2].data["customer_number"] is None  # her guest order
    assert [r.data["status"] for r in found["subscriptions"]] == ["cancelled", "active"]
    assert [r.data["withdrawn_at"] is None for r in found["marketing_consents"]] == [False, True]
    assert len(found["support_notes"]) == 2 and len(found["contact_messages"]) == 2
    return found


def plan(sanne: dict[str, list[Record]]) -> list[Decision]:
    """A plan touching every disposition in every category, as a planner might decide."""
    closed, current = sanne["account"]
    old, returned, guest, recent, shipped, paid = sanne["orders"]
    shipment = {str(r.data["order_number"]): r for r in sanne["shipments"]}
    cancelled, active = sanne["subscriptions"]
    first_note, second_note = sanne["support_notes"]
    withdrawn, given = sanne["marketing_consents"]
    return [
        decide(closed, Disposition.ERASE),
        decide(current, Disposition.BLOCKED),
        decide(old, Disposition.ERASE),
        decide(returned, Disposition.MINIMISE, ORDER_KEEP),
        decide(guest, Disposition.MINIMISE, ORDER_KEEP),
        decide(recent, Disposition.RETAIN),
        decide(shipped, Disposition.BLOCKED),
        decide(paid, Disposition.BLOCKED),
        decide(shipment[old.key], Disposition.ERASE),
        decide(shipment[returned.key], Disposition.ERASE),
        decide(shipment[guest.key], Disposition.MINIMISE, SHIPMENT_KEEP),
        decide(shipment[recent.key], Disposition.RETAIN),
        decide(shipment[shipped.key], Disposition.BLOCKED),
        decide(cancelled, Disposition.MINIMISE, SUBSCRIPTION_KEEP),
        decide(active, Disposition.BLOCKED),
        *(decide(message, Disposition.ERASE) for message in sanne["contact_messages"]),
        decide(first_note, Disposition.ERASE),
        decide(second_note, Disposition.RETAIN),
        decide(withdrawn, Disposition.ERASE),
        decide(given, Disposition.RETAIN),
    ]


def test_erasure_does_exactly_what_each_decision_says(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]]
) -> None:
    """Erased rows go or hold nothing personal, minimised rows keep what is kept, others stay."""
    before = snapshot(seeded_shop)
    decisions = plan(sanne)
    closed, _current = sanne["account"]
    old, returned, guest = sanne["orders"][:3]
    order_id = {row["order_number"]: i for i, row in before["orders"].items()}
    shipment_of = {row["order_id"]: i for i, row in before["shipments"].items()}
    closed_id = next(
        i for i, r in before["customers"].items() if r["customer_number"] == closed.key
    )
    cancelled_id = int(sanne["subscriptions"][0].key)

    outcomes = erase_all(url, decisions)
    after = snapshot(seeded_shop)

    # What the rows must be, written out from the decisions by hand.
    expected = copy.deepcopy(before)
    tombstone = expected["customers"][closed_id]
    tombstone.update(cleared_except(tombstone, {"id", "created_at", "closed_at"}, blank_email=True))
    tombstone["customer_number"] = f"ERASED-{closed_id}"
    del expected["orders"][order_id[old.key]]
    for line_id in [
        i for i, r in before["order_lines"].items() if r["order_id"] == order_id[old.key]
    ]:
        del expected["order_lines"][line_id]
    kept_order_columns = {"id", *ORDER_KEEP} - {"lines"}
    for order in (returned, guest):
        row = expected["orders"][order_id[order.key]]
        row.update(cleared_except(row, kept_order_columns, blank_email=True))
    del expected["shipments"][shipment_of[order_id[old.key]]]
    del expected["shipments"][shipment_of[order_id[returned.key]]]
    shipment = expected["shipments"][shipment_of[order_id[guest.key]]]
    shipment.update(
        cleared_except(
            shipment,
            {"id", "order_id", "carrier", "handed_over_at", "recipient_country"},
            blank_email=False,
        )
    )
    expected["subscriptions"][cancelled_id].update(
        billing_email=None, payment_details=None, ip_address=None
    )
    for record in sanne["contact_messages"]:
        del expected["contact_messages"][int(record.key)]
    del expected["support_notes"][int(sanne["support_notes"][0].key)]
    del expected["marketing_consents"][int(sanne["marketing_consents"][0].key)]

    assert after == expected
    # The tombstone, column by column: nothing of hers is left in it, nor is the number.
    assert {k: v for k, v in after["customers"][closed_id].items() if v not in (None, "")} == {
        "id": closed_id,
        "customer_number": f"ERASED-{closed_id}",
        "created_at": before["customers"][closed_id]["created_at"],
        "closed_at": before["customers"][closed_id]["closed_at"],
    }
    # Orders and subscriptions still point at it, so it could not simply go.
    assert any(r["customer_id"] == closed_id for r in after["subscriptions"].values())

    done = {key: (o.done, o.recipients) for key, o in outcomes.items()}
    carrier = {
        key: (before["shipments"][shipment_of[order_id[order.key]]]["carrier"],)
        for key, order in (("old", old), ("returned", returned), ("guest", guest))
    }
    ship_key = {
        name: str(shipment_of[order_id[order.key]])
        for name, order in (("old", old), ("returned", returned), ("guest", guest))
    }
    assert done == {
        **{(d.category, d.key): ("unchanged", ()) for d in decisions},
        ("account", closed.key): ("erased", ()),
        ("orders", old.key): ("erased", (PROVIDER,)),
        ("orders", returned.key): ("minimised", (PROVIDER,)),
        ("orders", guest.key): ("minimised", (PROVIDER,)),
        ("shipments", ship_key["old"]): ("erased", carrier["old"]),
        ("shipments", ship_key["returned"]): ("erased", carrier["returned"]),
        ("shipments", ship_key["guest"]): ("minimised", carrier["guest"]),
        ("subscriptions", str(cancelled_id)): ("minimised", (PROVIDER,)),
        **{("contact_messages", r.key): ("erased", ()) for r in sanne["contact_messages"]},
        ("support_notes", sanne["support_notes"][0].key): ("erased", ()),
        ("marketing_consents", sanne["marketing_consents"][0].key): ("erased", ()),
    }
    assert outcomes[("orders", guest.key)].fields == (
        "email",
        "phone",
        "ship_street",
        "ship_postal_code",
        "ship_city",
        "ship_country",
        "ip_address",
        "payment_method",
    )
    assert "customer_number" in outcomes[("orders", returned.key)].fields

    # The erased account is no longer hers to find; the open one is.
    assert [r.key for r in exported(url)["account"]] == [sanne["account"][1].key]


def test_an_open_account_erased_is_closed_and_stays_for_its_subscription(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]]
) -> None:
    """Nobody can log in to a tombstone; the subscription still points at a valid row."""
    current = sanne["account"][1]
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    (outcome,) = AccountsConnector({"SHOP_DATABASE_URL": url}).erase(
        SANNE, [decide(current, Disposition.ERASE)]
    )

    after = snapshot(seeded_shop)
    (row,) = [r for r in after["customers"].values() if r["customer_number"] == f"ERASED-{r['id']}"]
    assert outcome.done == "erased" and "email" in outcome.fields
    assert row["email"] == "" and row["name"] is None and row["payment_details"] is None
    assert row["closed_at"] is not None and row["closed_at"] >= start
    assert [s for s in after["subscriptions"].values() if s["customer_id"] == row["id"]]


def test_a_second_erasure_changes_nothing_and_says_so(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]]
) -> None:
    """Running the same plan again, as a retried job would, reports every record unchanged."""
    decisions = plan(sanne)
    erase_all(url, decisions)
    once = snapshot(seeded_shop)

    again = erase_all(url, decisions)

    assert snapshot(seeded_shop) == once
    assert set(again) == {(d.category, d.key) for d in decisions}
    assert {(o.done, o.fields, o.recipients) for o in again.values()} == {("unchanged", (), ())}


def test_a_minimised_order_is_erased_by_key_when_its_time_comes(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]]
) -> None:
    """Years later the order no longer holds her address, yet its key finds it to erase."""
    returned = sanne["orders"][1]
    connector = OrdersConnector({"SHOP_DATABASE_URL": url})
    list(connector.erase(SANNE, [decide(returned, Disposition.MINIMISE, ORDER_KEEP)]))
    assert returned.key not in [r.key for r in exported(url)["orders"]]
    before = snapshot(seeded_shop)
    order_id = next(i for i, r in before["orders"].items() if r["order_number"] == returned.key)
    (carrier,) = [r["carrier"] for r in before["shipments"].values() if r["order_id"] == order_id]

    outcomes = list(connector.erase(SANNE, [decide(returned, Disposition.ERASE)]))

    after = snapshot(seeded_shop)
    assert [(o.done, o.recipients) for o in outcomes] == [("erased", (PROVIDER, carrier))]
    assert order_id not in after["orders"]
    assert not [r for r in after["order_lines"].values() if r["order_id"] == order_id]
    assert not [r for r in after["shipments"].values() if r["order_id"] == order_id]


def test_a_minimised_order_loses_its_lines_unless_they_are_kept(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]]
) -> None:
    """Keep only what the plan names: lines not named go, the order's own facts stay."""
    guest = sanne["orders"][2]
    before = snapshot(seeded_shop)
    order_id = next(i for i, r in before["orders"].items() if r["order_number"] == guest.key)
    keep = tuple(name for name in ORDER_KEEP if name != "lines")

    (outcome,) = OrdersConnector({"SHOP_DATABASE_URL": url}).erase(
        SANNE, [decide(guest, Disposition.MINIMISE, keep)]
    )

    after = snapshot(seeded_shop)
    assert (outcome.done, outcome.fields[-1]) == ("minimised", "lines")
    assert [r for r in before["order_lines"].values() if r["order_id"] == order_id]
    assert not [r for r in after["order_lines"].values() if r["order_id"] == order_id]
    assert after["orders"][order_id]["total_cents"] == before["orders"][order_id]["total_cents"]


def test_an_erased_order_takes_its_shipment_and_names_the_carrier(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]]
) -> None:
    """A shipment without a decision of its own goes with its order; its carrier is told."""
    old = sanne["orders"][0]
    before = snapshot(seeded_shop)
    order_id = next(i for i, r in before["orders"].items() if r["order_number"] == old.key)
    (shipment,) = [r for r in before["shipments"].values() if r["order_id"] == order_id]

    outcomes = list(
        OrdersConnector({"SHOP_DATABASE_URL": url}).erase(SANNE, [decide(old, Disposition.ERASE)])
    )

    after = snapshot(seeded_shop)
    assert outcomes == [
        Outcome(
            "orders",
            old.key,
            "erased",
            fields=outcomes[0].fields,
            recipients=(PROVIDER, shipment["carrier"]),
        )
    ]
    assert {"email", "name", "lines"} <= set(outcomes[0].fields)
    assert shipment["id"] not in after["shipments"] and order_id not in after["orders"]


@pytest.mark.parametrize(
    "bad",
    [
        Decision("account", "C100001", Disposition.ERASE),  # not a category of orders
        Decision("orders", "CP-2020-000001", Disposition.MINIMISE, keep_fields=("zip",)),
        Decision("shipments", "first", Disposition.ERASE),  # not a row id
    ],
)
def test_a_plan_it_cannot_carry_out_is_refused_whole(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]], bad: Decision
) -> None:
    """One impossible decision and nothing is written, not even the possible ones."""
    before = snapshot(seeded_shop)
    decisions = [decide(sanne["orders"][0], Disposition.ERASE), bad]

    with pytest.raises(ValueError):
        list(OrdersConnector({"SHOP_DATABASE_URL": url}).erase(SANNE, decisions))

    assert snapshot(seeded_shop) == before


def test_a_kept_shipment_of_an_erased_order_is_refused(
    url: str, seeded_shop: Engine, sanne: dict[str, list[Record]]
) -> None:
    """A shipment cannot outlive its order; a plan that says so is a mistake, not obeyed."""
    returned = sanne["orders"][1]
    (shipment,) = [r for r in sanne["shipments"] if r.data["order_number"] == returned.key]
    before = snapshot(seeded_shop)

    with pytest.raises(ValueError, match="its order is erased"):
        list(
            OrdersConnector({"SHOP_DATABASE_URL": url}).erase(
                SANNE,
                [decide(returned, Disposition.ERASE), decide(shipment, Disposition.BLOCKED)],
            )
        )

    assert snapshot(seeded_shop) == before


@pytest.mark.parametrize(
    ("cls", "queries"),
    [
        # The accounts, who they were, and the two tables whose free text may name them.
        (AccountsConnector, 4),
        (OrdersConnector, 3),
        (SubscriptionsConnector, 1),
        (SupportConnector, 2),
        (MarketingConnector, 1),
    ],
)
def test_records_are_found_with_one_query_per_table(
    url: str,
    sanne: dict[str, list[Record]],
    statements: list[str],
    cls: type[Connector],
    queries: int,
) -> None:
    """However many records are decided, a connector looks them up in a fixed few queries."""
    own = {category.name for category in cls.categories}
    decisions = [
        decide(record, Disposition.ERASE)
        for category, records in sanne.items()
        if category in own
        for record in records
    ]
    assert len(decisions) >= 2

    outcomes = list(cls({"SHOP_DATABASE_URL": url}).erase(SANNE, decisions))

    assert {o.done for o in outcomes} == {"erased"}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == queries


# --- rectification -----------------------------------------------------------------------

CORRECTIONS = {
    "name": "Sanne Jansen",
    "phone": "+31 6 87654321",
    "street": "Lindengracht 44",
    "city": "Amsterdam",  # what her open account already holds: no change
    "billing_city": "Haarlem",
}


def rectify_all(url: str, *, apply: bool) -> list[Change]:
    """Asks every connector for the corrections, in connector order."""
    return [
        change
        for connector in connectors(url)
        for change in connector.rectify(SANNE, CORRECTIONS, apply=apply)
    ]


def expected_changes(rows: Rows) -> list[Change]:
    """The changes the corrections make to her current data, worked out from the rows."""
    accounts, her_orders = her_rows(rows)
    her_shipments = [r for r in rows["shipments"].values() if r["order_id"] in her_orders]
    received = {
        "name": "recipient_name",
        "phone": "recipient_phone",
        "street": "recipient_street",
        "city": "recipient_city",
    }

    def carriers(field: str, old: Any) -> tuple[str, ...]:
        """The carriers whose shipments of hers hold the old value of that field."""
        column = received.get(field)
        if column is None:
            return ()
        return tuple(sorted({s["carrier"] for s in her_shipments if s[column] == old}))

    changes: list[Change] = []
    for account in sorted(rows["customers"].values(), key=lambda r: r["created_at"]):
        if account["id"] in accounts and account["closed_at"] is None:
            for field, new in CORRECTIONS.items():
                if account[field] != new:
                    old = account[field]
                    changes.append(
                        Change(
                            "account",
                            account["customer_number"],
                            field,
                            old,
                            new,
                            carriers(field, old),
                        )
                    )
    columns = {
        "name": "name",
        "phone": "phone",
        "street": "ship_street",
        "city": "ship_city",
        "billing_city": "billing_city",
    }
    for order_id in sorted(her_orders, key=lambda i: rows["orders"][i]["placed_at"]):
        order = rows["orders"][order_id]
        if order["status"] in ("placed", "paid"):
            for field, new in CORRECTIONS.items():
                old = order[columns[field]]
                if old != new:
                    recipients = (PROVIDER,) if field == "billing_city" else carriers(field, old)
                    changes.append(
                        Change(
                            "orders", order["order_number"], columns[field], old, new, recipients
                        )
                    )
    for subscription in rows["subscriptions"].values():
        if subscription["customer_id"] in accounts and subscription["status"] == "active":
            for field, column in (("name", "billing_name"), ("billing_city", "billing_city")):
                old = subscription[column]
                if old != CORRECTIONS[field]:
                    changes.append(
                        Change(
                            "subscriptions",
                            str(subscription["id"]),
                            column,
                            old,
                            CORRECTIONS[field],
                            (PROVIDER,),
                        )
                    )
    return changes


def test_a_preview_lists_the_corrections_and_writes_nothing(url: str, seeded_shop: Engine) -> None:
    """Open account, active subscription and unshipped order change; history does not."""
    before = snapshot(seeded_shop)

    changes = rectify_all(url, apply=False)

    assert snapshot(seeded_shop) == before
    assert changes == expected_changes(before)
    accounts, her_orders = her_rows(before)
    open_account = next(
        r for i, r in before["customers"].items() if i in accounts and r["closed_at"] is None
    )
    assert {c.key for c in changes if c.category == "account"} == {open_account["customer_number"]}
    assert {c.key for c in changes if c.category == "orders"} == {
        before["orders"][i]["order_number"]
        for i in her_orders
        if before["orders"][i]["status"] == "paid"
    }
    assert {c.category for c in changes} == {"account", "orders", "subscriptions"}
    assert "city" not in {c.field for c in changes} and "ship_city" not in {
        c.field for c in changes
    }
    # Her shipments went to the address and name being corrected: those carriers are told.
    street = next(c for c in changes if c.category == "account" and c.field == "street")
    assert street.old == "Lindengracht 42" and street.recipients
    assert set(street.recipients) <= {"PostNL", "DHL"}


def test_corrections_change_current_data_only_and_once(url: str, seeded_shop: Engine) -> None:
    """Applied, the same changes are made and reported; applied again, there are none."""
    before = snapshot(seeded_shop)
    preview = rectify_all(url, apply=False)

    applied = rectify_all(url, apply=True)

    after = snapshot(seeded_shop)
    assert applied == preview
    expected = copy.deepcopy(before)
    table_of = {"account": "customers", "orders": "orders", "subscriptions": "subscriptions"}
    key_of = {"account": "customer_number", "orders": "order_number", "subscriptions": "id"}
    for change in preview:
        table = expected[table_of[change.category]]
        (row,) = [r for r in table.values() if str(r[key_of[change.category]]) == change.key]
        row[change.field] = change.new
    assert after == expected
    # Closed account, delivered orders and every shipment still hold what they held.
    accounts, her_orders = her_rows(before)
    for i in accounts:
        if before["customers"][i]["closed_at"] is not None:
            assert after["customers"][i] == before["customers"][i]
    for i in her_orders:
        if before["orders"][i]["status"] not in ("placed", "paid"):
            assert after["orders"][i] == before["orders"][i]
    assert after["shipments"] == before["shipments"]

    assert rectify_all(url, apply=True) == []
    assert snapshot(seeded_shop) == after


def test_only_the_carriers_that_received_the_old_value_are_told(
    url: str, seeded_shop: Engine
) -> None:
    """Parcels to her old Utrecht address went by DHL, to Amsterdam by PostNL: PostNL is told."""
    rows = snapshot(seeded_shop)
    _, her_orders = her_rows(rows)
    with seeded_shop.begin() as connection:
        for shipment in rows["shipments"].values():
            if shipment["order_id"] in her_orders:
                carrier = "PostNL" if shipment["recipient_street"] == "Lindengracht 42" else "DHL"
                connection.execute(
                    update(shipments)
                    .where(shipments.c.id == shipment["id"])
                    .values(carrier=carrier)
                )

    changes = AccountsConnector({"SHOP_DATABASE_URL": url}).rectify(SANNE, CORRECTIONS, apply=False)

    told = {change.field: change.recipients for change in changes}
    assert told == {
        "name": ("DHL", "PostNL"),
        "phone": ("DHL", "PostNL"),
        "street": ("PostNL",),
        "billing_city": (),
    }


def test_a_field_no_record_holds_is_refused(url: str) -> None:
    """A correction of something the shop cannot correct is a mistake, not silently dropped."""
    with pytest.raises(ValueError, match="email"):
        AccountsConnector({"SHOP_DATABASE_URL": url}).rectify(
            SANNE, {"email": "sanne@example.org"}, apply=False
        )


# --- restriction and consent -------------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [AccountsConnector, OrdersConnector, SubscriptionsConnector, SupportConnector]
)
def test_the_shop_has_no_storage_only_flag(url: str, cls: type[Connector]) -> None:
    """Restricting accounts, orders, subscriptions and support is an officer's manual task."""
    assert not cls.supports("restrict")
    with pytest.raises(ActionNotSupported):
        list(cls({"SHOP_DATABASE_URL": url}).restrict(SANNE))


def add_consents(engine: Engine, rows: Rows) -> dict[str, int]:
    """Adds consents under every variant of her address, one on her account, and a stranger's."""
    accounts, _ = her_rows(rows)
    current = max(accounts, key=lambda i: rows["customers"][i]["created_at"])
    stamp = datetime(2024, 5, 1, 10, 0)
    variants = {
        "shouted": ("SANNE.DEVRIES@EXAMPLE.NL", None),
        "tabbed": ("\tsanne.devries@example.nl", None),
        "blanks": ("Sanne.DeVries@Example.NL  ", None),
        "other address, her account": ("sanne.work@example.com", current),
        "stranger": ("sanne.devries@example.com", None),
    }
    ids = {}
    with engine.begin() as connection:
        for name, (email, customer_id) in variants.items():
            ids[name] = connection.execute(
                insert(marketing_consents)
                .values(email=email, customer_id=customer_id, consented_at=stamp, source="checkout")
                .returning(marketing_consents.c.id)
            ).scalar_one()
    return ids


@pytest.mark.parametrize(
    ("action", "done"), [("withdraw_consent", "withdrawn"), ("restrict", "restricted")]
)
def test_every_consent_of_hers_is_withdrawn_however_typed(
    url: str, seeded_shop: Engine, action: str, done: str
) -> None:
    """Every case and blank variant, and a consent on her account; a stranger's stays."""
    ids = add_consents(seeded_shop, snapshot(seeded_shop))
    before = snapshot(seeded_shop)
    accounts, _ = her_rows(before)
    hers = {
        i
        for i, r in before["marketing_consents"].items()
        if norm(r["email"]) == DEMO_EMAIL or r["customer_id"] in accounts
    }
    was_open = {i for i in hers if before["marketing_consents"][i]["withdrawn_at"] is None}
    assert {ids["shouted"], ids["tabbed"], ids["blanks"], ids["other address, her account"]} <= (
        was_open
    )
    assert len(hers - was_open) == 1  # the seed's consent she withdrew years ago
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    outcomes = list(getattr(MarketingConnector({"SHOP_DATABASE_URL": url}), action)(SANNE))

    end = datetime.now(UTC).replace(tzinfo=None)
    after = snapshot(seeded_shop)
    assert {(o.key, o.done) for o in outcomes} == {
        (str(i), done if i in was_open else "unchanged") for i in hers
    }
    expected = copy.deepcopy(before)
    for i in was_open:
        stamp = after["marketing_consents"][i]["withdrawn_at"]
        assert stamp is not None and start <= stamp <= end
        expected["marketing_consents"][i]["withdrawn_at"] = stamp
    assert after == expected
    assert after["marketing_consents"][ids["stranger"]]["withdrawn_at"] is None

    again = list(getattr(MarketingConnector({"SHOP_DATABASE_URL": url}), action)(SANNE))

    assert {(o.key, o.done) for o in again} == {(str(i), "unchanged") for i in hers}
    assert snapshot(seeded_shop) == after


def test_support_and_marketing_hold_nothing_to_correct(url: str, seeded_shop: Engine) -> None:
    """Messages, notes and consents are history or an address: rectification passes them by."""
    before = snapshot(seeded_shop)
    for cls in (SupportConnector, MarketingConnector):
        connector = cls({"SHOP_DATABASE_URL": url})
        assert list(connector.rectify(SANNE, CORRECTIONS, apply=True)) == []
    assert snapshot(seeded_shop) == before
    assert [c.supports("withdraw_consent") for c in CONNECTORS] == [False] * 4 + [True]
