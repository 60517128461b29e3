"""The subject's website accounts in the shop (privacy policy, section 1)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from dsar.connector import (
    Category,
    Change,
    Column,
    ColumnKind,
    Connector,
    Decision,
    Disposition,
    LegalBasis,
    Outcome,
    Record,
    Subject,
    translatable,
)

from .database import (
    email_matches,
    shop_database_url,
    shop_engine,
    shop_now,
    streamed,
)
from .erasure import RecordShape, carry_out, decisions_by_category
from .labels import PAYMENT_METHODS, labels_for
from .mentions import erase_mentions
from .records import row_data
from .rectification import (
    CORRECTABLE,
    CarrierCopies,
    checked,
    corrections_in,
    write_corrections,
)
from .redaction import Customer
from .schema import customers

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

#: An erased account stays as a tombstone, since orders and subscriptions point at it; every
#: field but its dates is personal and cleared. The customer number goes too (contact
#: messages name people by it), replaced by a value that is unique and says nothing.
ACCOUNT_SHAPE = RecordShape(
    category="account",
    table=customers,
    key="customer_number",
    fields=ACCOUNT_FIELDS,
    personal={name: name for name in ACCOUNT_FIELDS if name not in ("created_at", "closed_at")},
    blanks={
        "customer_number": lambda row: f"ERASED-{row['id']}",
        "email": lambda _row: "",
    },
)


def _closed_now(row: RowMapping) -> Mapping[str, Any]:
    """Closes an erased account that was still open: nobody can log in to a tombstone."""
    return {"closed_at": shop_now()} if row["closed_at"] is None else {}


class AccountsConnector(Connector):
    """Every account registered under the subject's address, a closed one included."""

    name = "accounts"
    title = translatable("Cplus shop accounts")
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="account",
            basis=(LegalBasis.CONTRACT,),
            title=translatable("Your account"),
            fields=ACCOUNT_FIELDS,
            labels=labels_for(ACCOUNT_FIELDS),
            values={"payment_method": PAYMENT_METHODS},
            purpose=translatable(
                "Creating your website account, where you can log in to view, change and/or "
                'delete data; "so that you do not have to fill in everything all the time and '
                'we can contact you more easily if necessary" (privacy policy, section 1).'
            ),
            legal_basis=translatable(
                'Performance of a contract, Art. 6(1)(b) GDPR: "We need this information in '
                'the context of the contract we conclude with you."'
            ),
            recipients=(),
            retention=translatable(
                '"We store this information until you delete your user account."'),
            source=translatable("You, when you registered and when you changed your account."),
            columns=(
                Column(translatable("Customer number"), ("customer_number",)),
                Column(translatable("Name"), ("name",)),
                Column(translatable("Address"), ("street", "postal_code", "city", "country")),
                Column(translatable("Phone"), ("phone",)),
                Column(translatable("Opened"), ("created_at",), ColumnKind.DATE),
                Column(translatable("Closed"), ("closed_at",), ColumnKind.DATE),
            ),
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
        for row in streamed(engine, query):
            yield Record(
                category="account",
                key=row["customer_number"],
                data=row_data(row, ACCOUNT_FIELDS),
            )

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Turns each erased account into a tombstone without personal data, found by number.

        An erased account's number is gone, so a second run finds nothing under it and
        reports "unchanged".
        """
        wanted = decisions_by_category({"account": ACCOUNT_SHAPE}, decisions)
        engine = shop_engine(shop_database_url(self.settings))
        numbers = [d.key for d in wanted["account"] if d.disposition is Disposition.ERASE]
        with engine.begin() as connection:
            # Who they were, read before the tombstone replaces it: their mentions go too.
            erased = [
                Customer(row.customer_number, row.name, row.email)
                for row in connection.execute(
                    select(customers.c.customer_number, customers.c.name, customers.c.email)
                    .where(customers.c.customer_number.in_(numbers))
                )
            ] if numbers else []
            outcomes = carry_out(connection, ACCOUNT_SHAPE, wanted["account"],
                                 tombstone=_closed_now)
            return outcomes + erase_mentions(connection, erased)

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Lists, or with apply=True makes, the corrections in the subject's open accounts.

        A closed account is history and keeps what it held. The carriers that received a
        corrected name, phone or address in a shipment are the change's recipients.
        """
        wanted = checked(corrections)
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(customers)
            .where(email_matches(customers.c.email, subject.email), customers.c.closed_at.is_(None))
            .order_by(customers.c.created_at, customers.c.id)
        )
        # One transaction: what is listed is what is written, even with apply=False.
        with engine.begin() as connection:
            rows = connection.execute(query).mappings().all()
            fields = list(wanted) if rows else []
            carriers = CarrierCopies.load(connection, subject.email, fields)
            found = corrections_in(
                rows,
                category="account",
                key="customer_number",
                columns={name: name for name in CORRECTABLE},
                corrections=wanted,
                recipients=carriers.received,
            )
            if apply:
                write_corrections(connection, customers, found)
        return [correction.change for correction in found]
