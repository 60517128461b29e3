"""The time, as dsar stores it: naive UTC, which SQLite and PostgreSQL both keep unchanged."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Returns the current UTC time without tzinfo."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 with its zone, for JSON."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"
