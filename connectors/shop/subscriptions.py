"""The subject's subscriptions (privacy policy, section 2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from sqlalchemy import select

from connectors.shop.database import shop_database_url, shop_engine
from connectors.shop.records import row_data
from connectors.shop.schema import customers, subscriptions
from connectors.shop.subjects import customer_ids_of
from dsar.connector import Category, Connector, Record, Subject

SUBSCRIPTION_FIELDS = (
    "customer_number",
    "plan",
    "status",
    "started_at",
    "terminated_at",
    "billing_email",
    "billing_name",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "payment_method",
    "payment_details",
    "ip_address",
)


class SubscriptionsConnector(Connector):
    """Subscriptions taken out on any of the subject's accounts, cancelled ones included."""

    name = "subscriptions"
    title = "Cplus subscriptions"
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="subscriptions",
            title="Your subscriptions",
            fields=SUBSCRIPTION_FIELDS,
            purpose=(
                'Taking out a subscription: "we use your personal data to process the payment" '
                "(privacy policy, section 2)."
            ),
            legal_basis=(
                'Performance of a contract, Art. 6(1)(b) GDPR: "We need this information in '
                'the context of the contract we conclude with you." After termination the '
                'billing records are kept under a legal obligation, Art. 6(1)(c) GDPR ("legal '
                'retention obligation").'
            ),
            recipients=("The payment provider, which receives the payment details.",),
            retention=(
                '"We keep this information for two years after termination and seven years '
                'thereafter (legal retention obligation)."'
            ),
            source="You, when you took out the subscription.",
        ),
    )

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields each subscription on the subject's accounts, oldest first."""
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(subscriptions, customers.c.customer_number)
            .select_from(
                subscriptions.join(customers, customers.c.id == subscriptions.c.customer_id)
            )
            .where(subscriptions.c.customer_id.in_(customer_ids_of(subject.email)))
            .order_by(subscriptions.c.started_at, subscriptions.c.id)
        )
        with engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        for row in rows:
            # A subscription has no number of its own; its row id is stable.
            yield Record(
                category="subscriptions",
                key=str(row["id"]),
                data=row_data(row, SUBSCRIPTION_FIELDS),
            )
