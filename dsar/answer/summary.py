"""A long category in the PDF: a summary per year, the most recent records in full, and the
records that must be seen one by one.

A person with 5,000 orders cannot read 5,000 rows, and a PDF of 500 pages takes a minute and
half a gigabyte to make. Past a threshold (DOCUMENT_FULL_RECORDS) a category's table becomes
three: per year how many records, their first and last day, the money they add up to and
until when they are kept; the most recent records in full; and, one by one, every record
that is past its period or had other people's details removed, which a summary must never
hide. Every record, with every field, stays in report.json (and its spreadsheet copy).

The records are read once, as a stream: only the years' sums, the most recent records and
the ones listed one by one are held.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dsar.answer.readable import DEFAULT_CURRENCY, money_text, record_day
from dsar.answer.report import PAST_RETENTION, REDACTION_FLAGS
from dsar.connector import Column, ColumnKind
from dsar.policy.deadlines import parse_day


@dataclass
class Year:
    """What one year (by the day each record is dated) holds."""

    year: int | None  # None: records without a date
    count: int = 0
    first: date | None = None
    last: date | None = None
    #: Per money column (its label), per currency: the sum in cents.
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    kept_first: date | None = None
    kept_last: date | None = None
    #: Words for keeping that has no day yet ("while your account is open").
    kept_notes: list[str] = field(default_factory=list)

    def add(self, record: Mapping[str, Any], day: date | None,
            money: Sequence[Column]) -> None:
        """Counts one record in."""
        self.count += 1
        if day is not None:
            self.first = min(self.first or day, day)
            self.last = max(self.last or day, day)
        data = record["data"]
        currency = str(data.get("currency") or DEFAULT_CURRENCY)
        for column in money:
            amounts = [a for a in (data.get(name) for name in column.fields)
                       if isinstance(a, int | float) and not isinstance(a, bool)]
            if amounts:
                sums = self.totals.setdefault(column.label, {})
                sums[currency] = sums.get(currency, 0) + int(sum(amounts))
        kept = parse_day(record.get("kept_until"))
        if kept is not None:
            self.kept_first = min(self.kept_first or kept, kept)
            self.kept_last = max(self.kept_last or kept, kept)
        elif record.get("kept_note") and record["kept_note"] not in self.kept_notes:
            self.kept_notes.append(str(record["kept_note"]))

    def total_text(self, label: str) -> str:
        """A money column's sum for the year, one amount per currency."""
        return ", ".join(money_text(cents, currency)
                         for currency, cents in sorted(self.totals.get(label, {}).items()))


@dataclass
class Summary:
    """A long category, read once."""

    years: list[Year]
    #: The most recent records, newest last (as the table reads, oldest first).
    recent: list[dict[str, Any]]
    #: Records outside `recent` that a person must see one by one.
    listed: list[dict[str, Any]]
    money: list[Column]


def must_be_listed(record: Mapping[str, Any]) -> bool:
    """Whether a record is past its period or had other people's details removed."""
    flags = set(record.get("flags", ()))
    return PAST_RETENTION in flags or bool(REDACTION_FLAGS & flags)


def summarise(records: Iterable[dict[str, Any]], columns: Sequence[Column],
              recent: int) -> Summary:
    """Reads the records once: the years' sums, the `recent` newest, and those to list."""
    money = [column for column in columns if column.kind == ColumnKind.MONEY]
    years: dict[int | None, Year] = {}
    newest: list[tuple[date, int, dict[str, Any]]] = []  # a heap of the `recent` newest
    listed: dict[int, dict[str, Any]] = {}
    for order, record in enumerate(records):
        day = record_day(record["data"], columns)
        key = day.year if day is not None else None
        years.setdefault(key, Year(key)).add(record, day, money)
        if must_be_listed(record):
            listed[order] = record
        entry = (day or date.min, order, record)
        if len(newest) < recent:
            heapq.heappush(newest, entry)
        else:
            heapq.heappushpop(newest, entry)
    kept_recent = sorted(newest)
    shown = {order for _, order, _ in kept_recent}
    return Summary(
        years=sorted(years.values(), key=lambda y: (y.year is None, -(y.year or 0))),
        recent=[record for _, _, record in kept_recent],
        listed=[record for order, record in listed.items() if order not in shown],
        money=money,
    )

