"""What `dsar connector check` finds in the live database: read only, nothing is written.

Errors stop the connector from working (a table or column that is not there, a field an
erasure cannot clear); warnings say what it costs as it is (no index for the match, so each
request reads the whole table) and how to mend it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, String, Table, UniqueConstraint, func, inspect, select, text

from dsar.declarative.spec import CategorySpec, ConnectorSpec
from dsar.declarative.tables import mismatches, quiet_reflection, reflect
from dsar.policy.retention import RetentionRule

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One thing the check found: an error or a warning, in words."""

    level: str
    text: str


def retention_findings(
    spec: ConnectorSpec, rules: Mapping[str, RetentionRule]
) -> list[Finding]:
    """Checks the declaration against the retention rules, which are looked up by category
    name: a category without a rule is never erased, a rule must name exported fields."""
    findings = []
    for category in spec.categories:
        rule = rules.get(category.name)
        if rule is None:
            findings.append(Finding(WARNING, (
                f"{category.name}: the retention rules (config/retention.toml) have no "
                f"[{category.name}] rule: every erasure plan blocks its records and the "
                "privacy officer decides on each; add one saying on_erasure = \"erase\" or "
                "\"minimise\"")))
            continue
        named = [("keep", name) for name in rule.keep] + (
            [("anchor", rule.anchor)] if rule.anchor else [])
        missing = [f"{key} {name!r}" for key, name in named if name not in category.fields]
        if missing:
            findings.append(Finding(ERROR, (
                f"{category.name}: the retention rule [{category.name}] names fields the "
                f"category does not export ({', '.join(missing)}): its erasure cannot keep "
                "them, or never finds the date its period runs from")))
    return findings


def inspect_database(
    spec: ConnectorSpec, connection: Connection,
    rules: Mapping[str, RetentionRule] | None = None,
) -> list[Finding]:
    """Checks the declaration against the database: the tables and columns it names, the
    indexes its queries need, and the columns its erasures clear (under the retention
    rules when given: only a minimising rule keeps a deleted category's rows in part)."""
    tables = reflect(connection, list(spec.columns_used()))
    findings = [Finding(ERROR, problem) for problem in mismatches(spec, tables)]
    if findings:
        return findings
    indexes = _Indexes(connection, tables)
    for category in spec.categories:
        findings += _keys(category, tables[category.table], connection)
        rule = rules.get(category.name) if rules is not None else None
        if rules is None or (rule is not None and rule.on_erasure == "minimise") or \
                category.on_erase != "delete":
            findings += _clearing(category, tables)
        findings += _deleting(spec, category, tables)
        findings += _correcting(category, tables[category.table])
        _indexed(category, indexes)
    findings += indexes.findings()
    unique = []
    for finding in findings:
        if finding not in unique:
            unique.append(finding)
    return unique


def _clearing(category: CategorySpec, tables: Mapping[str, Table]) -> list[Finding]:
    """The fields an erasure clears that the table cannot hold empty."""
    table = tables[category.table]
    stuck = [name for name in category.personal
             if not table.c[name].nullable and not isinstance(table.c[name].type, String)]
    # A text that may not be NULL is cleared to "": twice in a unique column, and the
    # second person's erasure fails for good.
    unique = _unique_columns(table)
    collide = [name for name in category.personal
               if not table.c[name].nullable and name in unique and name not in stuck]
    if collide:
        return [Finding(ERROR, (
            f"{category.name}: {table.name}.{', '.join(collide)} may not be NULL and must be "
            "unique: an erasure clears it to an empty text, and the second person's erasure "
            "then fails on the unique rule; allow NULL there, or delete the rows"))]
    if not stuck:
        return []
    where = f"{category.name}: {table.name}.{', '.join(stuck)} may not be NULL and is not text"
    if category.on_erase == "delete":
        # Only a record the retention rule minimises is cleared instead of deleted.
        return [Finding(WARNING, f"{where}: a record the retention rule keeps in part "
                        "(minimise) cannot be cleared, and its erasure fails")]
    return [Finding(ERROR, f"{where}: on_erase = {category.on_erase!r} cannot clear it")]


#: How many of a key's duplicated values a finding names, so the rows can be looked up.
SHOWN_DUPLICATES = 5


def _keys(category: CategorySpec, table: Table, connection: Connection) -> list[Finding]:
    """Keys that do not tell one record from another, read from the table's data.

    Erasure, correction and retention holds find a record by its key alone: a key held by
    two rows acts on both (or fails the whole erasure for good), and a row without a key
    can be shown but never acted on. No retry mends either, so the check refuses them.
    """
    column = table.c[category.key]
    findings = []
    if column.nullable:
        missing = connection.scalar(
            select(func.count()).select_from(table).where(column.is_(None)))
        if missing:
            rows, have, them = ("row", "has", "it") if missing == 1 else ("rows", "have", "them")
            # A statement shown to the reader, never run.
            lookup = f"SELECT * FROM {table.name} WHERE {category.key} IS NULL"  # noqa: S608
            findings.append(Finding(ERROR, (
                f"{category.name}: {missing} {rows} of {table.name} {have} no {category.key} "
                f"(NULL): erasure and correction find a record by its key and cannot reach "
                f"{them}; find {them} with {lookup}")))
    if column.name in _unique_columns(table) or _sole_primary_key(table, column.name):
        return findings
    held_twice = connection.execute(
        select(column, func.count().label("rows")).where(column.is_not(None))
        .group_by(column).having(func.count() > 1).order_by(column)
    ).all()
    if held_twice:
        shown = ", ".join(f"{value!r} ({rows} rows)"
                          for value, rows in held_twice[:SHOWN_DUPLICATES])
        more = len(held_twice) - SHOWN_DUPLICATES
        findings.append(Finding(ERROR, (
            f"{category.name}: {table.name}.{category.key} is not unique: "
            f"{len(held_twice)} value{'s are' if len(held_twice) != 1 else ' is'} held by "
            f"more than one row ({shown}{f', and {more} more' if more > 0 else ''}); an "
            "erasure or correction of one record would reach the others too. Declare as "
            "key a column that is unique for each row")))
    return findings


def _sole_primary_key(table: Table, name: str) -> bool:
    """Whether the column is the table's primary key on its own."""
    return [column.name for column in table.primary_key.columns] == [name]


def _unique_columns(table: Table) -> set[str]:
    """The columns a unique constraint or index holds on its own."""
    unique = {column.name for column in table.columns if column.unique}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns) == 1:
            unique |= {column.name for column in constraint.columns}
    for index in table.indexes:
        if index.unique and len(index.columns) == 1:
            unique |= {column.name for column in index.columns}
    return unique


def _deleting(
    spec: ConnectorSpec, category: CategorySpec, tables: Mapping[str, Table]
) -> list[Finding]:
    """Deleted rows that the rows of a category erased otherwise still point at."""
    if category.on_erase != "delete":
        return []
    findings = []
    for other in spec.categories:
        if other.on_erase == "delete" or other.match.through != category.table:
            continue
        child = tables[other.table]
        if any(fk.target_fullname.split(".")[-2] == category.table for fk in child.foreign_keys):
            findings.append(Finding(WARNING, (
                f"{category.name}: deleting a {category.table} row fails while {other.name} "
                f"rows ({other.table}.{other.match.on}) still point at it, and {other.name} "
                f"keeps its rows (on_erase = {other.on_erase!r})")))
    return findings


def _correcting(category: CategorySpec, table: Table) -> list[Finding]:
    """Correctable fields that cannot hold the text a correction gives."""
    return [Finding(ERROR, f"{category.name}: {table.name}.{name} is not text: a correction "
                    "cannot be written to it")
            for name in category.correctable if not isinstance(table.c[name].type, String)]


def _indexed(category: CategorySpec, indexes: _Indexes) -> None:
    """Notes the indexes the category's queries need."""
    match = category.match
    indexes.need(category.table, category.key, category.name, "erasure finds records by key")
    if match.through is None:
        indexes.need_match(category.table, match.column, category.name)
    else:
        assert match.on and match.references
        indexes.need_match(match.through, match.column, category.name)
        indexes.need(match.through, match.references, category.name,
                      f"{category.table} rows are joined on it")
        indexes.need(category.table, match.on, category.name,
                     f"the {category.table} rows of a {match.through} row are found by it")


class _Indexes:
    """The indexes the queries need, and what each missing one costs in rows read."""

    def __init__(self, connection: Connection, tables: Mapping[str, Table]) -> None:
        """Remembers the connection; reads each table's indexes when first asked."""
        self.connection = connection
        self.tables = tables
        self._leads: dict[str, set[str]] = {}
        #: Per missing index (table, column or expression): why, and for which categories.
        self._missing: dict[tuple[str, str], tuple[str, list[str]]] = {}

    def need(self, table: str, column: str, category: str, why: str) -> None:
        """Notes a missing index when none begins with the column."""
        if normalised(column) not in self._leads_of(table):
            self._note(table, column, category, why)

    def need_match(self, table: str, column: str, category: str) -> None:
        """Notes a missing index when none serves lower(trim(column)), how addresses are
        compared."""
        expression = f"lower(trim({column}))"
        leads = self._leads_of(table)
        if normalised(expression) in leads:
            return
        why = "every request scans the whole table to compare addresses"
        if normalised(column) in leads:
            why += f"; the index on {column} itself does not serve lower(trim({column}))"
        self._note(table, expression, category, why)

    def findings(self) -> list[Finding]:
        """A warning per missing index: what it costs, and the statement that adds it."""
        findings = []
        for (table, what), (why, categories) in self._missing.items():
            count = int(self.connection.scalar(
                select(func.count()).select_from(self.tables[table])) or 0)
            name = re.sub(r"\W+", "_", what.replace("lower(trim(", "")).strip("_")
            suffix = "_match" if what.startswith("lower(") else ""
            # Names are quoted where the database needs it (a table called "order").
            quote = self.connection.dialect.identifier_preparer.quote
            compared = what.startswith("lower(trim(")
            column = what[len("lower(trim("):-2] if compared else what
            indexed = f"lower(trim({quote(column)}))" if compared else quote(column)
            findings.append(Finding(WARNING, (
                f"{table}: no index on {what} ({why}; for {', '.join(categories)}): each "
                f"request reads all {count} row{'s' if count != 1 else ''}; add one: "
                f"CREATE INDEX {quote(f'{table}_{name}{suffix}')} ON {quote(table)} "
                f"({indexed});")))
        return findings

    def _note(self, table: str, what: str, category: str, why: str) -> None:
        """Adds a category to a missing index's list."""
        noted = self._missing.setdefault((table, what), (why, []))
        if category not in noted[1]:
            noted[1].append(category)

    def _leads_of(self, table: str) -> set[str]:
        """What the table's indexes (its primary key and unique constraints too) begin with."""
        if table not in self._leads:
            self._leads[table] = _index_leads(self.connection, table)
        return self._leads[table]


def normalised(expression: str) -> str:
    """An index's column or expression as written by any database, compared as one text:
    `lower(TRIM(BOTH FROM (email)::text))` (PostgreSQL) is `lower(trim(email))`."""
    found = expression.lower()
    found = re.sub(r"\s+(asc|desc|collate\s+\S+)\s*$", "", found)
    found = re.sub(r'["`\[\]]', "", found)
    found = re.sub(r"::\s*[a-z_][a-z_ ]*(\([0-9, ]*\))?", "", found)
    found = re.sub(r"\s+", "", found)
    found = found.replace("trim(bothfrom", "trim(").replace("btrim(", "trim(")
    previous = None
    while previous != found:  # (email) → email, however deep
        previous = found
        found = re.sub(r"(?<![\w)])\(([\w.]+)\)", r"\1", found)
    return found


def _index_leads(connection: Connection, table: str) -> set[str]:
    """What each index of the table begins with, normalised."""
    inspector = inspect(connection)
    leads: set[str] = set()
    with quiet_reflection():
        primary = inspector.get_pk_constraint(table).get("constrained_columns") or []
        if primary:
            leads.add(normalised(primary[0]))
        for unique in inspector.get_unique_constraints(table):
            if unique["column_names"]:
                leads.add(normalised(unique["column_names"][0]))
        for index in inspector.get_indexes(table):
            columns = index.get("column_names") or [None]
            expressions = index.get("expressions") or []
            first = columns[0] or (expressions[0] if expressions else None)
            if first:
                leads.add(normalised(first))
    if connection.dialect.name == "sqlite":
        # SQLAlchemy skips SQLite's indexes on expressions: read their definitions.
        definitions = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table "
                 "AND sql IS NOT NULL"), {"table": table}).scalars()
        for definition in definitions:
            first = _first_element(definition)
            if first:
                leads.add(normalised(first))
    return leads


def _first_element(definition: str) -> str | None:
    """The first column or expression of a CREATE INDEX statement."""
    opening = re.search(r"\bon\s+[^(]+\(", definition, re.IGNORECASE)
    if opening is None:
        return None
    depth, start = 0, opening.end()
    for position in range(start, len(definition)):
        char = definition[position]
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char in ",)" and depth == 0:
            return definition[start:position].strip()
    return None
