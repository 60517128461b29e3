"""E-mail addresses as dsar keeps them."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """Not an e-mail address."""


def normalise_email(address: str) -> str:
    """Trims and lower-cases an address, the form in which dsar stores and matches it."""
    return address.strip().lower()


def officer_address(address: str) -> str:
    """An officer's address, checked and normalised: the one rule for `officer create`, the
    console's officers page and the sign-in form, so every address one accepts the others do.

    Names outside the public internet (`cplus.test`, an intranet's `cplus.internal` or
    `mailhost`) are accepted: an officer's mailbox is the shop's own business. Names that
    cannot hold a mailbox at all (`.invalid`, `.local`, `localhost`, `.onion`) are not.

    Raises:
        AddressError: the text is not an e-mail address.
    """
    try:
        validate_email(address.strip(), check_deliverability=False, globally_deliverable=False,
                       test_environment=True)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    return normalise_email(address)
