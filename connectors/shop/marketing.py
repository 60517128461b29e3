"""The subject's consents to e-mails with offers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from sqlalchemy import select

from connectors.shop.database import email_matches, shop_database_url, shop_engine
from connectors.shop.records import row_data
from connectors.shop.schema import customers, marketing_consents
from connectors.shop.subjects import customer_ids_of
from dsar.connector import Category, Connector, Record, Subject

CONSENT_FIELDS = (
    "email",
    "customer_number",
    "consented_at",
    "source",
    "ip_address",
    "withdrawn_at",
)


class MarketingConnector(Connector):
    """Consents given under the subject's address or on the subject's accounts."""

    name = "marketing"
    title = "Cplus e-mails with offers"
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="marketing_consents",
            title="Your consent to e-mails with offers",
            fields=CONSENT_FIELDS,
            purpose="Sending emails with offers (privacy policy, processing purposes).",
            legal_basis=(
                "Consent, Art. 6(1)(a) GDPR. The policy does not name the basis for offers; it "
                'says: "If we process your personal data on the basis of your consent, you can '
                'always withdraw your consent, after which we will stop the processing."'
            ),
            recipients=(),
            retention=(
                "Used until you withdraw your consent. The policy states no period for keeping "
                "the record of a consent or its withdrawal."
            ),
            source="You, where you gave your consent (see 'source').",
        ),
    )

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields each consent of the subject, oldest first, withdrawn ones included."""
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(marketing_consents, customers.c.customer_number)
            .select_from(
                marketing_consents.outerjoin(
                    customers, customers.c.id == marketing_consents.c.customer_id
                )
            )
            .where(
                email_matches(marketing_consents.c.email, subject.email)
                | marketing_consents.c.customer_id.in_(customer_ids_of(subject.email))
            )
            .order_by(marketing_consents.c.consented_at, marketing_consents.c.id)
        )
        with engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        for row in rows:
            yield Record(
                category="marketing_consents",
                key=str(row["id"]),
                data=row_data(row, CONSENT_FIELDS),
            )
