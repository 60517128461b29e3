"""The suppression list: addresses that must get no offers, kept as keyed hashes only.

After an objection, a withdrawal of consent or an erasure, a later import or sign-up must
not bring the offers back unless the person opts in anew. dsar keeps an HMAC of the
normalised address, so the list names nobody, yet the shop can ask about any address.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select

from dsar.extensions import db
from dsar.models import Suppression
from dsar.policy.addresses import normalise_email


def address_hash(email: str) -> str:
    """The keyed hash of an address; without the key nobody can test addresses against it."""
    secret = current_app.config["SUPPRESSION_KEY"] or current_app.config["SECRET_KEY"]
    key = hmac.new(secret.encode(), b"dsar.work.suppression", hashlib.sha256).digest()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def suppress(email: str, reason: str) -> None:
    """Adds the address to the list, once; the caller commits."""
    digest = address_hash(email)
    if db.session.scalar(select(Suppression).where(Suppression.address_hash == digest)) is None:
        db.session.add(Suppression(address_hash=digest, reason=reason))


def suppressed(emails: list[str]) -> list[str]:
    """Returns those of the addresses that must get no offers."""
    hashes = [address_hash(email) for email in emails]
    found = set(db.session.scalars(
        select(Suppression.address_hash).where(Suppression.address_hash.in_(set(hashes)))
    ))
    # Every spelling of a suppressed address is suppressed, in the order given.
    return [email for email, digest in zip(emails, hashes, strict=True) if digest in found]


def lift(email: str) -> bool:
    """Removes an address after the person opted in anew; whether it was on the list."""
    digest = address_hash(email)
    entry = db.session.scalar(select(Suppression).where(Suppression.address_hash == digest))
    if entry is None:
        return False
    db.session.delete(entry)
    return True
