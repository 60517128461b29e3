"""Erasing a customer from the free text of other people's records.

An agent's note about one customer may name another ("her neighbour Anne Latier, C100120").
When that other customer is erased, such mentions go too. Only texts that carry the
customer's number or address are rewritten: a name alone is too common to search for.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table, func, or_, select, update

from dsar.connector import Outcome

from .redaction import Customer, without
from .schema import contact_messages, support_notes

#: The free-text columns that may name a customer, per table.
TEXTS: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (support_notes, ("body",)),
    (contact_messages, ("subject", "body")),
)


def erase_mentions(connection: Connection, erased: Iterable[Customer]) -> list[Outcome]:
    """Rewrites every text that names an erased customer; one query per table.

    The search reads every row of the table (a pattern inside a text has no index to use),
    so each table is read once, for all its text columns together.
    """
    erased = [c for c in erased if c.customer_number or c.email.strip()]
    outcomes = []
    for table, column_names in TEXTS:
        columns = [table.c[name] for name in column_names]
        needles = [column.contains(c.customer_number, autoescape=True)
                   for column in columns for c in erased if c.customer_number]
        needles += [func.lower(column).contains(c.email.strip().lower(), autoescape=True)
                    for column in columns for c in erased if c.email.strip()]
        if not needles:
            continue
        for row in connection.execute(select(table.c.id, *columns).where(or_(*needles))).all():
            for column_name, original in zip(column_names, row[1:], strict=True):
                text, changed = original, False
                # Only a text that names the customer by number or address is rewritten
                # (a name alone is too common), though another column of its row may.
                for customer in erased:
                    if _names(original, customer):
                        text, hit = without(customer, text)
                        changed = changed or hit
                if changed:
                    connection.execute(update(table).where(table.c.id == row[0])
                                       .values({column_name: text}))
                    outcomes.append(Outcome(table.name, str(row[0]), "mention_removed",
                                            fields=(column_name,)))
    return outcomes


def _names(text: str | None, customer: Customer) -> bool:
    """Whether a text holds the customer's number or e-mail address."""
    if not text:
        return False
    email = customer.email.strip().lower()
    return bool(customer.customer_number and customer.customer_number in text) or bool(
        email and email in text.lower())
