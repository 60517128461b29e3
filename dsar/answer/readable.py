"""The readable answer's cells: a record's fields as a person reads them.

Dates as dates, amounts in cents as money, nested lists as how many they hold, each the way
the answer's language writes it (the language in force, `i18n.for_request`). The JSON
answer keeps every field as the connector gave it; this is only what the PDF shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from flask_babel import get_locale, ngettext

from dsar.connector import Category, Column, ColumnKind
from dsar.policy.deadlines import parse_day

#: Columns shown for a category that declares none: its first fields, under their names.
DEFAULT_COLUMN_COUNT = 5
#: How each language writes amounts: the Dutch "€ 1.234,56", the English "€1,234.56".
MONEY_LOCALES = {"nl": "nl_NL", "en": "en_IE"}
#: How each language writes days: "12 mrt. 2021", "12 Mar 2021".
DATE_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
DEFAULT_CURRENCY = "EUR"


def columns_of(category: Category) -> tuple[Column, ...]:
    """The columns of a category's table: those it declares, or its first fields, each
    headed by its label."""
    if category.columns:
        return category.columns
    return tuple(
        Column(capitalised(field_label(category.labels, name)), (name,))
        for name in category.fields[:DEFAULT_COLUMN_COUNT]
    )


def labels_of(category: Category) -> dict[str, str]:
    """Each field of the category as a person reads it mid-sentence: its declared label,
    else the heading of the table column that shows it."""
    headings = {field: column.label.lower()
                for column in columns_of(category) for field in column.fields}
    return {**headings, **category.labels}


def field_label(labels: Mapping[str, str], field: str) -> str:
    """A field as a person reads it: its label, else its name in words ("ship city")."""
    return labels.get(field) or in_words(field)


def in_words(name: str) -> str:
    """A program's name for a field or a code as words: "ship_postal_code" → "ship
    postal code". What a person reads when the connector gives no label."""
    return " ".join(name.replace("_", " ").split())


def unlabelled(category: Category) -> list[str]:
    """The fields of a category that have no label of their own."""
    return [name for name in category.fields if not category.labels.get(name)]


def unlabelled_value(category: Category, data: Mapping[str, Any]) -> list[str]:
    """The coded values of one record that the category gives no label
    ("status 'refunded'")."""
    return [f"{name} {value!r}" for name, labelled in category.values.items()
            if (value := data.get(name)) not in (None, "") and str(value) not in labelled]


def row(data: Mapping[str, Any], columns: Sequence[Column],
        codes: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """One record as the cells of its table row, codes shown by their labels in `codes`
    (a category's `values`)."""
    return [cell(data, column, codes) for column in columns]


def cell(data: Mapping[str, Any], column: Column,
         codes: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """One column of a record as text."""
    codes = codes or {}
    values = [data.get(name) for name in column.fields]
    if column.kind == ColumnKind.TEXT and codes:
        values = [_coded(codes.get(name), value) for name, value in zip(
            column.fields, values, strict=True)]
    if column.kind == ColumnKind.DATE:
        return ", ".join(filter(None, (_date_text(v) for v in values)))
    if column.kind == ColumnKind.MONEY:
        currency = data.get("currency") or DEFAULT_CURRENCY
        return ", ".join(money_text(v, str(currency)) for v in values if _is_number(v))
    if column.kind == ColumnKind.COUNT:
        return ", ".join(_items(len(v)) for v in values if isinstance(v, list))
    return ", ".join(_text(v) for v in values if v not in (None, "", [], {}))


def _coded(labelled: Mapping[str, str] | None, value: Any) -> Any:
    """A value through the labels of its codes, when its field has them."""
    if labelled is None or value in (None, "") or isinstance(value, list | dict):
        return value
    return labelled.get(str(value)) or in_words(str(value))


def capitalised(text: str) -> str:
    """A label as a heading: its first letter a capital, the rest as written."""
    return text[:1].upper() + text[1:]


def record_day(data: Mapping[str, Any], columns: Sequence[Column]) -> date | None:
    """The day a record is dated by: the first date column that holds one."""
    for column in columns:
        if column.kind == ColumnKind.DATE:
            for name in column.fields:
                day = parse_day(data.get(name))
                if day is not None:
                    return day
    return None


def day_text(day: date | None) -> str:
    """A day written out, e.g. "12 Mar 2021"."""
    return _format_day(day, _language()) if day else ""


def _date_text(value: Any) -> str:
    """A date or date-time value as a day, or the value itself when it is no date."""
    day = parse_day(value)
    if day is not None:
        return _format_day(day, _language())
    return _text(value) if value not in (None, "") else ""


def _language() -> str:
    """The language of the answer being written."""
    return str(get_locale() or "en").split("_")[0]


@lru_cache(maxsize=4096)
def _format_day(day: date, language: str) -> str:
    """Babel's formatting of a day; cached, as long histories repeat their days."""
    return str(format_date(day, "d MMM y", locale=DATE_LOCALES.get(language, "en_GB")))


def money_text(cents: Any, currency: str) -> str:
    """An amount in cents as money, e.g. "€ 29,85" in Dutch."""
    return str(format_currency(cents / 100, currency,
                               locale=MONEY_LOCALES.get(_language(), "en_IE")))


def _is_number(value: Any) -> bool:
    """Whether a value is an amount (booleans are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _items(count: int) -> str:
    """How many a list holds, e.g. "3 items"."""
    return ngettext("%(num)d item", "%(num)d items", count)


def _text(value: Any) -> str:
    """Any JSON value as short text."""
    if isinstance(value, list):
        return _items(len(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)
