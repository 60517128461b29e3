"""E-mail addresses as dsar keeps them."""

from __future__ import annotations


def normalise_email(address: str) -> str:
    """Trims and lower-cases an address, the form in which dsar stores and matches it."""
    return address.strip().lower()
