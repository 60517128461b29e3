"""The subject's orders and their deliveries (privacy policy, section 3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import ClassVar

from sqlalchemy import Connection, delete, select
from sqlalchemy.engine import RowMapping

from dsar.connector import (
    Category,
    Change,
    Column,
    ColumnKind,
    Connector,
    Decision,
    Disposition,
    JSONValue,
    LegalBasis,
    Outcome,
    Record,
    Subject,
    translatable,
)

from .database import STREAM_ROWS, shop_database_url, shop_engine
from .erasure import (
    LEFT_ALONE,
    PAYMENT_PROVIDER,
    ErasureWork,
    RecordShape,
    decisions_by_category,
    load_rows,
    plan_erasure,
    write_erasure,
)
from .labels import ORDER_STATUSES, PAYMENT_METHODS, labels_for
from .records import row_data
from .rectification import (
    CarrierCopies,
    checked,
    corrections_in,
    write_corrections,
)
from .schema import customers, order_lines, orders, shipments
from .subjects import subject_orders

ORDER_FIELDS = (
    "order_number",
    "customer_number",
    "email",
    "name",
    "phone",
    "ship_street",
    "ship_postal_code",
    "ship_city",
    "ship_country",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "ip_address",
    "payment_method",
    "payment_reference",
    "total_cents",
    "currency",
    "status",
    "placed_at",
    "completed_at",
)
LINE_FIELDS = ("sku", "description", "quantity", "unit_price_cents")
SHIPMENT_FIELDS = (
    "order_number",
    "carrier",
    "tracking_number",
    "recipient_name",
    "recipient_street",
    "recipient_postal_code",
    "recipient_city",
    "recipient_country",
    "recipient_phone",
    "handed_over_at",
)

_ORDER_RETENTION = translatable(
    '"We keep this information until your order is completed and seven years later '
    '(legal retention)."'
)

#: Orders not yet handed to a carrier: the only ones whose data a correction still changes.
OPEN_STATUSES = ("placed", "paid")


def _payment_provider(row: RowMapping) -> tuple[str, ...]:
    """Names the payment provider when the order holds payment data it received."""
    held = row["payment_method"] or row["payment_reference"]
    return (PAYMENT_PROVIDER,) if held else ()


def _carrier(row: RowMapping) -> tuple[str, ...]:
    """Names the carrier that received the shipment's recipient details."""
    return (row["carrier"],) if row["carrier"] else ()


#: The order's own facts identify no one; every other field of an order does.
_ORDER_FACTS = frozenset(
    {"order_number", "customer_number", "total_cents", "currency", "status", "placed_at",
     "completed_at"}
)

#: The order's own facts (number, amounts, status, dates) identify no one; these fields do.
#: "lines" (what the person bought) is personal too, but lives in its own table: see erase.
ORDER_SHAPE = RecordShape(
    category="orders",
    table=orders,
    key="order_number",
    fields=(*ORDER_FIELDS, "lines"),
    personal={
        # The link to the account: clearing it is what leaves a fiscal record of no one.
        "customer_number": "customer_id",
        **{name: name for name in ORDER_FIELDS if name not in _ORDER_FACTS},
    },
    blanks={"email": lambda _row: ""},
    recipients=_payment_provider,
)

#: A shipment's carrier, date and order identify no one; the tracking number does, at the
#: carrier, so it goes with the recipient's details.
SHIPMENT_SHAPE = RecordShape(
    category="shipments",
    table=shipments,
    key="id",
    fields=SHIPMENT_FIELDS,
    personal={
        name: name
        for name in SHIPMENT_FIELDS
        if name == "tracking_number" or name.startswith("recipient_")
    },
    recipients=_carrier,
)

#: Where an unshipped order holds each correctable field; street and so on are where it goes.
ORDER_CORRECTIONS = {
    "name": "name",
    "phone": "phone",
    "street": "ship_street",
    "postal_code": "ship_postal_code",
    "city": "ship_city",
    "country": "ship_country",
    "billing_street": "billing_street",
    "billing_postal_code": "billing_postal_code",
    "billing_city": "billing_city",
    "billing_country": "billing_country",
}


class OrdersConnector(Connector):
    """Orders placed on the subject's accounts or as a guest, with lines and shipments."""

    name = "orders"
    title = translatable("Cplus shop orders")
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="orders",
            basis=(LegalBasis.LEGAL_OBLIGATION, LegalBasis.CONTRACT),
            title=translatable("Your orders"),
            fields=(*ORDER_FIELDS, "lines"),
            # The lines' own fields too: the spreadsheet copy names them in the order's row.
            labels=labels_for((*ORDER_FIELDS, "lines", *LINE_FIELDS)),
            values={"status": ORDER_STATUSES, "payment_method": PAYMENT_METHODS},
            purpose=translatable(
                'Processing an order: "When you place an order with us, we use your personal '
                'data for proper processing of the order" (privacy policy, section 3).'
            ),
            legal_basis=translatable(
                'Legal obligation, Art. 6(1)(c) GDPR: "We are legally obliged to do so." '
                "Processing the order also performs the contract of sale, Art. 6(1)(b) GDPR; "
                "the policy does not state that basis for orders."
            ),
            recipients=(translatable("The payment provider, which receives the payment details."),),
            retention=_ORDER_RETENTION,
            source=translatable(
                "You, when you placed the order; your bank or credit card company for the "
                'payment information ("We also receive information about your payment from '
                'your bank or credit card company").'
            ),
            columns=(
                Column(translatable("Order"), ("order_number",)),
                Column(translatable("Date"), ("placed_at",), ColumnKind.DATE),
                Column(translatable("Amount"), ("total_cents",), ColumnKind.MONEY),
                Column(translatable("Status"), ("status",)),
                Column(translatable("Items"), ("lines",), ColumnKind.COUNT),
                Column(translatable("Delivered to"),
                       ("name", "ship_street", "ship_postal_code", "ship_city")),
            ),
        ),
        Category(
            name="shipments",
            basis=(LegalBasis.CONTRACT,),
            title=translatable("Deliveries of your orders"),
            fields=SHIPMENT_FIELDS,
            labels=labels_for(SHIPMENT_FIELDS),
            purpose=translatable(
                'Delivery of your order: "We can then pass on your personal data to our '
                'delivery service to deliver the order to you" (privacy policy, section 3).'
            ),
            legal_basis=translatable(
                "Performance of the contract of sale, Art. 6(1)(b) GDPR; the policy does not "
                "state a basis for deliveries."
            ),
            recipients=(
                translatable("The carrier of the shipment (PostNL or DHL), which receives the "
                             "recipient's name, address and phone number."),
            ),
            retention=translatable(
                "With the order it delivers: seven years after it was handed to the carrier. "
                "It is not part of the sales records the law obliges us to keep, so if you "
                "ask us to erase your data, it is erased at once."
            ),
            source=translatable(
                "You, with the delivery address of your order; the tracking number comes from "
                "the carrier."
            ),
            columns=(
                Column(translatable("Order"), ("order_number",)),
                Column(translatable("Carrier"), ("carrier",)),
                Column(translatable("Handed over"), ("handed_over_at",), ColumnKind.DATE),
                Column(translatable("Tracking number"), ("tracking_number",)),
                Column(translatable("Recipient"), ("recipient_name", "recipient_street",
                                     "recipient_postal_code", "recipient_city")),
            ),
        ),
    )

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields the subject's orders (lines nested), then the shipments, oldest first."""
        engine = shop_engine(shop_database_url(self.settings))
        matched = subject_orders(subject.email, subject.held.get("orders", ()))
        order_query = (
            select(orders, customers.c.customer_number)
            .select_from(orders.outerjoin(customers, customers.c.id == orders.c.customer_id))
            .where(matched)
            .order_by(orders.c.placed_at, orders.c.id)
        )
        # In the orders' own order, so that each order's lines follow it in one pass.
        line_query = (
            select(order_lines, orders.c.placed_at.label("order_placed_at"))
            .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
            .where(matched)
            .order_by(orders.c.placed_at, orders.c.id, order_lines.c.id)
        )
        shipment_query = (
            select(shipments, orders.c.order_number)
            .select_from(shipments.join(orders, orders.c.id == shipments.c.order_id))
            .where(matched)
            .order_by(orders.c.placed_at, shipments.c.id)
        )
        # Rows stream from the database as the records are taken, so a customer with
        # thousands of orders costs no more memory than one with a few.
        with engine.connect() as plain:
            connection = plain.execution_options(yield_per=STREAM_ROWS)
            line_rows = iter(connection.execute(line_query).mappings())
            line = next(line_rows, None)
            for row in connection.execute(order_query).mappings():
                # Lines of an order that went between the two reads are passed over, so
                # they cannot hold up the lines of the orders after it.
                while line is not None and (line["order_placed_at"], line["order_id"]) < (
                        row["placed_at"], row["id"]):
                    line = next(line_rows, None)
                items: list[JSONValue] = []
                while line is not None and line["order_id"] == row["id"]:
                    items.append(row_data(line, LINE_FIELDS))
                    line = next(line_rows, None)
                yield Record(
                    category="orders",
                    key=row["order_number"],
                    data={**row_data(row, ORDER_FIELDS), "lines": items},
                )
            for row in connection.execute(shipment_query).mappings():
                # A shipment has no number of its own a customer would know; its row id is
                # stable.
                yield Record(
                    category="shipments",
                    key=str(row["id"]),
                    data=row_data(row, SHIPMENT_FIELDS),
                )

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Erases or minimises orders and shipments by key, in one transaction.

        An erased order takes its lines and shipments with it (they cannot outlive it); a
        shipment that had no decision of its own adds its carrier to the order's recipients.
        """
        wanted = decisions_by_category(
            {"orders": ORDER_SHAPE, "shipments": SHIPMENT_SHAPE}, decisions
        )
        engine = shop_engine(shop_database_url(self.settings))
        with engine.begin() as connection:
            order_rows = load_rows(connection, ORDER_SHAPE, wanted["orders"])
            erased = {
                order_rows[d.key]["id"]
                for d in wanted["orders"]
                if d.disposition is Disposition.ERASE and d.key in order_rows
            }
            shipment_rows = load_rows(
                connection,
                SHIPMENT_SHAPE,
                wanted["shipments"],
                also=shipments.c.order_id.in_(sorted(erased)) if erased else None,
            )
            shipment_work, carriers = _plan_shipments(wanted["shipments"], shipment_rows, erased)
            with_lines = _orders_with_lines(connection, [row["id"] for row in order_rows.values()])
            order_work, line_orders = _plan_orders(
                wanted["orders"], order_rows, with_lines, carriers
            )
            # Children before their order, or the foreign keys refuse the delete.
            write_erasure(connection, shipments, shipment_work)
            if line_orders:
                connection.execute(
                    delete(order_lines).where(order_lines.c.order_id.in_(line_orders))
                )
            write_erasure(connection, orders, order_work)
        return [*order_work.outcomes, *shipment_work.outcomes]

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Lists, or with apply=True makes, the corrections in orders not yet shipped.

        An order handed to a carrier records what was sent and is never corrected, nor are
        shipments. Billing fields went to the payment provider; a name, phone or address
        that a carrier received in an earlier shipment names that carrier (CarrierCopies).
        """
        wanted = checked(corrections)
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(orders)
            .where(subject_orders(subject.email), orders.c.status.in_(OPEN_STATUSES))
            .order_by(orders.c.placed_at, orders.c.id)
        )
        # One transaction: what is listed is what is written, even with apply=False.
        with engine.begin() as connection:
            rows = connection.execute(query).mappings().all()
            carriers = CarrierCopies.load(connection, subject.email, list(wanted) if rows else [])

            def recipients(name: str, old: JSONValue) -> tuple[str, ...]:
                """The payment provider for billing data, else the carriers that had it."""
                if name.startswith("billing_"):
                    return (PAYMENT_PROVIDER,)
                return carriers.received(name, old)

            found = corrections_in(
                rows,
                category="orders",
                key="order_number",
                columns=ORDER_CORRECTIONS,
                corrections=wanted,
                recipients=recipients,
            )
            if apply:
                write_corrections(connection, orders, found)
        return [correction.change for correction in found]


def _plan_shipments(
    decisions: Sequence[Decision], rows: Mapping[str, RowMapping], erased_orders: set[int]
) -> tuple[ErasureWork, dict[int, set[str]]]:
    """Plans the shipments' decisions, and deletes those of erased orders with them.

    Returns:
        The work, and for each erased order the carriers of its shipments that go without
        a decision of their own (the order's outcome must name them).

    Raises:
        ValueError: a shipment to be kept whose order is erased; it could not be kept.
    """
    decided = {decision.key for decision in decisions}
    for decision in decisions:
        row = rows.get(decision.key)
        if (
            row is not None
            and row["order_id"] in erased_orders
            and decision.disposition is not Disposition.ERASE
        ):
            raise ValueError(
                f"shipment {decision.key} is to {decision.disposition} but its order is erased"
            )
    work = plan_erasure(SHIPMENT_SHAPE, decisions, rows)
    carriers: defaultdict[int, set[str]] = defaultdict(set)
    for key, row in rows.items():
        if key not in decided and row["order_id"] in erased_orders:
            work.deletes.append(row["id"])
            carriers[row["order_id"]].update(_carrier(row))
    return work, carriers


def _orders_with_lines(connection: Connection, order_ids: list[int]) -> set[int]:
    """Returns which of these orders have lines, in one query."""
    if not order_ids:
        return set()
    query = select(order_lines.c.order_id).where(order_lines.c.order_id.in_(order_ids)).distinct()
    return set(connection.execute(query).scalars())


def _plan_orders(
    decisions: Sequence[Decision],
    rows: Mapping[str, RowMapping],
    with_lines: set[int],
    carriers: Mapping[int, set[str]],
) -> tuple[ErasureWork, list[int]]:
    """Plans the orders' decisions, and which orders' lines go with them.

    An erased order's lines go; a minimised order's go unless "lines" is kept.

    Returns:
        The work, and the ids of the orders whose lines are deleted.
    """
    work = plan_erasure(ORDER_SHAPE, decisions, rows)
    line_orders: list[int] = []
    outcomes: list[Outcome] = []
    for decision, outcome in zip(decisions, work.outcomes, strict=True):
        row = rows.get(decision.key)
        if row is None or decision.disposition in LEFT_ALONE:
            outcomes.append(outcome)
            continue
        erasing = decision.disposition is Disposition.ERASE
        if erasing or "lines" not in decision.keep_fields:
            line_orders.append(row["id"])
            if row["id"] in with_lines:
                outcome = replace(
                    outcome,
                    done="erased" if erasing else "minimised",
                    fields=(*outcome.fields, "lines"),
                    recipients=_payment_provider(row),
                )
        if erasing:
            outcome = replace(
                outcome,
                recipients=(*outcome.recipients, *sorted(carriers.get(row["id"], ()))),
            )
        outcomes.append(outcome)
    work.outcomes = outcomes
    return work, line_orders
