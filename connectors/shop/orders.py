"""The subject's orders and their deliveries (privacy policy, section 3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import ClassVar

from sqlalchemy import ColumnElement, select

from connectors.shop.database import email_matches, shop_database_url, shop_engine
from connectors.shop.records import row_data
from connectors.shop.schema import customers, order_lines, orders, shipments
from connectors.shop.subjects import customer_ids_of
from dsar.connector import Category, Connector, JSONValue, Record, Subject

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

_ORDER_RETENTION = (
    '"We keep this information until your order is completed and seven years later '
    '(legal retention)."'
)


def subject_orders(email: str) -> ColumnElement[bool]:
    """The orders of the subject: placed on one of the accounts, or as a guest by address."""
    return orders.c.customer_id.in_(customer_ids_of(email)) | email_matches(orders.c.email, email)


class OrdersConnector(Connector):
    """Orders placed on the subject's accounts or as a guest, with lines and shipments."""

    name = "orders"
    title = "Cplus shop orders"
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="orders",
            title="Your orders",
            fields=(*ORDER_FIELDS, "lines"),
            purpose=(
                'Processing an order: "When you place an order with us, we use your personal '
                'data for proper processing of the order" (privacy policy, section 3).'
            ),
            legal_basis=(
                'Legal obligation, Art. 6(1)(c) GDPR: "We are legally obliged to do so." '
                "Processing the order also performs the contract of sale, Art. 6(1)(b) GDPR; "
                "the policy does not state that basis for orders."
            ),
            recipients=("The payment provider, which receives the payment details.",),
            retention=_ORDER_RETENTION,
            source=(
                "You, when you placed the order; your bank or credit card company for the "
                'payment information ("We also receive information about your payment from '
                'your bank or credit card company").'
            ),
        ),
        Category(
            name="shipments",
            title="Deliveries of your orders",
            fields=SHIPMENT_FIELDS,
            purpose=(
                'Delivery of your order: "We can then pass on your personal data to our '
                'delivery service to deliver the order to you" (privacy policy, section 3).'
            ),
            legal_basis=(
                "Performance of the contract of sale, Art. 6(1)(b) GDPR; the policy does not "
                "state a basis for deliveries."
            ),
            recipients=(
                "The carrier of the shipment (PostNL or DHL), which receives the recipient's "
                "name, address and phone number.",
            ),
            retention=f"As the order it delivers: {_ORDER_RETENTION}",
            source=(
                "You, with the delivery address of your order; the tracking number comes from "
                "the carrier."
            ),
        ),
    )

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields the subject's orders (lines nested), then the shipments, oldest first."""
        engine = shop_engine(shop_database_url(self.settings))
        matched = subject_orders(subject.email)
        order_query = (
            select(orders, customers.c.customer_number)
            .select_from(orders.outerjoin(customers, customers.c.id == orders.c.customer_id))
            .where(matched)
            .order_by(orders.c.placed_at, orders.c.id)
        )
        line_query = (
            select(order_lines)
            .where(order_lines.c.order_id.in_(select(orders.c.id).where(matched)))
            .order_by(order_lines.c.order_id, order_lines.c.id)
        )
        shipment_query = (
            select(shipments, orders.c.order_number)
            .select_from(shipments.join(orders, orders.c.id == shipments.c.order_id))
            .where(matched)
            .order_by(orders.c.placed_at, shipments.c.id)
        )
        with engine.connect() as connection:
            order_rows = connection.execute(order_query).mappings().all()
            line_rows = connection.execute(line_query).mappings().all()
            shipment_rows = connection.execute(shipment_query).mappings().all()

        lines: defaultdict[int, list[JSONValue]] = defaultdict(list)
        for line in line_rows:
            lines[line["order_id"]].append(row_data(line, LINE_FIELDS))
        for row in order_rows:
            yield Record(
                category="orders",
                key=row["order_number"],
                data={**row_data(row, ORDER_FIELDS), "lines": lines[row["id"]]},
            )
        for row in shipment_rows:
            # A shipment has no number of its own a customer would know; its row id is stable.
            yield Record(
                category="shipments",
                key=str(row["id"]),
                data=row_data(row, SHIPMENT_FIELDS),
            )
