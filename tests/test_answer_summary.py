"""A long category in the PDF, summed up per year: read once, nothing hidden that a person
must see one by one."""

from __future__ import annotations

from datetime import date, timedelta

from dsar.answer.readable import money_text
from dsar.answer.report import PAST_RETENTION
from dsar.answer.summary import summarise
from dsar.connector import Column, ColumnKind

COLUMNS = (Column("Order", ("order_number",)), Column("Placed", ("placed_at",), ColumnKind.DATE),
           Column("Total", ("total_cents",), ColumnKind.MONEY))


def _order(n: int, day: date, flags: tuple[str, ...] = ()) -> dict:
    """An order as the report's records are: data, flags and until when it is kept."""
    return {"key": f"CP-{n:04d}", "flags": list(flags), "kept_until": f"{day.year + 7}-12-31",
            "data": {"order_number": f"CP-{n:04d}", "placed_at": day.isoformat(),
                     "total_cents": 1250}}


def test_years_sum_up_and_the_newest_are_kept_in_full(app):
    """250 orders over three years: a row a year with count, first and last day, the money
    and the keeping; the 100 newest in full, oldest first; the rest counted only."""
    start = date(2022, 11, 1)
    orders = [_order(n, start + timedelta(days=4 * n)) for n in range(250)]
    summary = summarise(iter(reversed(orders)), COLUMNS, 100)
    assert [year.year for year in summary.years] == [2025, 2024, 2023, 2022]
    assert sum(year.count for year in summary.years) == 250
    [year_2023] = [year for year in summary.years if year.year == 2023]
    assert (year_2023.first, year_2023.last) == (date(2023, 1, 4), date(2023, 12, 30))
    assert year_2023.totals == {"Total": {"EUR": 1250 * year_2023.count}}
    assert (year_2023.kept_first, year_2023.kept_last) == (date(2030, 12, 31),) * 2
    assert [r["key"] for r in summary.recent] == [o["key"] for o in orders[150:]]
    assert summary.listed == []
    with app.test_request_context():
        assert year_2023.total_text("Total") == money_text(1250 * year_2023.count, "EUR")


def test_records_past_their_period_or_redacted_are_listed_one_by_one(app):
    """Old records that are past their period, or had others' details removed, are never
    only counted: they are listed, unless already among the newest."""
    start = date(2018, 1, 1)
    orders = [_order(n, start + timedelta(days=n)) for n in range(300)]
    orders[3]["flags"] = [PAST_RETENTION]
    orders[10]["flags"] = ["third_party_redacted"]
    orders[299]["flags"] = [PAST_RETENTION]  # among the newest: shown there, once
    summary = summarise(iter(orders), COLUMNS, 50)
    assert [r["key"] for r in summary.listed] == ["CP-0003", "CP-0010"]
    assert "CP-0299" in [r["key"] for r in summary.recent]
