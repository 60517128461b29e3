"""The shop's tables, exactly as the shop defines them (cplus-shop-schema.md).

The shop owns this schema; dsar never migrates it. `create_demo_shop` builds it only for the
demo shop that `dsar shop seed` fills.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.types import TIMESTAMP

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_number", Text, unique=True, nullable=False),
    Column("email", Text, nullable=False),
    Column("name", Text),
    Column("street", Text),
    Column("postal_code", Text),
    Column("city", Text),
    Column("country", Text),
    Column("phone", Text),
    Column("billing_street", Text),
    Column("billing_postal_code", Text),
    Column("billing_city", Text),
    Column("billing_country", Text),
    Column("payment_method", Text),
    Column("payment_details", Text),
    Column("registration_ip", Text),
    Column("last_login_ip", Text),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("closed_at", TIMESTAMP, nullable=True),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_number", Text, unique=True, nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True),
    Column("email", Text, nullable=False),
    Column("name", Text),
    Column("phone", Text),
    Column("ship_street", Text),
    Column("ship_postal_code", Text),
    Column("ship_city", Text),
    Column("ship_country", Text),
    Column("billing_street", Text),
    Column("billing_postal_code", Text),
    Column("billing_city", Text),
    Column("billing_country", Text),
    Column("ip_address", Text),
    Column("payment_method", Text),
    Column("payment_reference", Text),
    Column("total_cents", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("placed_at", TIMESTAMP, nullable=False),
    Column("completed_at", TIMESTAMP, nullable=True),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("sku", Text),
    Column("description", Text),
    Column("quantity", Integer),
    Column("unit_price_cents", Integer),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("carrier", Text),
    Column("tracking_number", Text),
    Column("recipient_name", Text),
    Column("recipient_street", Text),
    Column("recipient_postal_code", Text),
    Column("recipient_city", Text),
    Column("recipient_country", Text),
    Column("recipient_phone", Text),
    Column("handed_over_at", TIMESTAMP),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("plan", Text),
    Column("status", Text, nullable=False),
    Column("started_at", TIMESTAMP, nullable=False),
    Column("terminated_at", TIMESTAMP, nullable=True),
    Column("billing_email", Text),
    Column("billing_name", Text),
    Column("billing_street", Text),
    Column("billing_postal_code", Text),
    Column("billing_city", Text),
    Column("billing_country", Text),
    Column("payment_method", Text),
    Column("payment_details", Text),
    Column("ip_address", Text),
)

contact_messages = Table(
    "contact_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_number", Text, nullable=True),
    Column("email", Text, nullable=False),
    Column("name", Text),
    Column("phone", Text),
    Column("address", Text),
    Column("subject", Text),
    Column("body", Text),
    Column("received_at", TIMESTAMP, nullable=False),
    Column("resolved_at", TIMESTAMP, nullable=True),
)

support_notes = Table(
    "support_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True),
    Column("email", Text, nullable=True),
    Column("channel", Text),
    Column("agent", Text),
    Column("body", Text),
    Column("created_at", TIMESTAMP, nullable=False),
)

marketing_consents = Table(
    "marketing_consents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", Text, nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=True),
    Column("consented_at", TIMESTAMP, nullable=False),
    Column("source", Text),
    Column("ip_address", Text),
    Column("withdrawn_at", TIMESTAMP, nullable=True),
)

# The shop's indexes: every e-mail column on its lower-cased value, every customer_id and
# order_id. customer_number and order_number are indexed by their UNIQUE constraints.
Index("ix_customers_email_lower", func.lower(customers.c.email))
Index("ix_orders_email_lower", func.lower(orders.c.email))
Index("ix_orders_customer_id", orders.c.customer_id)
Index("ix_order_lines_order_id", order_lines.c.order_id)
Index("ix_shipments_order_id", shipments.c.order_id)
Index("ix_subscriptions_customer_id", subscriptions.c.customer_id)
Index("ix_subscriptions_billing_email_lower", func.lower(subscriptions.c.billing_email))
Index("ix_contact_messages_email_lower", func.lower(contact_messages.c.email))
Index("ix_contact_messages_customer_number", contact_messages.c.customer_number)
Index("ix_support_notes_customer_id", support_notes.c.customer_id)
Index("ix_support_notes_email_lower", func.lower(support_notes.c.email))
Index("ix_marketing_consents_email_lower", func.lower(marketing_consents.c.email))
Index("ix_marketing_consents_customer_id", marketing_consents.c.customer_id)


def create_demo_shop(engine: Engine) -> None:
    """Creates the shop's tables and indexes where they do not exist yet (demo shop only)."""
    metadata.create_all(engine)
