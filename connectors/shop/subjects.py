"""Who the subject is in the shop: the accounts registered under the subject's address."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, select

from .database import email_matches
from .schema import customers, orders


def customer_ids_of(email: str) -> Select[tuple[int]]:
    """A subquery of the ids of every account under that address, closed ones included."""
    return select(customers.c.id).where(email_matches(customers.c.email, email))


def customer_numbers_of(email: str) -> Select[tuple[str]]:
    """A subquery of the customer numbers of every account under that address."""
    return select(customers.c.customer_number).where(email_matches(customers.c.email, email))


def subject_orders(email: str, held: Sequence[str] = ()) -> ColumnElement[bool]:
    """The orders of the subject: placed on one of the accounts, or as a guest by address,
    and those an earlier erasure kept by law (`held` order numbers), whose address is gone."""
    matched = orders.c.customer_id.in_(customer_ids_of(email)) | email_matches(
        orders.c.email, email)
    return matched | orders.c.order_number.in_(list(held)) if held else matched
