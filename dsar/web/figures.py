"""The dashboard's figures: pure arithmetic over dates, tested on plain data."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta


def median_days(spans: Iterable[tuple[datetime, datetime]]) -> float | None:
    """The median number of days from receipt to answer, or None with nothing answered."""
    days = [(answered - received).total_seconds() / 86400 for received, answered in spans]
    return round(statistics.median(days), 1) if days else None


def weekly_counts(received: Iterable[datetime], weeks: int, today: date) -> list[tuple[date, int]]:
    """Requests per ISO week (Monday first) for the last `weeks` weeks, oldest first."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts = dict.fromkeys(mondays, 0)
    for moment in received:
        monday = moment.date() - timedelta(days=moment.weekday())
        if monday in counts:
            counts[monday] += 1
    return list(counts.items())


def bar_heights(counts: Sequence[tuple[date, int]], height: int) -> list[int]:
    """Bar heights in pixels for a chart `height` high; the busiest week fills it."""
    top = max((count for _, count in counts), default=0)
    return [round(count * height / top) if top else 0 for _, count in counts]
