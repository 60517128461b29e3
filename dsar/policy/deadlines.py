"""Legal deadlines (Art. 12(3)) and the days records are dated by: pure date arithmetic."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import TypeVar

Moment = TypeVar("Moment", date, datetime)


def add_months(moment: Moment, months: int) -> Moment:
    """Returns the same time `months` calendar months later, clamped to the month's last day.

    31 January plus one month is 28 (or 29) February: the deadline never spills into the
    month after, which would give the shop more time than the law does.
    """
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_day(value: object) -> date | None:
    """The day of an ISO date or date-time string; None for anything else."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def due_at(received_at: datetime) -> datetime:
    """The deadline of a request: one calendar month from receipt, not from verification."""
    return add_months(received_at, 1)


def days_left(due: datetime, now: datetime) -> int:
    """Whole days from now until the deadline; negative once it has passed."""
    return (due.date() - now.date()).days
