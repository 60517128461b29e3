"""What a rectification may correct, and how a corrected value must look (Art. 16).

Pure: no Flask, no database. Intake checks corrections here before anything is stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_LENGTH = 200

#: The fields a person may have corrected, with what a customer calls them.
FIELDS = {
    "name": "name",
    "phone": "phone number",
    "street": "street and house number",
    "postal_code": "postal code",
    "city": "city",
    "country": "country",
    "billing_street": "billing street and house number",
    "billing_postal_code": "billing postal code",
    "billing_city": "billing city",
    "billing_country": "billing country",
}

_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,19}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,9}$")
_DUTCH_POSTAL_CODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_corrections(raw: object) -> tuple[dict[str, str], dict[str, str]]:
    """Checks and normalises the corrections of a rectification request.

    Returns:
        The cleaned corrections, and the errors keyed "corrections.<field>" (empty when valid).
    """
    if not isinstance(raw, Mapping) or not raw:
        return {}, {"corrections": "Give the fields to correct and their new values, e.g. "
                                   '{"city": "Utrecht"}.'}
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        key = f"corrections.{name}"
        if name not in FIELDS:
            errors[key] = "Unknown field; one of: " + ", ".join(FIELDS) + "."
        elif not isinstance(value, str) or not value.strip():
            errors[key] = "Give the new value as text."
        elif len(value.strip()) > MAX_LENGTH or _CONTROL.search(value):
            errors[key] = f"Use at most {MAX_LENGTH} visible characters."
        else:
            cleaned[name] = value.strip()
    for name, value in list(cleaned.items()):
        problem, normal = _check(name, value, cleaned)
        if problem:
            errors[f"corrections.{name}"] = problem
            del cleaned[name]
        else:
            cleaned[name] = normal
    return (cleaned, {}) if not errors else ({}, errors)


def _check(name: str, value: str, all_values: Mapping[str, str]) -> tuple[str | None, str]:
    """One field's format: the problem, or None and the value in its usual form."""
    if name == "phone" and not _PHONE.match(value):
        return "Give a phone number of digits, such as +31 6 12345678.", value
    if name.endswith("country"):
        if not _COUNTRY.match(value):
            return "Give the two-letter country code, such as NL or BE.", value
        return None, value.upper()
    if name.endswith("postal_code"):
        country = all_values.get(name.replace("postal_code", "country"), "").upper()
        dutch = _DUTCH_POSTAL_CODE.match(value)
        if country == "NL" and not dutch:
            return "Give a Dutch postal code such as 1015 KK.", value
        if dutch:
            return None, f"{dutch.group(1)} {dutch.group(2).upper()}"
        if not _POSTAL_CODE.match(value):
            return "Give a postal code of letters and digits.", value
    return None, value
