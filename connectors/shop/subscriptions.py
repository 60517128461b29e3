"""The subject's subscriptions (privacy policy, section 2)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from dsar.connector import (
    Category,
    Change,
    Column,
    ColumnKind,
    Connector,
    Decision,
    JSONValue,
    LegalBasis,
    Outcome,
    Record,
    Subject,
    translatable,
)

from .database import shop_database_url, shop_engine, streamed
from .erasure import (
    PAYMENT_PROVIDER,
    RecordShape,
    carry_out,
    decisions_by_category,
)
from .labels import PAYMENT_METHODS, SUBSCRIPTION_STATUSES, labels_for
from .records import row_data
from .rectification import checked, corrections_in, write_corrections
from .schema import customers, subscriptions
from .subjects import customer_ids_of

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


def _payment_provider(row: RowMapping) -> tuple[str, ...]:
    """Names the payment provider when the subscription holds payment data it received."""
    return (PAYMENT_PROVIDER,) if row["payment_method"] or row["payment_details"] else ()


#: Everything the subscriber gave is personal. The plan, status and dates are the contract's
#: own facts. The link to the account stays (the shop's schema requires it); an erased
#: account is a tombstone without personal data, so the link then leads to no one.
SUBSCRIPTION_SHAPE = RecordShape(
    category="subscriptions",
    table=subscriptions,
    key="id",
    fields=SUBSCRIPTION_FIELDS,
    personal={
        name: name
        for name in SUBSCRIPTION_FIELDS
        if name not in ("customer_number", "plan", "status", "started_at", "terminated_at")
    },
    recipients=_payment_provider,
)

#: Where an active subscription holds each correctable field: it has billing fields only.
SUBSCRIPTION_CORRECTIONS = {
    "name": "billing_name",
    "billing_street": "billing_street",
    "billing_postal_code": "billing_postal_code",
    "billing_city": "billing_city",
    "billing_country": "billing_country",
}


class SubscriptionsConnector(Connector):
    """Subscriptions taken out on any of the subject's accounts, cancelled ones included."""

    name = "subscriptions"
    title = translatable("Cplus subscriptions")
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="subscriptions",
            basis=(LegalBasis.CONTRACT, LegalBasis.LEGAL_OBLIGATION),
            title=translatable("Your subscriptions"),
            fields=SUBSCRIPTION_FIELDS,
            labels=labels_for(SUBSCRIPTION_FIELDS),
            values={"status": SUBSCRIPTION_STATUSES, "payment_method": PAYMENT_METHODS},
            purpose=translatable(
                'Taking out a subscription: "we use your personal data to process the payment" '
                "(privacy policy, section 2)."
            ),
            legal_basis=translatable(
                'Performance of a contract, Art. 6(1)(b) GDPR: "We need this information in '
                'the context of the contract we conclude with you." After termination the '
                'billing records are kept under a legal obligation, Art. 6(1)(c) GDPR ("legal '
                'retention obligation").'
            ),
            recipients=(translatable("The payment provider, which receives the payment details."),),
            retention=translatable(
                '"We keep this information for two years after termination and seven years '
                'thereafter (legal retention obligation)."'
            ),
            source=translatable("You, when you took out the subscription."),
            columns=(
                Column(translatable("Plan"), ("plan",)),
                Column(translatable("Status"), ("status",)),
                Column(translatable("Started"), ("started_at",), ColumnKind.DATE),
                Column(translatable("Ended"), ("terminated_at",), ColumnKind.DATE),
                Column(translatable("Billed to"),
                       ("billing_name", "billing_street", "billing_postal_code", "billing_city",
                        "billing_country")),
                Column(translatable("Paid by"), ("payment_method",)),
            ),
        ),
    )

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields each subscription on the subject's accounts, oldest first."""
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(subscriptions, customers.c.customer_number)
            .select_from(
                subscriptions.outerjoin(customers,
                                        customers.c.id == subscriptions.c.customer_id)
            )
            # Those an earlier erasure kept by law are found by key: their account is gone.
            .where(subscriptions.c.customer_id.in_(customer_ids_of(subject.email))
                   | subscriptions.c.id.in_(
                       [int(key) for key in subject.held.get("subscriptions", ())
                        if key.isdigit()]))
            .order_by(subscriptions.c.started_at, subscriptions.c.id)
        )
        for row in streamed(engine, query):
            # A subscription has no number of its own; its row id is stable.
            yield Record(
                category="subscriptions",
                key=str(row["id"]),
                data=row_data(row, SUBSCRIPTION_FIELDS),
            )

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Deletes or minimises subscriptions by key, in one transaction."""
        wanted = decisions_by_category({"subscriptions": SUBSCRIPTION_SHAPE}, decisions)
        engine = shop_engine(shop_database_url(self.settings))
        with engine.begin() as connection:
            return carry_out(connection, SUBSCRIPTION_SHAPE, wanted["subscriptions"])

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Lists, or with apply=True makes, the corrections in active subscriptions.

        A cancelled subscription is a billing record kept under a legal duty and keeps
        what it held. The payment provider bills the subscriber and hears of each change.
        """
        wanted = checked(corrections)
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(subscriptions)
            .where(
                subscriptions.c.customer_id.in_(customer_ids_of(subject.email)),
                subscriptions.c.status == "active",
            )
            .order_by(subscriptions.c.started_at, subscriptions.c.id)
        )

        def recipients(_name: str, _old: JSONValue) -> tuple[str, ...]:
            """The payment provider, which bills the subscription with these details."""
            return (PAYMENT_PROVIDER,)

        # One transaction: what is listed is what is written, even with apply=False.
        with engine.begin() as connection:
            rows = connection.execute(query).mappings().all()
            found = corrections_in(
                rows,
                category="subscriptions",
                key="id",
                columns=SUBSCRIPTION_CORRECTIONS,
                corrections=wanted,
                recipients=recipients,
            )
            if apply:
                write_corrections(connection, subscriptions, found)
        return [correction.change for correction in found]
