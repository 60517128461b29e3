"""Privacy officers and their API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, request
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import ApiToken, Officer
from dsar.policy.addresses import AddressError, normalise_email, officer_address
from dsar.web.errors import error_response

P = ParamSpec("P")
R = TypeVar("R")

MIN_PASSWORD_LENGTH = 12


class OfficerError(Exception):
    """An officer cannot be created or found as asked."""


def create_officer(email: str, password: str, role: str = "officer") -> Officer:
    """Stores a new officer with a scrypt-hashed password; the caller commits."""
    try:
        email = officer_address(email)
    except AddressError as exc:
        raise OfficerError(f"{email!r} is not an e-mail address: {exc}") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OfficerError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(select(Officer).where(Officer.email == email)) is not None:
        raise OfficerError(f"an officer with address {email} exists already")
    officer = Officer(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(officer)
    return officer


def find_officer(email: str) -> Officer:
    """Returns the officer with that address."""
    officer = db.session.scalar(select(Officer).where(Officer.email == normalise_email(email)))
    if officer is None:
        raise OfficerError(f"no officer with address {normalise_email(email)}")
    return officer


def _digest(token: str) -> str:
    """The stored form of a token: tokens are long and random, so SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(officer: Officer) -> str:
    """Makes a new API token and returns it; only its digest is stored. The caller commits."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(officer=officer, token_hash=_digest(token)))
    return token


def officer_for_token(token: str) -> Officer | None:
    """Returns the officer a token belongs to, noting its use, or None."""
    api_token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if api_token is None:
        return None
    api_token.last_used_at = utcnow()
    db.session.commit()
    return api_token.officer


def token_required(view: Callable[P, R]) -> Callable[P, R]:
    """Lets a view run only for a request with a valid `Authorization: Bearer` token."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        officer = officer_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if officer is None:
            response, status = error_response(
                401, "unauthorized", "A valid officer token is required (Authorization: Bearer)."
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="dsar"'
            return (response, status)  # type: ignore[return-value]
        g.officer = officer
        return view(*args, **kwargs)

    return guarded
