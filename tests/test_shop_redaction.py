"""Redacting other customers from free text, on plain strings (Art. 15(4) GDPR)."""

from __future__ import annotations

from dsar.connectors.shop.redaction import (
    PLACEHOLDER,
    Customer,
    Redactor,
    customer_numbers_in,
    email_addresses_in,
)

SANNE_OLD = Customer("C100114", "Sanne de Vries", "sanne.devries@example.nl ")
SANNE_NEW = Customer("C100852", "Sanne de Vries", "Sanne.deVries@Example.nl")
JAN = Customer("C100200", "Jan van der Berg", "jan.vanderberg@example.com")
ANNE = Customer("C100300", "Anne de Vries", "anne.devries@example.org")


def sanne(*others: Customer) -> Redactor:
    """A redactor for Sanne, who has a closed and a new account, knowing those others."""
    return Redactor.for_subject("sanne.devries@example.nl", [SANNE_OLD, SANNE_NEW, *others])


def test_finds_customer_numbers_and_addresses_in_text() -> None:
    """Tokens shaped like customer numbers and addresses are found; look-alikes are not."""
    texts = [
        "Asked about C100200 and C100852; see order CP-2024-000123.",
        "Mail from Jan.VanDerBerg@Example.com, tracking 3SCPLS123456789, ref AC1002001.",
        None,
        "",
    ]

    assert customer_numbers_in(texts) == {"C100200", "C100852"}
    assert email_addresses_in(texts) == {"jan.vanderberg@example.com"}


def test_replaces_another_customers_number_name_and_address() -> None:
    """Another customer's number, name in any case and address become the placeholder."""
    text = (
        "Caller asked for the order status of JAN VAN DER BERG (C100200, "
        "jan.vanderberg@example.com); told them we only discuss their own orders."
    )

    redacted, changed = sanne(JAN).redact(text)

    assert changed
    assert redacted == (
        f"Caller asked for the order status of {PLACEHOLDER} ({PLACEHOLDER}, "
        f"{PLACEHOLDER}); told them we only discuss their own orders."
    )


def test_keeps_the_subjects_own_details() -> None:
    """The subject's numbers on either account, name and address, in any case, stay."""
    text = "Sanne de Vries (C100114, later C100852) wrote from SANNE.DEVRIES@example.nl."

    redacted, changed = sanne(JAN).redact(text)

    assert (redacted, changed) == (text, False)


def test_replaces_any_address_that_is_not_the_subjects() -> None:
    """An address of someone who is no customer is still someone else's."""
    text = "Please also send it to my bookkeeper at boekhouding@example.com, thanks."

    redacted, changed = sanne().redact(text)

    assert changed
    assert redacted == f"Please also send it to my bookkeeper at {PLACEHOLDER}, thanks."


def test_replaces_a_customer_number_nobody_holds() -> None:
    """A number that is not the subject's is redacted even when no account has it now."""
    redacted, changed = sanne().redact("Merged with C109999 on request.")

    assert (redacted, changed) == (f"Merged with {PLACEHOLDER} on request.", True)


def test_a_name_inside_the_subjects_name_is_left_alone() -> None:
    """Another customer, Anne de Vries, is redacted on her own but not inside Sanne's name."""
    redactor = sanne(ANNE)

    assert redactor.redact("Sanne de Vries called.") == ("Sanne de Vries called.", False)
    assert redactor.redact("Anne  de vries called.") == (f"{PLACEHOLDER} called.", True)


def test_a_namesake_of_the_subject_keeps_the_name_but_loses_number_and_address() -> None:
    """Hiding a namesake's name would hide the subject's own; the rest still goes."""
    namesake = Customer("C100400", "Sanne de Vries", "s.devries@example.com")

    redacted, changed = sanne(namesake).redact(
        "Not to be confused with Sanne de Vries (C100400, s.devries@example.com)."
    )

    assert changed
    assert redacted == f"Not to be confused with Sanne de Vries ({PLACEHOLDER}, {PLACEHOLDER})."


def test_longer_names_go_whole_before_shorter_ones() -> None:
    """A customer whose name holds another's is redacted whole, leaving no half name."""
    jan_de = Customer("C100500", "Jan de Vries", "jdv@example.nl")
    jan_de_vries_smit = Customer("C100600", "Jan de Vries Smit", "jdvs@example.nl")

    redacted, _ = sanne(jan_de, jan_de_vries_smit).redact("Jan de Vries Smit and Jan de Vries.")

    assert redacted == f"{PLACEHOLDER} and {PLACEHOLDER}."


def test_empty_text_is_returned_as_it_is() -> None:
    """No text, nothing to redact."""
    assert sanne(JAN).redact(None) == (None, False)
    assert sanne(JAN).redact("") == ("", False)


def test_the_placeholder_never_calls_a_stranger_a_customer() -> None:
    """Whoever was named, the placeholder says only that it was someone else."""
    redactor = Redactor.for_subject("anna@example.nl", [])
    text, changed = redactor.redact("Please also write to my neighbour at kees@example.org.")
    assert changed and text == "Please also write to my neighbour at [another person]."
    assert "customer" not in PLACEHOLDER
