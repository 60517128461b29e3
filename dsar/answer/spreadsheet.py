"""The spreadsheet copy of an access answer: a CSV file per category, in one ZIP file.

Made from the stored report.json as it is sent, so nothing more is stored, and in the
person's language: the answer's headings and words, and the separator and decimal mark
that language's spreadsheets read (Dutch ";" and "75,95", English "," and "75.95").
Amounts in cents become amounts, dates days (yyyy-mm-dd), codes their labels; each row
ends with how long the record is kept. Text a spreadsheet would run as a formula starts
with "'" (OWASP's advice against CSV injection); numbers written as numbers stay numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from babel.numbers import format_decimal, get_decimal_symbol
from flask_babel import gettext

from dsar.answer.parsing import StoredCategory, categories
from dsar.answer.readable import capitalised, columns_of, field_label, in_words, labels_of
from dsar.answer.report import ERASED_PAST_PERIOD, KEPT_BY_LAW, PAST_RETENTION, REDACTION_FLAGS
from dsar.clock import utcnow
from dsar.connector import Category, ColumnKind
from dsar.i18n import DEFAULT
from dsar.policy.deadlines import parse_day

#: Finds one of a connector's categories in the answer's language; None when it is gone.
Describe = Callable[[str, str], Category | None]

#: What a spreadsheet would take for the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: An ISO 8601 date or date-time, as connectors give dates: shown as the day.
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
#: What the download is named.
DOWNLOAD_NAME = "privacy-answer-csv.zip"
#: Bytes gathered before they are handed on: few, large pieces for the response.
HAND_ON_BYTES = 1 << 16
#: The size of a stored report.json from which the ZIP file is written as ZIP64: a
#: record's row may be a few times its JSON (remarks in words), and a streamed entry must
#: say before it is written whether it may pass zipfile's limit of 2 GiB.
ZIP64_FROM = zipfile.ZIP64_LIMIT // 4


@dataclass(frozen=True)
class Dialect:
    """How one language's spreadsheets read a CSV file.

    Attributes:
        separator: what stands between the fields of a row.
        locale: the Babel locale whose decimal mark numbers are written with.
    """

    separator: str
    locale: str

    @property
    def decimal_mark(self) -> str:
        """The sign between whole units and their fractions."""
        return str(get_decimal_symbol(self.locale))


#: Dutch spreadsheets take "," for the decimal mark, and so ";" between fields.
DIALECTS = {"nl": Dialect(";", "nl_NL"), "en": Dialect(",", "en_GB")}


def dialect_of(language: str | None) -> Dialect:
    """The dialect of the request's language (English for one dsar does not speak)."""
    return DIALECTS.get(language or DEFAULT, DIALECTS[DEFAULT])


def needs_zip64(report_size: int) -> bool:
    """Whether the copy of a report.json of this size may need ZIP64."""
    return report_size >= ZIP64_FROM


def neutralised(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula: a leading "'" when it starts as
    one would."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Sheet:
    """How one category's records become the rows of its CSV file.

    Attributes:
        fields: the record's fields, a column each, in the category's order.
        labels: each field as a person reads it (also the fields of nested records).
        codes: for fields that hold codes, each code's label.
        money: the fields that hold amounts in cents.
        dialect: the separator and decimal mark.
    """

    fields: tuple[str, ...]
    labels: Mapping[str, str]
    codes: Mapping[str, Mapping[str, str]]
    money: frozenset[str]
    dialect: Dialect

    def headings(self) -> list[str]:
        """The first row: each field's label, then the columns on keeping."""
        return [neutralised(heading) for heading in (
            *(capitalised(field_label(self.labels, name)) for name in self.fields),
            gettext("Kept until"), gettext("How long we keep it"),
            gettext("Stages of keeping"), gettext("Remarks"))]

    def row(self, record: Mapping[str, Any]) -> list[str]:
        """One record as a row: its fields, then how long it is kept, in which stages,
        and what the reader should know of it."""
        data = record.get("data") or {}
        kept_until = parse_day(record.get("kept_until"))
        return [
            *(self.cell(name, data.get(name)) for name in self.fields),
            kept_until.isoformat() if kept_until else "",
            neutralised(str(record.get("kept_note") or "")),
            neutralised("; ".join(self._stage(stage) for stage in record.get("stages") or ())),
            neutralised(" ".join(self._remarks(record, data))),
        ]

    def cell(self, name: str, value: Any) -> str:
        """One field's value as its cell: numbers as numbers, anything else as text that
        no spreadsheet runs."""
        shown = self._shown(name, value)
        return shown if _is_number(value) else neutralised(shown)

    def _shown(self, name: str, value: Any) -> str:
        """A value as a person reads it in a cell: an amount, a day, a code's label; a
        record nested in it field by field, several of them a line each."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        if _is_number(value):
            if name in self.money or name.endswith("_cents"):
                return self._amount(value)
            return self._number(value)
        if isinstance(value, list):
            return "\n".join(self._shown(name, item) for item in value)
        if isinstance(value, dict):
            return "; ".join(f"{field_label(self.labels, key)}: {self._shown(key, item)}"
                             for key, item in value.items() if item not in (None, ""))
        text = str(value)
        labelled = self.codes.get(name)
        if labelled is not None and text:
            return labelled.get(text) or in_words(text)
        day = parse_day(text) if _ISO_DAY.fullmatch(text) else None
        return day.isoformat() if day else text

    def _amount(self, cents: int | float) -> str:
        """An amount in cents in whole units, two decimals, no grouping: 7595 → "75,95"."""
        return str(format_decimal(Decimal(repr(cents)) / 100, "0.00",
                                  locale=self.dialect.locale))

    def _number(self, value: int | float) -> str:
        """A number as written, with the language's decimal mark."""
        return repr(value).replace(".", self.dialect.decimal_mark)

    def _stage(self, stage: Mapping[str, Any]) -> str:
        """One stage of a record's keeping: what it keeps, until when, under which duty."""
        fields = stage.get("fields")
        kept = (gettext("all fields") if fields == "all" or not fields
                else ", ".join(field_label(self.labels, str(name)) for name in fields))
        until = parse_day(stage.get("until"))
        when = (gettext("until %(day)s", day=until.isoformat()) if until
                else str(stage.get("while") or ""))
        basis = stage.get("legal_basis")
        return f"{kept}: {when}" + (f" ({basis})" if basis else "")

    def _remarks(self, record: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
        """What the reader should know of a record, once each: its flags in words, and any
        field its category does not declare, with its value."""
        said: list[str] = []
        for flag in record.get("flags") or ():
            text = self._flag(str(flag), record)
            if text not in said:
                said.append(text)
        said += [f"{field_label(self.labels, name)}: {self._shown(name, value)}."
                 for name, value in data.items() if name not in self.fields]
        return said

    def _flag(self, flag: str, record: Mapping[str, Any]) -> str:
        """A record's flag in the words the PDF uses under its tables."""
        if flag in REDACTION_FLAGS:
            return gettext("Details of other people in this record were removed to protect "
                           "their privacy (Art. 15(4) GDPR).")
        if flag == PAST_RETENTION:
            return gettext("The period for which we may keep this record has ended, on the "
                           "day shown: we should no longer hold it. Our privacy officer has "
                           "been told.")
        if flag == KEPT_BY_LAW and record.get("stages"):
            stage = record["stages"][-1]
            kept = ", ".join(field_label(self.labels, str(name)) for name in stage["fields"]
                             if name != "all")
            return gettext("Kept after you had your data erased, because the law requires "
                           "it: %(basis)s Only this is kept: %(kept)s.",
                           basis=stage.get("legal_basis") or "", kept=kept)
        if flag == ERASED_PAST_PERIOD:
            return gettext("Erased after your request came in, because the period for which "
                           "we could keep it had ended.")
        return capitalised(in_words(flag)) + "."


def sheet_for(entry: Mapping[str, Any], category: Category | None, dialect: Dialect) -> Sheet:
    """The sheet of a stored category, worded by the connector's description of it; by
    the fields' names in words when its connector is no longer installed."""
    fields = tuple(str(name) for name in entry.get("fields") or ())
    if category is None:
        return Sheet(fields=fields, labels={}, codes={}, money=frozenset(), dialect=dialect)
    money = frozenset(name for column in columns_of(category)
                      if column.kind == ColumnKind.MONEY for name in column.fields)
    return Sheet(fields=fields or category.fields, labels=labels_of(category),
                 codes=category.values, money=money, dialect=dialect)


def spreadsheets(
    report: IO[str], language: str, describe: Describe, *, zip64: bool = False
) -> Iterator[bytes]:
    """The ZIP file of an answer's spreadsheets, piece by piece as it is made.

    A README.txt on the columns comes first, then a CSV file per category that holds
    records, named after the category and numbered as the PDF numbers its sections. Words
    are in the language in force (`i18n.for_request`).

    Args:
        report: the stored report.json, as text.
        language: the request's language, which sets the separator and decimal mark.
        describe: finds a connector's category in the answer's language.
        zip64: whether the entries may pass 4 GiB (`needs_zip64`).
    """
    dialect = dialect_of(language)
    # Streamed rather than built in memory: a long history makes a large copy, and the
    # ZIP format can be written forwards only (sizes after each entry), so the memory
    # held is one record and what the compressor has not yet handed on.
    pipe = _Pipe()
    archive = zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED)
    archive.writestr(_entry("README.txt"), codecs.BOM_UTF8 + readme(dialect).encode())
    taken: set[str] = set()
    number = 0
    for stored in categories(report):
        first = next(stored.records, None)
        if first is None:
            continue  # a category in which nothing was found gets no file
        number += 1
        sheet = sheet_for(stored.entry, describe(stored.connector,
                                                 str(stored.entry.get("name"))), dialect)
        lines = _Lines(dialect)
        with archive.open(_entry(file_name(number, _title(stored), taken)), "w",
                          force_zip64=zip64) as entry:
            entry.write(codecs.BOM_UTF8 + lines.of(sheet.headings()))
            entry.write(lines.of(sheet.row(first)))
            for record in stored.records:
                entry.write(lines.of(sheet.row(record)))
                if pipe.size >= HAND_ON_BYTES:
                    yield pipe.drain()
        yield pipe.drain()
    archive.close()
    yield pipe.drain()


def readme(dialect: Dialect) -> str:
    """The README.txt of the ZIP file: what the files hold and how they are written."""
    paragraphs = [
        gettext("Your personal data as spreadsheets"),
        gettext("Each CSV file holds one kind of data from our answer, with a row for each "
                "record and a column for each field. The file report.json holds the same "
                "records in full."),
        gettext('The fields are separated by "%(separator)s" and numbers are written with '
                '"%(mark)s" as the decimal mark. The files are in UTF-8.',
                separator=dialect.separator, mark=dialect.decimal_mark),
        gettext("Amounts are in euros (or in the currency a record names) with two "
                "decimals, and dates are written as year-month-day. Codes are written in "
                "words, and several items in one field each on a line of their own."),
        gettext("The last four columns say until when we keep each record, how long we "
                "keep it while there is no end date yet, in which stages we keep it (all "
                "of it, then only what the law requires), and what else you should know "
                "of it, such as details of other people that were removed."),
        gettext("A cell that starts with an apostrophe (') started with =, +, - or @. The "
                "apostrophe keeps a spreadsheet program from running it as a formula; it "
                "is not part of your data."),
    ]
    return "\r\n\r\n".join(paragraphs) + "\r\n"


def file_name(number: int, title: str, taken: set[str]) -> str:
    """A category's file in the ZIP file: its number and its title, made safe for every
    system's file names, never one taken already (which it adds to `taken`)."""
    cleaned = " ".join(re.sub(r'[<>:"/\\|?*\x00-\x1f\x7f]', " ", title).split())
    base = f"{number:02d} {cleaned.strip(' .')[:80]}".strip()
    name, count = f"{base}.csv", 1
    while name.casefold() in taken:
        count += 1
        name = f"{base} ({count}).csv"
    taken.add(name.casefold())
    return name


def _entry(name: str) -> zipfile.ZipInfo:
    """A file of the ZIP file, dated now, compressed, readable when unpacked."""
    info = zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # without it, unzip on Unix makes files no one can read
    return info


def _title(stored: StoredCategory) -> str:
    """A category's title as the answer gives it, else its name."""
    return str(stored.entry.get("title") or stored.entry.get("name") or "")


def _is_number(value: Any) -> bool:
    """Whether a value is written as a number: finite, and not a truth value."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


class _Lines:
    """Rows as the bytes of CSV lines, in one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        """Writes with the dialect's separator, and CRLF as spreadsheets expect."""
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=dialect.separator,
                                  lineterminator="\r\n")

    def of(self, cells: Sequence[str]) -> bytes:
        """One row as a line of UTF-8."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode()


class _Pipe:
    """Where the ZIP file is written: it gathers the bytes until they are handed on.

    It cannot seek, so zipfile writes each entry's sizes after its data.
    """

    def __init__(self) -> None:
        """Starts empty."""
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        """Gathers written bytes."""
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the bytes wait for `drain`."""

    def close(self) -> None:
        """Nothing to close: what is gathered is still to be drained."""

    def drain(self) -> bytes:
        """The bytes gathered since the last call."""
        out = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return out
