"""The subject's website accounts in the shop (privacy policy, section 1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from sqlalchemy import select

from connectors.shop.database import email_matches, shop_database_url, shop_engine
from connectors.shop.records import row_data
from connectors.shop.schema import customers
from dsar.connector import Category, Connector, Record, Subject

ACCOUNT_FIELDS = (
    "customer_number",
    "email",
    "name",
    "street",
    "postal_code",
    "city",
    "country",
    "phone",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "payment_method",
    "payment_details",
    "registration_ip",
    "last_login_ip",
    "created_at",
    "closed_at",
)


class AccountsConnector(Connector):
    """Every account registered under the subject's address, a closed one included."""

    name = "accounts"
    title = "Cplus shop accounts"
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="account",
            title="Your account",
            fields=ACCOUNT_FIELDS,
            purpose=(
                "Creating your website account, where you can log in to view, change and/or "
                'delete data; "so that you do not have to fill in everything all the time and '
                'we can contact you more easily if necessary" (privacy policy, section 1).'
            ),
            legal_basis=(
                'Performance of a contract, Art. 6(1)(b) GDPR: "We need this information in '
                'the context of the contract we conclude with you."'
            ),
            recipients=(),
            retention='"We store this information until you delete your user account."',
            source="You, when you registered and when you changed your account.",
        ),
    )

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields each account under the subject's address, oldest first."""
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(customers)
            .where(email_matches(customers.c.email, subject.email))
            .order_by(customers.c.created_at, customers.c.id)
        )
        with engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        for row in rows:
            yield Record(
                category="account",
                key=row["customer_number"],
                data=row_data(row, ACCOUNT_FIELDS),
            )
