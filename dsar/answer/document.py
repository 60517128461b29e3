"""The readable answer of an access request (the PDF): a front page, a table per category
with a row per record, then the person's rights.

A long history is cut into parts of at most `rows_per_part` rows. The parts are rendered
side by side in child processes, each with memory bounded by its part, and joined into one
tagged PDF, so neither the time nor the worker's memory runs away with the history. A
typical answer is a single part, rendered in the worker itself.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import render_template

from dsar.answer.joining import join_tagged
from dsar.answer.pdf import html_to_pdf
from dsar.answer.readable import columns_of, day_text, parse_day, row
from dsar.connector import Category, Column, ColumnKind

TEMPLATE = "report/access.html"
#: A record flagged with one of these had other people's data removed (Art. 15(4)).
REDACTION_FLAGS = frozenset({"third_party_redacted", "withheld_by_officer"})
#: Column widths in percent for kinds of a known width; text columns share the rest.
_WIDTHS = {ColumnKind.DATE: 12, ColumnKind.MONEY: 11, ColumnKind.COUNT: 8}


@dataclass
class TablePiece:
    """One category's table, or the stretch of it that falls in one part."""

    number: int
    title: str
    purpose: str
    legal_basis: str
    recipients: list[str]
    retention: str
    source: str
    labels: list[str]
    widths: list[int]
    total: int
    start: int = 0
    rows: list[list[str]] = field(default_factory=list)
    flagged: bool = False

    @property
    def first(self) -> bool:
        """Whether the table starts in this piece (with the category's description)."""
        return self.start == 0

    @property
    def last(self) -> bool:
        """Whether the table ends in this piece."""
        return self.start + len(self.rows) >= self.total


@dataclass
class Part:
    """What one rendering of the template holds."""

    front: bool = False
    tables: list[TablePiece] = field(default_factory=list)
    rights: bool = False

    @property
    def rows(self) -> int:
        """How many table rows the part holds."""
        return sum(len(table.rows) for table in self.tables)


def render_answer(
    report: Mapping[str, Any],
    categories: Mapping[tuple[str, str], Category],
    static: Path,
    *,
    rows_per_part: int,
    processes: int,
) -> bytes:
    """Renders an access report as one accessible PDF.

    Args:
        report: the JSON answer (format cplus-dsar-report).
        categories: the connectors' categories by (connector, category name), for columns.
        static: the static folder, the only place the renderer may load files from.
        rows_per_part: the most table rows rendered at once.
        processes: how many parts may be rendered side by side.

    Returns:
        The PDF.
    """
    contents = table_of_contents(report)
    context = {"report": _without_records(report), "contents": contents,
               "dates": _dates(report)}
    parts = list(plan_parts(report, categories, rows_per_part))
    pages = [render_template(TEMPLATE, part=part, **context) for part in parts]
    if len(pages) == 1:
        return html_to_pdf(pages[0], static)
    # Fork: the children start with WeasyPrint loaded and its fonts found, and take nothing
    # but HTML; their memory goes back to the system as each part is done.
    pool = multiprocessing.get_context("fork").Pool(
        min(processes, len(pages)), initializer=_child_signals, maxtasksperchild=8)
    try:
        return join_tagged(pool.imap(_render_part, [(html, static) for html in pages]))
    finally:
        pool.terminate()
        pool.join()


def table_of_contents(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The front page's summary: per category with records, its number, size and period."""
    contents: list[dict[str, Any]] = []
    for entry in report["summary"]["categories"]:
        period = entry.get("period") or {}
        first, last = parse_day(period.get("first")), parse_day(period.get("last"))
        contents.append({
            "number": len(contents) + 1,
            "title": entry["title"],
            "count": entry["count"],
            "period": _period_text(first, last),
        })
    return contents


def plan_parts(
    report: Mapping[str, Any],
    categories: Mapping[tuple[str, str], Category],
    rows_per_part: int,
) -> Iterator[Part]:
    """Cuts the answer into parts of at most `rows_per_part` table rows each."""
    part = Part(front=True)
    number = 0
    for section in report["sections"]:
        for entry in section["categories"]:
            records = entry["records"]
            if not records:
                continue
            number += 1
            category = categories.get((section["connector"], entry["name"]))
            columns = columns_of(category) if category else _columns_of_entry(entry)
            start = 0
            while start < len(records):
                room = rows_per_part - part.rows
                if room <= 0:
                    yield part
                    part, room = Part(), rows_per_part
                stretch = records[start:start + room]
                part.tables.append(_piece(number, entry, columns, stretch, start, len(records)))
                start += len(stretch)
    part.rights = True
    yield part


def _piece(
    number: int,
    entry: Mapping[str, Any],
    columns: Sequence[Column],
    records: Sequence[Mapping[str, Any]],
    start: int,
    total: int,
) -> TablePiece:
    """A stretch of a category's table, its records turned into rows of text."""
    piece = TablePiece(
        number=number, title=entry["title"], purpose=entry["purpose"],
        legal_basis=entry["legal_basis"], recipients=list(entry["recipients"]),
        retention=entry["retention"], source=entry["source"],
        labels=[column.label for column in columns], widths=widths(columns),
        total=total, start=start,
    )
    for record in records:
        cells = row(record["data"], columns)
        if REDACTION_FLAGS.intersection(record.get("flags", ())):
            cells[0] = f"* {cells[0]}"
            piece.flagged = True
        piece.rows.append(cells)
    return piece


def widths(columns: Sequence[Column]) -> list[int]:
    """Column widths in percent: dates and amounts narrow, text sharing the rest."""
    fixed = sum(_WIDTHS.get(column.kind, 0) for column in columns)
    # An address of several fields gets half as much room again as a status or a number.
    weights = [0 if column.kind in _WIDTHS else 3 if len(column.fields) > 1 else 2
               for column in columns]
    spare = max(100 - fixed, 0)
    total_weight = sum(weights) or 1
    return [_WIDTHS.get(column.kind) or spare * weight // total_weight
            for column, weight in zip(columns, weights, strict=True)]


def _columns_of_entry(entry: Mapping[str, Any]) -> tuple[Column, ...]:
    """Columns for a category whose connector is no longer installed: its fields."""
    return columns_of(Category(
        name=entry["name"], title=entry["title"], fields=tuple(entry["fields"]),
        purpose="", legal_basis="", recipients=(), retention="", source=""))


def _period_text(first: date | None, last: date | None) -> str:
    """A period as a reader says it: one day, or from one day to another."""
    if first is None or last is None:
        return ""
    if first == last:
        return day_text(first)
    return f"{day_text(first)} to {day_text(last)}"


def _dates(report: Mapping[str, Any]) -> dict[str, str]:
    """The request's dates, written out."""
    request = report["request"]
    return {
        "received": day_text(parse_day(request.get("received_at"))),
        "due": day_text(parse_day(request.get("due_at"))),
        "generated": day_text(parse_day(report.get("generated_at"))),
    }


def _without_records(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report without its records: what every part's template needs, and no more."""
    return {key: value for key, value in report.items() if key != "sections"}


def _render_part(work: tuple[str, Path]) -> bytes:
    """Renders one part in a child process."""
    html, static = work
    return html_to_pdf(html, static)


def _child_signals() -> None:
    """Gives a child the default signal handling, not the worker's it was forked from.

    The worker's handlers would turn the pool's SIGTERM into a warm shutdown request that
    the child never acts on, and a cancelled answer would leave its children running.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
