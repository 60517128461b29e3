"""The readable answer of an access request (the PDF): a front page, a table per category
with a row per record, then the person's rights.

A long history is cut into parts of at most `rows_per_part` rows. The parts are rendered
side by side in child processes, each with memory bounded by its part, and joined into one
tagged PDF, so neither the time nor the worker's memory runs away with the history. A
typical answer is a single part, rendered in the worker itself.
"""

from __future__ import annotations

import ctypes
import itertools
import multiprocessing
import os
import signal
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

from flask import render_template
from flask_babel import format_number, gettext

from dsar.answer.joining import join_tagged
from dsar.answer.pdf import html_to_pdf
from dsar.answer.readable import columns_of, day_text, field_label, labels_of, row
from dsar.answer.report import (
    ERASED_PAST_PERIOD,
    KEPT_BY_LAW,
    PAST_RETENTION,
    REDACTION_FLAGS,
    Found,
    Section,
    recipient_names,
)
from dsar.answer.summary import Summary, summarise
from dsar.connector import Column, ColumnKind
from dsar.policy.deadlines import parse_day

TEMPLATE = "report/access.html"
#: prctl's option that sets the signal a process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
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
    #: Records past their period are marked "§" and explained under the table.
    past: bool = False
    #: For records an earlier erasure kept by law ("†"): each duty and what it keeps.
    by_law: list[tuple[str, str]] = field(default_factory=list)
    #: The table's caption, when it is not the category's records counted (a summary).
    caption: str = ""
    #: A paragraph before the table, saying what it shows and where the rest is.
    intro: str = ""

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
    head: Mapping[str, Any],
    sections: Sequence[Section],
    static: Path,
    *,
    rows_per_part: int,
    processes: int,
    full_records: int,
) -> bytes:
    """Renders an access report as one accessible PDF.

    Args:
        head: the report without its sections (see report.report_head).
        sections: what each connector found; records are read as the parts need them.
        static: the static folder, the only place the renderer may load files from.
        rows_per_part: the most table rows rendered at once.
        processes: how many parts may be rendered side by side.
        full_records: the most records of one category shown one by one; more are
            summarised per year (dsar.answer.summary).

    Returns:
        The PDF.
    """
    context = {"report": head, "contents": table_of_contents(head), "dates": _dates(head)}
    pages = (render_template(TEMPLATE, part=part, **context)
             for part in plan_parts(sections, rows_per_part, full_records))
    first = next(pages)
    second = next(pages, None)
    if second is None:
        return html_to_pdf(first, static)
    # Fork: the children start with WeasyPrint loaded and its fonts found, and take nothing
    # but HTML. The parts go to files, and the joining is a child's work too: a tagged PDF
    # of a long history is a great many objects, and the worker should not keep their
    # memory after the job.
    # The parts are this machine's scratch, in a private temporary folder gone with the job;
    # only the joined PDF is stored.
    with tempfile.TemporaryDirectory(prefix="dsar-parts-") as folder:
        pool = multiprocessing.get_context("fork").Pool(
            processes, initializer=_child_signals, maxtasksperchild=8)
        try:
            parts = list(_rendered(pool, itertools.chain((first, second), pages), static,
                                   Path(folder), ahead=2 * processes))
            joined: bytes = pool.apply(_join_files, (parts,))
            return joined
        finally:
            pool.terminate()  # before the folder goes: no child is left writing into it
            pool.join()


def _rendered(
    pool: Pool, pages: Iterator[str], static: Path, folder: Path, ahead: int
) -> Iterator[Path]:
    """The parts' PDF files in order, at most `ahead` parts waiting or being rendered.

    The HTML is made here, in the job's own thread, where the app's context is; the pool's
    children only lay it out.
    """
    waiting: deque[AsyncResult[Path]] = deque()
    for number, html in enumerate(pages):
        target = folder / f"part-{number:05d}.pdf"
        waiting.append(pool.apply_async(_render_part, ((html, static, target),)))
        if len(waiting) >= ahead:
            yield waiting.popleft().get()
    while waiting:
        yield waiting.popleft().get()


def table_of_contents(head: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The front page's summary: per category with records, its number, size and period."""
    contents: list[dict[str, Any]] = []
    for entry in head["summary"]["categories"]:
        period = entry.get("period") or {}
        first, last = parse_day(period.get("first")), parse_day(period.get("last"))
        contents.append({
            "number": len(contents) + 1,
            "title": entry["title"],
            "count": entry["count"],
            "period": _period_text(first, last),
        })
    return contents


def plan_parts(sections: Sequence[Section], rows_per_part: int,
               full_records: int) -> Iterator[Part]:
    """Cuts the answer into parts of at most `rows_per_part` table rows each; a category of
    more than `full_records` records is summarised (dsar.answer.summary).

    Records are read as the parts fill, so only one part's records are held at a time.
    """
    planner = _Planner(rows_per_part)
    number = 0
    for section in sections:
        for found in section.found:
            if not found.count:
                continue
            number += 1
            columns = (*columns_of(found.category), kept_until())
            if found.count <= full_records:
                yield from planner.add(number, found, columns, found.records())
                continue
            summary = summarise(found.records(), columns, full_records)
            yield from planner.put(_years_piece(number, found, summary))
            yield from planner.add(number, found, columns, iter(summary.recent), caption=gettext(
                "the %(num)d most recent records, in full", num=len(summary.recent)))
            if summary.listed:
                # A row each, kept to a line: what tells the record, its day, its amount and
                # its keeping; every other field is in report.json.
                yield from planner.add(number, found, _compact(columns), iter(summary.listed),
                                       caption=gettext(
                    "older records past their period or with other people's details removed, "
                    "one by one: %(num)d", num=len(summary.listed)))
    yield planner.finish()


class _Planner:
    """Fills parts with tables, starting a new part when one holds enough rows."""

    def __init__(self, rows_per_part: int) -> None:
        """Starts with the front page's part."""
        self.rows_per_part = rows_per_part
        self.part = Part(front=True)

    def put(self, piece: TablePiece) -> Iterator[Part]:
        """Adds a table that is not cut (a summary: a row a year)."""
        if self.part.rows and self.part.rows + len(piece.rows) > self.rows_per_part:
            yield self.part
            self.part = Part()
        self.part.tables.append(piece)

    def add(self, number: int, found: Found, columns: Sequence[Column],
            records: Iterator[Mapping[str, Any]], caption: str = "") -> Iterator[Part]:
        """Adds a table of records, cut where a part is full."""
        start = 0
        while True:
            room = self.rows_per_part - self.part.rows
            if room <= 0:
                yield self.part
                self.part, room = Part(), self.rows_per_part
            stretch = list(itertools.islice(records, room))
            if not stretch:
                return
            piece = _piece(number, found, columns, stretch, start)
            if caption:
                # A table after the summary: headed as the category continued.
                piece.start, piece.caption = start + 1, caption
            self.part.tables.append(piece)
            start += len(stretch)

    def finish(self) -> Part:
        """The last part, which ends with the rights."""
        self.part.rights = True
        return self.part


def _compact(columns: Sequence[Column]) -> list[Column]:
    """The columns that tell a record apart in one line: the first, the first date, the
    amounts, and until when it is kept (the last)."""
    dates = [column for column in columns[1:-1] if column.kind == ColumnKind.DATE][:1]
    amounts = [column for column in columns[1:-1] if column.kind == ColumnKind.MONEY]
    return [columns[0], *[c for c in columns[1:-1] if c in dates or c in amounts],
            columns[-1]]


def _years_piece(number: int, found: Found, summary: Summary) -> TablePiece:
    """The summary per year of a long category, with the category's description."""
    category = found.category
    labels = [gettext("Year"), gettext("Records"), gettext("First"), gettext("Last"),
              *[gettext("%(amount)s, in total", amount=column.label)
                for column in summary.money], gettext("Kept until")]
    kinds = [ColumnKind.COUNT, ColumnKind.COUNT, ColumnKind.DATE, ColumnKind.DATE,
             *[ColumnKind.MONEY] * len(summary.money), ColumnKind.DATE]
    piece = TablePiece(
        number=number, title=category.title, purpose=category.purpose,
        legal_basis=category.legal_basis, recipients=recipient_names(found),
        retention=category.retention, source=category.source, labels=labels,
        widths=widths([Column(label, (label,), kind) for label, kind in zip(
            labels, kinds, strict=True)]),
        total=found.count,
        caption=gettext("%(num)d records, per year", num=found.count),
        intro=gettext(
            "You have %(num)d records of this kind. To keep this document readable, it "
            "shows them per year, then the most recent in full, then, one by one, any "
            "older record that is past its period or had other people's details removed. "
            "Every record, with every field, is in the file report.json and in the "
            "spreadsheets on the same page as this document.", num=found.count))
    for year in summary.years:
        piece.rows.append([
            str(year.year) if year.year is not None else gettext("No date"),
            format_number(year.count), day_text(year.first), day_text(year.last),
            *[year.total_text(column.label) for column in summary.money],
            _period_text(year.kept_first, year.kept_last) or "; ".join(year.kept_notes)])
    return piece


#: The field of the column every table ends with: the day the record's keeping ends, or
#: how long it runs while that day is not set (a date column shows other text as it is).
#: It starts with NUL, which no connector's field does.
KEPT_UNTIL = "\0kept_until"


def kept_until() -> Column:
    """The column every table ends with, headed in the answer's language."""
    return Column(gettext("Kept until"), (KEPT_UNTIL,), ColumnKind.DATE)


def _piece(
    number: int,
    found: Found,
    columns: Sequence[Column],
    records: Sequence[Mapping[str, Any]],
    start: int,
) -> TablePiece:
    """A stretch of a category's table, its records turned into rows of text."""
    category = found.category
    piece = TablePiece(
        number=number, title=category.title, purpose=category.purpose,
        legal_basis=category.legal_basis, recipients=recipient_names(found),
        retention=category.retention, source=category.source,
        labels=[column.label for column in columns], widths=widths(columns),
        total=found.count, start=start,
    )
    labels = labels_of(category)
    for record in records:
        flags = record.get("flags", ())
        cells = row({**record["data"], KEPT_UNTIL: _kept(record)}, columns, category.values)
        if REDACTION_FLAGS.intersection(flags):
            cells[0] = f"* {cells[0]}"
            piece.flagged = True
        if PAST_RETENTION in flags:
            cells[-1] = f"{cells[-1]} §"
            piece.past = True
        if KEPT_BY_LAW in flags and record.get("stages"):
            cells[-1] = f"{cells[-1]} †"
            stage = record["stages"][-1]
            kept = ", ".join(field_label(labels, name) for name in stage["fields"]
                             if name != "all")
            duty = (stage["legal_basis"] or "", kept)
            if duty not in piece.by_law:
                piece.by_law.append(duty)
        piece.rows.append(cells)
    return piece


def _kept(record: Mapping[str, Any]) -> str:
    """What the last column says of a record's keeping: the day it ends, or, where a legal
    duty keeps part of it longer, both days (`stages`); words while a day is not set."""
    if ERASED_PAST_PERIOD in record.get("flags", ()):
        return str(record.get("kept_note") or "")
    stages = record.get("stages") or []
    if len(stages) > 1 and all(stage["until"] for stage in stages):
        return gettext("%(first)s; what the law requires until %(last)s",
                       first=day_text(parse_day(stages[0]["until"])),
                       last=day_text(parse_day(stages[-1]["until"])))
    return str(record.get("kept_until") or record.get("kept_note") or "")


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


def _period_text(first: date | None, last: date | None) -> str:
    """A period as a reader says it: one day, or from one day to another."""
    if first is None or last is None:
        return ""
    if first == last:
        return day_text(first)
    return gettext("%(first)s to %(last)s", first=day_text(first), last=day_text(last))


def _dates(head: Mapping[str, Any]) -> dict[str, str]:
    """The request's dates, written out."""
    request = head["request"]
    return {
        "received": day_text(parse_day(request.get("received_at"))),
        "due": day_text(parse_day(request.get("due_at"))),
        "generated": day_text(parse_day(head.get("generated_at"))),
    }


def _render_part(work: tuple[str, Path, Path]) -> Path:
    """Renders one part to a file, in a child process."""
    html, static, target = work
    target.write_bytes(html_to_pdf(html, static))
    return target


def _join_files(parts: Sequence[Path]) -> bytes:
    """Joins the parts' files, in a child process."""
    return join_tagged(part.read_bytes() for part in parts)


def _child_signals() -> None:
    """Gives a child the default signal handling, not the worker's it was forked from.

    The worker's handlers would turn the pool's SIGTERM into a warm shutdown request that
    the child never acts on, and a cancelled answer would leave its children running.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _die_with_parent()
    # A group of its own: Ctrl-C at a terminal stops the worker, which finishes or abandons
    # the job and ends the pool itself; killing the children under it would leave the pool
    # waiting for parts that never come.
    os.setpgrp()


def _die_with_parent() -> None:
    """Has the kernel kill this child when the worker that forked it dies (Linux): a worker
    killed mid-render would otherwise leave its renderers running, holding their memory,
    for a PDF nobody collects (the sweep has it made anew)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the children end with the pool, as they always did
