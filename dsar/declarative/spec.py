"""A connector declaration file, parsed and checked into a pure spec: no database, no Flask.

Every mistake is refused with the file, the key and what is wrong, and a key the format
does not know is refused rather than ignored: a misspelt `on_erase` must not quietly mean
something else. Names of tables and columns are checked here only for their shape; whether
they exist is checked against the reflected database (`dsar.declarative.connector`), so
nothing from the file is ever pasted into SQL text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from dsar.connector import Category, Column, ColumnKind, LegalBasis, translatable
from dsar.policy.corrections import FIELDS as CORRECTABLE_FIELDS
from dsar.policy.retention import RetentionRulesError, parse_rules

#: What a table or column name may look like: a plain SQL identifier.
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: What a connector's or a category's name may look like: the key programs use.
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: What an environment variable's name may look like.
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: What an erasure does to a category's row: delete it, set the `clear` columns to NULL,
#: or clear every exported field but the ones the retention rule keeps.
ON_ERASE = ("delete", "clear", "minimise")

_TOP_KEYS = ("name", "title", "database_url_env", "categories")
_CATEGORY_KEYS = (
    "name", "title", "purpose", "legal_basis", "recipients", "retention", "source", "table",
    "key", "fields", "columns", "match", "on_erase", "clear", "correctable", "rule", "basis",
    "direct_marketing", "labels", "values",
)
_REQUIRED = ("name", "title", "purpose", "legal_basis", "recipients", "retention", "source",
             "table", "key", "fields", "match", "on_erase")
_COLUMN_KEYS = ("label", "fields", "kind")
_MATCH_KEYS = ("column", "through", "on", "references")


class SpecError(ValueError):
    """The declaration file says something a connector cannot be built from."""


@dataclass(frozen=True)
class Match:
    """How a category's records are found for a subject.

    Attributes:
        column: the column holding the e-mail address, compared as lower(trim(column)):
            in the category's own table, or with `through` in that table.
        through: a table the records point at, whose `column` holds the address.
        on: the category's column pointing at a row of `through`.
        references: the column of `through` that `on` holds (its id).
    """

    column: str
    through: str | None = None
    on: str | None = None
    references: str | None = None


@dataclass(frozen=True)
class CategorySpec:
    """One category of a declared connector: what it is, and where and how it is stored.

    Attributes:
        category: the category as the answer describes it.
        table: the table holding its records, a row each.
        key: the column identifying a record; erasure finds records by it, never by address.
        match: how the subject's records are found.
        on_erase: "delete", "clear" or "minimise" (`ON_ERASE`).
        clear: for "clear", the columns an erasure sets to NULL.
        correctable: the fields a rectification may change.
        rule: the retention rule the planner decides its erasure by, in
            config/retention.toml's format: the file's `rule`, else "erase" for a category
            that is deleted or cleared (the declaration says nothing obliges keeping it).
    """

    category: Category
    table: str
    key: str
    match: Match
    on_erase: str
    clear: tuple[str, ...] = ()
    correctable: tuple[str, ...] = ()
    rule: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The category's name."""
        return self.category.name

    @property
    def fields(self) -> tuple[str, ...]:
        """The columns a record exports, as its fields."""
        return self.category.fields

    @property
    def personal(self) -> tuple[str, ...]:
        """The fields an erasure clears when it keeps the row: the `clear` columns, or
        every exported field but the key (the key must stay, or the row is lost)."""
        if self.on_erase == "clear":
            return self.clear
        return tuple(name for name in self.fields if name != self.key)

    def columns_used(self) -> dict[str, set[str]]:
        """Every column the category reads or writes, by table."""
        own = {self.key, *self.fields, *self.clear, *self.correctable}
        if self.match.through is None:
            return {self.table: own | {self.match.column}}
        assert self.match.on and self.match.references
        used = {self.table: own | {self.match.on},
                self.match.through: {self.match.references, self.match.column}}
        if self.match.through == self.table:
            used[self.table] = own | {self.match.on, self.match.references, self.match.column}
        return used


@dataclass(frozen=True)
class ConnectorSpec:
    """A declared connector: its name, the variable holding its database URL, its categories.

    Attributes:
        path: the file it was read from, for messages.
        name: the connector's name in the registry.
        title: what a customer calls the system.
        database_url_env: the name of the environment variable holding the database URL.
        categories: its categories, in the file's order.
    """

    path: str
    name: str
    title: str
    database_url_env: str
    categories: tuple[CategorySpec, ...]

    def category(self, name: str) -> CategorySpec:
        """The category of that name."""
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(f"{self.name} has no category {name!r}")

    def columns_used(self) -> dict[str, set[str]]:
        """Every column the connector reads or writes, by table."""
        used: dict[str, set[str]] = {}
        for category in self.categories:
            for table, columns in category.columns_used().items():
                used.setdefault(table, set()).update(columns)
        return used


def load_spec(path: str | Path) -> ConnectorSpec:
    """Reads and checks a declaration file.

    Raises:
        SpecError: the file cannot be read, is not TOML, or declares something wrong; the
            message names the file, the key and what is wrong.
    """
    where = str(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except OSError as exc:
        raise SpecError(f"{where}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: is not valid TOML: {exc}") from None
    return parse_spec(raw, where)


def parse_spec(raw: Mapping[str, Any], path: str = "<declaration>") -> ConnectorSpec:
    """Checks a parsed declaration and turns it into a spec.

    Raises:
        SpecError: naming the file, the key and what is wrong.
    """
    top = _Reader(path, "", raw)
    top.refuse_unknown(_TOP_KEYS)
    name = top.name("name")
    env = top.text("database_url_env")
    if "://" in env or not ENV_NAME.match(env):
        # The value is not repeated: it may be the URL itself, password and all.
        top.fail("database_url_env", "must be the NAME of the environment variable that "
                 "holds the database URL (such as LOYALTY_DATABASE_URL), not the URL or "
                 "anything else: the URL, with its password, stays in the environment")
    listed = raw.get("categories")
    if not isinstance(listed, list) or not listed:
        top.fail("categories", "declare at least one [[categories]] table")
    categories = tuple(
        _category(_Reader(path, f"[[categories]] #{number}", item))
        for number, item in enumerate(listed, start=1)
    )
    seen: set[str] = set()
    for number, category in enumerate(categories, start=1):
        if category.name in seen:
            raise SpecError(f"{path}: [[categories]] #{number}: name: {category.name!r} is "
                            "declared twice")
        seen.add(category.name)
    return ConnectorSpec(path=path, name=name, title=translatable(top.text("title")),
                         database_url_env=env, categories=categories)


def _category(reader: _Reader) -> CategorySpec:
    """One [[categories]] table as a category spec."""
    if not isinstance(reader.raw, Mapping):
        reader.fail("", "must be a table")
    label = reader.raw.get("name")
    if isinstance(label, str):
        reader.where += f" ({label})"
    reader.refuse_unknown(_CATEGORY_KEYS)
    for key in _REQUIRED:
        if key not in reader.raw:
            reader.fail(key, "is missing")
    name = reader.name("name")
    table = reader.identifier("table")
    key = reader.identifier("key")
    fields = reader.identifiers("fields")
    if not fields:
        reader.fail("fields", "name at least one column to export")
    match = _match(reader)
    on_erase = reader.text("on_erase")
    if on_erase not in ON_ERASE:
        reader.fail("on_erase", f"must be one of {', '.join(ON_ERASE)}, not {on_erase!r}")
    clear = reader.identifiers("clear") if "clear" in reader.raw else ()
    if on_erase == "clear":
        if not clear:
            reader.fail("clear", 'on_erase = "clear" needs the columns to clear, '
                        'e.g. clear = ["email", "name"]')
        reader.within("clear", clear, fields)
        if key in clear:
            reader.fail("clear", f"cannot clear the key {key!r}: erasure finds records by it")
        if match.through is None and match.column not in clear:
            reader.fail("clear", f"must clear {match.column!r}, the address the records are "
                        "found by: else an erased record is still the person's")
    elif "clear" in reader.raw:
        reader.fail("clear", f'is only for on_erase = "clear" (this one is {on_erase!r})')
    correctable = reader.identifiers("correctable") if "correctable" in reader.raw else ()
    reader.within("correctable", correctable, fields)
    unknown = [name for name in correctable if name not in CORRECTABLE_FIELDS]
    if unknown:
        reader.fail("correctable", f"{', '.join(unknown)} cannot be corrected by a request; "
                    f"one of: {', '.join(CORRECTABLE_FIELDS)}")
    if key in correctable:
        reader.fail("correctable", f"the key {key!r} cannot be corrected")
    recipients = reader.texts("recipients")
    category = Category(
        name=name,
        title=translatable(reader.text("title")),
        fields=fields,
        purpose=translatable(reader.text("purpose")),
        legal_basis=translatable(reader.text("legal_basis")),
        recipients=tuple(translatable(text) for text in recipients),
        retention=translatable(reader.text("retention")),
        source=translatable(reader.text("source")),
        columns=_columns(reader, fields),
        labels=_labels(reader, fields),
        values=_values(reader, fields),
        basis=_basis(reader),
        direct_marketing=reader.flag("direct_marketing"),
    )
    return CategorySpec(category=category, table=table, key=key, match=match,
                        on_erase=on_erase, clear=clear, correctable=correctable,
                        rule=_rule(reader, name, on_erase))


def _basis(reader: _Reader) -> tuple[LegalBasis, ...]:
    """The category's Art. 6(1) grounds as programs read them; none when not given (the
    privacy officer is then told in every answer that finds the category)."""
    if "basis" not in reader.raw:
        return ()
    grounds = reader.texts("basis")
    known = [ground.value for ground in LegalBasis]
    if not grounds:
        reader.fail("basis", f"name one or more grounds of Art. 6(1): {', '.join(known)}")
    for ground in grounds:
        if ground not in known:
            reader.fail("basis", f"{ground!r} is not a ground of Art. 6(1); one or more of: "
                        f"{', '.join(known)}")
    return tuple(LegalBasis(ground) for ground in dict.fromkeys(grounds))


def _rule(reader: _Reader, name: str, on_erase: str) -> dict[str, Any]:
    """The category's retention rule, checked as the rules file's are."""
    raw = reader.raw.get("rule")
    if raw is None:
        if on_erase == "minimise":
            reader.fail("rule", 'on_erase = "minimise" needs the retention rule it keeps by: '
                        'rule = { on_erasure = "minimise", anchor = ..., retain_years = ..., '
                        "keep = [...], legal_basis = ... }")
        return {"on_erasure": "erase"}
    if not isinstance(raw, Mapping):
        reader.fail("rule", "must be a table in config/retention.toml's format")
    try:
        parse_rules({name: dict(raw)})
    except RetentionRulesError as exc:
        reader.fail("rule", str(exc))
    if (raw.get("on_erasure") == "minimise") != (on_erase == "minimise"):
        reader.fail("rule", f'on_erasure = {raw.get("on_erasure")!r} does not fit '
                    f"on_erase = {on_erase!r}")
    return dict(raw)


def _match(reader: _Reader) -> Match:
    """The category's `match` table: a column of its own, or a join through another table."""
    raw = reader.raw.get("match")
    if not isinstance(raw, Mapping):
        reader.fail("match", 'must be a table: match = { column = "email" }, or match = '
                    '{ through = "members", on = "member_id", references = "id", '
                    'column = "email" }')
    inner = _Reader(reader.path, reader.where, raw, prefix="match.")
    inner.refuse_unknown(_MATCH_KEYS)
    column = inner.identifier("column")
    joined = [key for key in ("through", "on", "references") if key in raw]
    if not joined:
        return Match(column=column)
    missing = [key for key in ("through", "on", "references") if key not in raw]
    if missing:
        inner.fail(missing[0], "is missing: a match through another table needs through, "
                   "on, references and column")
    return Match(column=column, through=inner.identifier("through"),
                 on=inner.identifier("on"), references=inner.identifier("references"))


def _columns(reader: _Reader, fields: tuple[str, ...]) -> tuple[Column, ...]:
    """The category's `columns` for the readable answer, each showing exported fields."""
    raw = reader.raw.get("columns", [])
    if not isinstance(raw, list):
        reader.fail("columns", "must be a list of { label, fields, kind } tables")
    columns = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            reader.fail(f"columns #{number}", "must be a table { label, fields, kind }")
        inner = _Reader(reader.path, reader.where, item, prefix=f"columns #{number}: ")
        inner.refuse_unknown(_COLUMN_KEYS)
        shown = inner.identifiers("fields")
        if not shown:
            inner.fail("fields", "name at least one field to show")
        reader.within(f"columns #{number}: fields", shown, fields)
        kind = item.get("kind", ColumnKind.TEXT.value)
        if kind not in {k.value for k in ColumnKind}:
            inner.fail("kind", f"must be one of {', '.join(k.value for k in ColumnKind)}, "
                       f"not {kind!r}")
        columns.append(Column(translatable(inner.text("label")), shown, ColumnKind(kind)))
    return tuple(columns)


def _labels(reader: _Reader, fields: tuple[str, ...]) -> dict[str, str]:
    """The category's `labels`: each exported field as a person reads it mid-sentence
    (`labels = { joined_at = "date joined" }`). A field left out is shown as its name in
    words, and the privacy officer is told."""
    raw = reader.raw.get("labels", {})
    if not isinstance(raw, Mapping):
        reader.fail("labels", 'must be a table of field = "label", e.g. labels = '
                    '{ joined_at = "date joined" }')
    reader.within("labels", list(raw), fields)
    inner = _Reader(reader.path, reader.where, raw, prefix="labels.")
    return {name: translatable(inner.text(name)) for name in raw}


def _values(reader: _Reader, fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The category's `values`: for a field holding codes, each stored value as a person
    reads it (`values = { tier = { gold = "gold member" } }`)."""
    raw = reader.raw.get("values", {})
    if not isinstance(raw, Mapping) or not all(isinstance(v, Mapping) for v in raw.values()):
        reader.fail("values", 'must be a table of field = { value = "label" }, e.g. '
                    'values = { tier = { gold = "gold member" } }')
    reader.within("values", list(raw), fields)
    coded = {}
    for name, labelled in raw.items():
        inner = _Reader(reader.path, reader.where, labelled, prefix=f"values.{name}.")
        coded[name] = {str(code): translatable(inner.text(code)) for code in labelled}
    return coded


class _Reader:
    """Reads the values of one table of the file, failing with the file, place and key."""

    def __init__(self, path: str, where: str, raw: Any, prefix: str = "") -> None:
        """Remembers where the table is, for messages."""
        self.path, self.where, self.raw, self.prefix = path, where, raw, prefix

    def fail(self, key: str, problem: str) -> NoReturn:
        """Raises the SpecError for a key of this table."""
        place = ": ".join(part for part in (self.where, f"{self.prefix}{key}".strip(": ")) if part)
        raise SpecError(f"{self.path}: {place}: {problem}")

    def refuse_unknown(self, known: Sequence[str]) -> None:
        """Refuses keys the format does not know."""
        unknown = [key for key in self.raw if key not in known]
        if unknown:
            self.fail(unknown[0], f"unknown key (known: {', '.join(sorted(set(known)))})")

    def text(self, key: str) -> str:
        """A text the table must have."""
        value = self.raw.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "is missing" if value is None else "must be a text that is not empty")
        return " ".join(value.split())

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of texts (it may be empty)."""
        value = self.raw.get(key)
        if not isinstance(value, list) or not all(
                isinstance(item, str) and item.strip() for item in value):
            self.fail(key, "must be a list of texts, e.g. [] or [\"PostNL\"]")
        return tuple(" ".join(item.split()) for item in value)

    def flag(self, key: str) -> bool:
        """A true or false that may be left out (false)."""
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
        return value

    def name(self, key: str) -> str:
        """A name programs use: lower case letters, digits and underscores."""
        value = self.text(key)
        if not NAME.match(value):
            self.fail(key, f"{value!r} must be lower case letters, digits and underscores, "
                      "starting with a letter")
        return value

    def identifier(self, key: str) -> str:
        """A table's or column's name."""
        value = self.raw.get(key)
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            self.fail(key, "is missing" if value is None else
                      f"{value!r} is not a table or column name (letters, digits, underscores)")
        return str(value)

    def identifiers(self, key: str) -> tuple[str, ...]:
        """A list of column names, each once."""
        value = self.raw.get(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(key, "must be a list of column names")
        for item in value:
            if not IDENTIFIER.match(item):
                self.fail(key, f"{item!r} is not a column name (letters, digits, underscores)")
        doubled = sorted({item for item in value if value.count(item) > 1})
        if doubled:
            self.fail(key, f"names {', '.join(doubled)} twice")
        return tuple(value)

    def within(self, key: str, names: Sequence[str], fields: Sequence[str]) -> None:
        """Refuses names that are not among the category's exported fields."""
        outside = [name for name in names if name not in fields]
        if outside:
            self.fail(key, f"{', '.join(outside)} must be among the category's fields "
                      f"({', '.join(fields)})")
