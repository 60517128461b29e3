"""Turning the shop's rows into the JSON values a Record carries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dsar.connector import JSONValue


def json_value(value: Any) -> JSONValue:
    """Returns a column's value as JSON can carry it: timestamps as ISO 8601 in UTC."""
    if isinstance(value, datetime):
        # The shop stores UTC without a zone; saying so keeps the report unambiguous.
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def row_data(row: Mapping[Any, Any], fields: Iterable[str]) -> dict[str, JSONValue]:
    """Returns those fields of a row as JSON values, in the order given."""
    return {name: json_value(row[name]) for name in fields}


def normalised_email(email: str | None) -> str:
    """Returns an address as the shop's matching sees it: trimmed and lower-cased."""
    return (email or "").strip().lower()
