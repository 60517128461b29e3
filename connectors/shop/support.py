"""The subject's contact-form messages and customer-service notes (policy, sections 6 and 7)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Engine, Select, or_, select

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

from .database import email_matches, shop_database_url, shop_engine, streamed
from .erasure import RecordShape, carry_out, decisions_by_category
from .labels import CHANNELS, labels_for
from .records import row_data
from .redaction import (
    REDACTED_FLAG,
    Customer,
    Redactor,
    customer_numbers_in,
    email_addresses_in,
)
from .schema import contact_messages, customers, support_notes
from .subjects import customer_ids_of, customer_numbers_of

MESSAGE_FIELDS = (
    "customer_number",
    "email",
    "name",
    "phone",
    "address",
    "subject",
    "body",
    "received_at",
    "resolved_at",
)
NOTE_FIELDS = ("customer_number", "email", "channel", "agent", "body", "created_at")

#: The fields written in free text, where other customers may be named.
FREE_TEXT = ("subject", "body")

#: Who wrote, and what: all personal. When it came and was resolved identifies no one.
MESSAGE_SHAPE = RecordShape(
    category="contact_messages",
    table=contact_messages,
    key="id",
    fields=MESSAGE_FIELDS,
    personal={name: name for name in MESSAGE_FIELDS if name not in ("received_at", "resolved_at")},
    blanks={"email": lambda _row: ""},
)

#: The link to the person and what the agent wrote are personal; the agent, the channel and
#: the date are the shop's own (the agent's name is the agent's data, not the subject's).
NOTE_SHAPE = RecordShape(
    category="support_notes",
    table=support_notes,
    key="id",
    fields=NOTE_FIELDS,
    personal={"customer_number": "customer_id", "email": "email", "body": "body"},
)


class SupportConnector(Connector):
    """Contact-form messages and agents' notes about the subject, other customers redacted."""

    name = "support"
    title = translatable("Cplus customer service")
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name="contact_messages",
            basis=(LegalBasis.LEGITIMATE_INTERESTS,),
            title=translatable("Your messages through the contact form"),
            fields=MESSAGE_FIELDS,
            labels=labels_for(MESSAGE_FIELDS),
            purpose=translatable(
                'Processing questions via the contact form; "This way we have the information '
                "at hand for follow-up questions. It also allows us to train our customer "
                'service to get even better" (privacy policy, section 6).'
            ),
            legal_basis=translatable(
                "Legitimate interests, Art. 6(1)(f) GDPR, in answering the question you sent "
                "and follow-up questions; the policy does not state a legal basis for this."
            ),
            recipients=(),
            retention=translatable(
                '"We keep this information until we are sure that you are satisfied with our '
                'response, and for up to six months afterwards."'
            ),
            source=translatable(
                "You, through the contact form: returned as you wrote it. A message sent "
                "from another address and found by your customer number has other "
                "people's details redacted."),
            columns=(
                Column(translatable("Received"), ("received_at",), ColumnKind.DATE),
                Column(translatable("Subject"), ("subject",)),
                Column(translatable("Message"), ("body",)),
                Column(translatable("Resolved"), ("resolved_at",), ColumnKind.DATE),
            ),
        ),
        Category(
            name="support_notes",
            basis=(LegalBasis.LEGITIMATE_INTERESTS,),
            title=translatable("Customer service notes about you"),
            fields=NOTE_FIELDS,
            labels=labels_for(NOTE_FIELDS, body=translatable("note")),
            values={"channel": CHANNELS},
            purpose=translatable(
                'Processing questions to customer service: "To help you quickly with questions, '
                'we use your data and make notes that we keep. Handy if you contact us again." '
                'and "In this way you help us to analyze and improve our services" (privacy '
                "policy, section 7)."
            ),
            legal_basis=translatable(
                "Legitimate interests, Art. 6(1)(f) GDPR, in helping you when you contact us "
                "again; the policy does not state a legal basis for this."
            ),
            recipients=(),
            retention=translatable(
                "As long as we may need a note to help you, at most two years after it was "
                'made. The policy states no period; it says only that we "make notes that we '
                'keep".'
            ),
            source=translatable(
                "Our customer service agents, during your calls and e-mails with us. Other "
                "customers named in them are redacted."
            ),
            columns=(
                Column(translatable("Date"), ("created_at",), ColumnKind.DATE),
                Column(translatable("By"), ("channel",)),
                Column(translatable("Note"), ("body",)),
            ),
        ),
    )

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields the subject's contact messages, then the notes, oldest first, redacted."""
        engine = shop_engine(shop_database_url(self.settings))
        message_query = (
            select(contact_messages)
            .where(
                contact_messages.c.customer_number.in_(customer_numbers_of(subject.email))
                | email_matches(contact_messages.c.email, subject.email)
            )
            .order_by(contact_messages.c.received_at, contact_messages.c.id)
        )
        note_query = (
            select(support_notes, customers.c.customer_number)
            .select_from(
                support_notes.outerjoin(customers, customers.c.id == support_notes.c.customer_id)
            )
            .where(
                support_notes.c.customer_id.in_(customer_ids_of(subject.email))
                | email_matches(support_notes.c.email, subject.email)
            )
            .order_by(support_notes.c.created_at, support_notes.c.id)
        )
        # Two passes, each streamed: the first learns whom all the texts point at, so that
        # a name is redacted in every text once any text names that customer's number or
        # address; the second yields the records. A text added between the passes that
        # points at someone new has that customer loaded before it is yielded.
        redaction = _Redaction(engine, subject.email, (
            text for query in (message_query, note_query)
            for row in streamed(engine, _texts_of(query)) for text in row.values()))
        own_address = subject.email.strip().lower()
        for row in streamed(engine, message_query):
            # A message sent from the subject's own address holds their own words: returned
            # as written. One found by a customer number alone may be someone else's.
            own = (row["email"] or "").strip().lower() == own_address
            yield _redacted_record("contact_messages", row, MESSAGE_FIELDS,
                                   None if own else redaction.of(row))
        for row in streamed(engine, note_query):
            yield _redacted_record("support_notes", row, NOTE_FIELDS, redaction.of(row))

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Deletes (or minimises) messages and notes by key, in one transaction."""
        wanted = decisions_by_category(
            {"contact_messages": MESSAGE_SHAPE, "support_notes": NOTE_SHAPE}, decisions
        )
        engine = shop_engine(shop_database_url(self.settings))
        with engine.begin() as connection:
            return [
                *carry_out(connection, MESSAGE_SHAPE, wanted["contact_messages"]),
                *carry_out(connection, NOTE_SHAPE, wanted["support_notes"]),
            ]

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Corrects nothing: messages and notes record what was said then, not current data."""
        return []


def _texts_of(query: Select[Any]) -> Select[Any]:
    """The same query for the free texts of its rows alone."""
    return query.with_only_columns(
        *(column for column in query.selected_columns if column.name in FREE_TEXT))


class _Redaction:
    """The redactor of a subject's texts: the subject's accounts and every customer the
    texts point at by customer number or address, loaded as they become known."""

    def __init__(self, engine: Engine, email: str, texts: Iterable[str | None]) -> None:
        """Learns whom `texts` point at, one text at a time, and loads them in one query."""
        self.engine, self.email = engine, email
        self.numbers: set[str] = set()
        self.addresses: set[str] = set()
        self.found: list[Customer] = []
        for text in texts:
            self.numbers |= customer_numbers_in((text,))
            self.addresses |= email_addresses_in((text,))
        self.redactor = self._load(self.numbers, {email, *self.addresses})

    def of(self, row: Mapping[Any, Any]) -> Redactor:
        """The redactor for a row, knowing every customer its texts point at."""
        texts = [row[name] for name in FREE_TEXT if name in row]
        numbers = customer_numbers_in(texts) - self.numbers
        addresses = email_addresses_in(texts) - self.addresses
        if numbers or addresses:  # written since the first pass
            self.numbers |= numbers
            self.addresses |= addresses
            self.redactor = self._load(numbers, addresses)
        return self.redactor

    def _load(self, numbers: set[str], addresses: set[str]) -> Redactor:
        """Adds the customers with these numbers or addresses to those redacted."""
        conditions = [email_matches(customers.c.email, address) for address in sorted(addresses)]
        if numbers:
            conditions.append(customers.c.customer_number.in_(sorted(numbers)))
        query = select(customers.c.customer_number, customers.c.name, customers.c.email).where(
            or_(*conditions))
        with self.engine.connect() as connection:
            self.found += [
                Customer(customer_number=row.customer_number, name=row.name, email=row.email)
                for row in connection.execute(query)
            ]
        return Redactor.for_subject(self.email, self.found)


def _redacted_record(
    category: str, row: Mapping[Any, Any], fields: tuple[str, ...], redactor: Redactor | None
) -> Record:
    """Builds the record of one row with other people redacted from its free text (none
    when there is no redactor: the subject's own words)."""
    data = row_data(row, fields)
    redacted = False
    for name in FREE_TEXT:
        if name in data and redactor is not None:
            data[name], changed = redactor.redact(row[name])
            redacted = redacted or changed
    # Neither table has a number a customer would know; the row id is stable.
    return Record(
        category=category,
        key=str(row["id"]),
        data=data,
        flags=(REDACTED_FLAG,) if redacted else (),
    )
