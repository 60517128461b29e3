"""Removing other people from free text before it reaches the subject (Art. 15(4) GDPR).

Support notes are written by agents and may name another customer. Redaction protects
third parties; it never takes from people what they wrote themselves, so a contact message
sent from the subject's own address is returned as written (the connector decides that).
This module is pure: the connector finds the tokens, loads the customers they point at in
one query, and hands them here with the subject's own accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: What replaces another person's number, name or e-mail address: it says only that
#: someone else's data was here, and never calls a stranger a customer.
PLACEHOLDER = "[another person]"

#: The flag a Record gets when something in it was redacted.
REDACTED_FLAG = "third_party_redacted"

#: A shop customer number: "C" and six digits (see seed.py), standing on its own.
CUSTOMER_NUMBER = re.compile(r"(?<![A-Za-z0-9])C\d{6}(?!\d)")

#: An e-mail address as people write it in running text.
EMAIL_ADDRESS = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}"
)


@dataclass(frozen=True)
class Customer:
    """A shop account as far as redaction needs it."""

    customer_number: str
    name: str | None
    email: str


def customer_numbers_in(texts: Iterable[str | None]) -> set[str]:
    """Returns every token in the texts that looks like a shop customer number."""
    return {match for text in texts if text for match in CUSTOMER_NUMBER.findall(text)}


def email_addresses_in(texts: Iterable[str | None]) -> set[str]:
    """Returns every e-mail address in the texts, lower-cased."""
    return {match.lower() for text in texts if text for match in EMAIL_ADDRESS.findall(text)}


def _name_pattern(name: str) -> re.Pattern[str]:
    """Returns a pattern for a full name as a whole phrase, any case, any spacing."""
    words = [re.escape(word) for word in name.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Redactor:
    """Redacts other customers from one subject's free text, never the subject's own details."""

    subject_email: str
    own_numbers: frozenset[str]
    name_patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def for_subject(cls, subject_email: str, customers: Iterable[Customer]) -> Redactor:
        """Builds a redactor from the customers the texts point at and the subject's accounts.

        Args:
            subject_email: the subject's verified address.
            customers: the subject's own accounts and the accounts named in the texts; an
                account is the subject's when its address is the subject's.

        Returns:
            A redactor that keeps the subject's numbers, names and address.
        """
        email = subject_email.strip().lower()
        own = [c for c in customers if c.email.strip().lower() == email]
        others = [c for c in customers if c.email.strip().lower() != email]
        own_names = {" ".join(c.name.split()).lower() for c in own if c.name}
        # A namesake of the subject is not redacted: hiding the name would hide the subject's own.
        # Longest first, so "Jan de Vries" goes whole before a shorter namesake could split it.
        other_names = sorted(
            {
                " ".join(c.name.split())
                for c in others
                if c.name and c.name.strip() and " ".join(c.name.split()).lower() not in own_names
            },
            key=lambda name: (-len(name), name.lower()),
        )
        return cls(
            subject_email=email,
            own_numbers=frozenset(c.customer_number for c in own),
            name_patterns=tuple(_name_pattern(name) for name in other_names),
        )

    def redact(self, text: str | None) -> tuple[str | None, bool]:
        """Returns the text with other customers replaced, and whether anything was replaced.

        Any customer number or address that is not the subject's is replaced, found in the
        shop or not: a number nobody holds now may have been another customer's.
        """
        if not text:
            return text, False
        changed = False

        def address(match: re.Match[str]) -> str:
            """Keeps the subject's own address and replaces any other."""
            nonlocal changed
            if match.group(0).lower() == self.subject_email:
                return match.group(0)
            changed = True
            return PLACEHOLDER

        def number(match: re.Match[str]) -> str:
            """Keeps the subject's own customer numbers and replaces any other."""
            nonlocal changed
            if match.group(0) in self.own_numbers:
                return match.group(0)
            changed = True
            return PLACEHOLDER

        # Addresses first, so a name inside an address cannot leave half an address behind.
        text = EMAIL_ADDRESS.sub(address, text)
        text = CUSTOMER_NUMBER.sub(number, text)
        for pattern in self.name_patterns:
            text, count = pattern.subn(PLACEHOLDER, text)
            changed = changed or count > 0
        return text, changed


def without(customer: Customer, text: str | None) -> tuple[str | None, bool]:
    """Returns the text with one customer's number, address and full name replaced.

    Used when that customer is erased: other people's notes and messages that name them
    must not keep them.
    """
    if not text:
        return text, False
    # Whole tokens only: C100120 must not eat into C1001201, nor an address into a longer one.
    patterns = [re.compile(rf"(?<!\w){re.escape(customer.customer_number)}(?!\w)"),
                re.compile(rf"(?<![\w.%+-]){re.escape(customer.email.strip())}(?!\w|[.-]\w)",
                           re.IGNORECASE)]
    if customer.name and customer.name.strip():
        patterns.append(_name_pattern(customer.name))
    changed = False
    for pattern in patterns:
        text, count = pattern.subn(PLACEHOLDER, text)
        changed = changed or bool(count)
    return text, changed
