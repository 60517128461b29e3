"""The subject's consents to e-mails with offers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from sqlalchemy import select, update

from dsar.connector import (
    Category,
    Change,
    Column,
    ColumnKind,
    Connector,
    Decision,
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
from .labels import CONSENT_SOURCES, labels_for
from .records import row_data
from .schema import customers, marketing_consents
from .subjects import customer_ids_of

CONSENT_FIELDS = (
    "email",
    "customer_number",
    "consented_at",
    "source",
    "ip_address",
    "withdrawn_at",
)

#: Whose consent it is is personal; when and where it was given, and its withdrawal, are
#: what a minimised record of consent would have to keep.
CONSENT_SHAPE = RecordShape(
    category="marketing_consents",
    table=marketing_consents,
    key="id",
    fields=CONSENT_FIELDS,
    personal={"email": "email", "customer_number": "customer_id", "ip_address": "ip_address"},
    blanks={"email": lambda _row: ""},
)


class MarketingConnector(Connector):
    """Consents given under the subject's address or on the subject's accounts."""

    name = "marketing"
    title = translatable("Cplus e-mails with offers")
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="marketing_consents",
            stopped_field="withdrawn_at",
            basis=(LegalBasis.CONSENT,),
            direct_marketing=True,
            title=translatable("Your consent to e-mails with offers"),
            fields=CONSENT_FIELDS,
            labels=labels_for(CONSENT_FIELDS),
            values={"source": CONSENT_SOURCES},
            purpose=translatable(
                "Sending emails with offers (privacy policy, processing purposes)."),
            legal_basis=translatable(
                "Consent, Art. 6(1)(a) GDPR. The policy does not name the basis for offers; it "
                'says: "If we process your personal data on the basis of your consent, you can '
                'always withdraw your consent, after which we will stop the processing."'
            ),
            recipients=(),
            retention=translatable(
                "Used until you withdraw your consent. The record of your consent and its "
                "withdrawal is kept for as long as we must be able to prove them, at most five "
                "years after you withdraw it; the policy states no period for it."
            ),
            source=translatable("You, where you gave your consent (see 'source')."),
            columns=(
                Column(translatable("Given"), ("consented_at",), ColumnKind.DATE),
                Column(translatable("Where"), ("source",)),
                Column(translatable("E-mail address"), ("email",)),
                Column(translatable("Withdrawn"), ("withdrawn_at",), ColumnKind.DATE),
            ),
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
        for row in streamed(engine, query):
            yield Record(
                category="marketing_consents",
                key=str(row["id"]),
                data=row_data(row, CONSENT_FIELDS),
            )

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Deletes (or minimises) consents by key, in one transaction."""
        wanted = decisions_by_category({"marketing_consents": CONSENT_SHAPE}, decisions)
        engine = shop_engine(shop_database_url(self.settings))
        with engine.begin() as connection:
            return carry_out(connection, CONSENT_SHAPE, wanted["marketing_consents"])

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Corrects nothing: a consent holds an address, which no correction changes."""
        return []

    def restrict(self, subject: Subject) -> list[Outcome]:
        """Stops marketing to the subject by withdrawing every consent; the records stay.

        The shop has no storage-only flag, but for consents a withdrawal is one: the
        record is kept, and nothing is sent on its basis any more.
        """
        return self._withdraw(subject, done="restricted")

    def withdraw_consent(self, subject: Subject) -> list[Outcome]:
        """Withdraws every consent under the address, however typed, or on the accounts."""
        return self._withdraw(subject, done="withdrawn")

    def _withdraw(self, subject: Subject, done: str) -> list[Outcome]:
        """Sets withdrawn_at on each of the subject's consents that is not withdrawn yet."""
        engine = shop_engine(shop_database_url(self.settings))
        query = (
            select(marketing_consents.c.id, marketing_consents.c.withdrawn_at)
            .where(
                email_matches(marketing_consents.c.email, subject.email)
                | marketing_consents.c.customer_id.in_(customer_ids_of(subject.email))
            )
            .order_by(marketing_consents.c.consented_at, marketing_consents.c.id)
        )
        with engine.begin() as connection:
            rows = connection.execute(query).all()
            open_ids = [row.id for row in rows if row.withdrawn_at is None]
            if open_ids:
                # The earlier withdrawal of a consent is its record; it is never overwritten.
                connection.execute(
                    update(marketing_consents)
                    .where(
                        marketing_consents.c.id.in_(open_ids),
                        marketing_consents.c.withdrawn_at.is_(None),
                    )
                    .values(withdrawn_at=shop_now())
                )
        return [
            Outcome(
                category="marketing_consents",
                key=str(row.id),
                done=done if row.id in open_ids else "unchanged",
                fields=("withdrawn_at",) if row.id in open_ids else (),
            )
            for row in rows
        ]
