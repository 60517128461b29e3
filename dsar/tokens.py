"""Signed links: one salt per purpose, so a token made for one link never opens another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    """What a signed link is for; each is its own itsdangerous salt."""

    VERIFY = "dsar.verify-email"
    REPORT = "dsar.report-link"
    STATUS = "dsar.request-status"


class TokenProblem(StrEnum):
    """Why a token was refused, in words a person can act on."""

    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TokenError(Exception):
    """A token that cannot be used."""

    problem: TokenProblem


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    """A serializer keyed by the app's secret and salted for the purpose."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=str(purpose))


def sign(purpose: Purpose, payload: dict[str, str]) -> str:
    """Returns a URL-safe token carrying the payload."""
    return str(_serializer(purpose).dumps(payload))


def unsign(purpose: Purpose, token: str, max_age: int) -> dict[str, str]:
    """Returns the payload of a token made for this purpose within max_age seconds.

    Raises:
        TokenError: the token was tampered with, made for another purpose, or is too old.
    """
    return unsign_with_expiry(purpose, token, max_age)[0]


def unsign_with_expiry(
    purpose: Purpose, token: str, max_age: int
) -> tuple[dict[str, str], datetime]:
    """Returns the payload of a valid token and the moment it stops working.

    That moment is the signing time plus max_age, in naive UTC like every time dsar keeps;
    itsdangerous signs in whole seconds and still accepts a token exactly max_age old.

    Raises:
        TokenError: the token was tampered with, made for another purpose, or is too old.
    """
    try:
        payload, signed_at = _serializer(purpose).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise TokenError(TokenProblem.EXPIRED) from None
    except BadSignature:
        raise TokenError(TokenProblem.INVALID) from None
    if not isinstance(payload, dict):
        raise TokenError(TokenProblem.INVALID)
    expires_at = signed_at.astimezone(UTC).replace(tzinfo=None) + timedelta(seconds=max_age)
    return payload, expires_at
