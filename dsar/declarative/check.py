"""`dsar connector check FILE`: is a declaration right, and does its database hold it?

First the file (`spec`), then the live database it names, read only (`inspection`); when
both hold and the conformance kit (`dsar.kit`) is installed, the connector is tried by the
kit on a scratch copy (`scratch`), never on the live database.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from dsar.declarative.inspection import (
    ERROR,
    WARNING,
    Finding,
    inspect_database,
    retention_findings,
)
from dsar.declarative.scratch import scratch_copy
from dsar.declarative.spec import ConnectorSpec, SpecError, load_spec
from dsar.policy.retention import RetentionRule, parse_rules

INFO = "info"
#: The conformance kit's module; the check runs it when it is installed.
KIT = "dsar.kit"
#: The kit's check that markup comes back as text (`run_checks` names it so).
MARKUP_CHECK = "markup_is_carried_as_text"

__all__ = ["ERROR", "INFO", "WARNING", "Finding", "check_declaration"]


def check_declaration(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    rules: Mapping[str, RetentionRule] | None = None,
) -> Iterator[Finding]:
    """What is right and wrong with a declaration file, as it is found.

    Args:
        path: the declaration file.
        environ: where the database URL's variable is read; os.environ when None.
        rules: the shop's retention rules by name; the declaration's own rules apply where
            they have none, as when the connector runs.
    """
    environ = os.environ if environ is None else environ
    try:
        spec = load_spec(path)
    except SpecError as exc:
        yield Finding(ERROR, str(exc))
        return
    count = len(spec.categories)
    yield Finding(INFO, f"{path}: the declaration of {spec.name!r} is valid "
                        f"({count} categor{'y' if count == 1 else 'ies'}).")
    if rules is not None:
        declared = parse_rules({c.name: dict(c.rule) for c in spec.categories})
        rules = {**declared, **rules}
        yield from retention_findings(spec, rules)
    url = environ.get(spec.database_url_env)
    if not url:
        yield Finding(ERROR, f"{spec.database_url_env} is not set: it must hold the URL of "
                             f"{spec.name}'s database")
        return
    if _missing_sqlite_file(url):
        # Opening it would leave an empty file behind: the check only reads.
        yield Finding(ERROR, f"{spec.database_url_env} names a SQLite file that does not "
                             "exist")
        return
    try:
        engine = create_engine(url, hide_parameters=True)
    except (ArgumentError, ValueError, ImportError) as exc:
        # The URL may hold a password: only what kind of problem it is is said.
        yield Finding(ERROR, f"{spec.database_url_env} does not hold a database URL this "
                             f"installation can use: {type(exc).__name__}")
        return
    try:
        with engine.connect() as connection:
            findings = inspect_database(spec, connection, rules)
    except SQLAlchemyError as exc:
        yield Finding(ERROR, f"the database in {spec.database_url_env} cannot be read: "
                             f"{_first_line(exc)}")
        return
    finally:
        engine.dispose()
    yield from findings
    if any(finding.level == ERROR for finding in findings):
        return
    yield Finding(INFO, f"the database holds every table and column {spec.name} declares.")
    yield from run_kit(spec, url)


def _missing_sqlite_file(url: str) -> bool:
    """Whether the URL is of a SQLite file that is not there."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    database = parsed.database or ""
    return (parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
            and not database.startswith("file:") and not Path(database).exists())


def run_kit(spec: ConnectorSpec, live_url: str) -> Iterator[Finding]:
    """The conformance kit's verdict on the connector, run on a scratch copy of the tables."""
    try:
        kit = importlib.import_module(KIT)
    except ModuleNotFoundError as exc:
        if exc.name == KIT:
            yield Finding(INFO, "the conformance kit (dsar.kit) is not installed: the "
                                "connector itself was not tried.")
        elif exc.name and not exc.name.startswith("dsar"):
            # The kit runs under pytest, a test dependency a server may lack.
            yield Finding(WARNING, f"the conformance kit needs {exc.name}, which is not "
                                   "installed: the connector itself was not tried.")
        else:
            raise
        return
    try:
        with scratch_copy(spec, live_url) as scratch:
            failures = kit.run_checks(scratch.make_connector, scratch.seed,
                                      corrections=scratch.corrections,
                                      seed_many=scratch.seed_many)
    except Exception as exc:  # the kit's own failure is reported, not hidden
        yield Finding(ERROR, f"the conformance kit could not run on a scratch copy: "
                             f"{type(exc).__name__}: {_first_line(exc)}")
        return
    if not scratch.holds_text:
        # Nothing to put the markup in: the check has nothing to find, rightly.
        failures = [(name, problem) for name, problem in failures if name != MARKUP_CHECK]
        yield Finding(INFO, "no declared field holds text: the kit's markup check does not "
                            "apply.")
    for name, problem in failures:
        yield Finding(ERROR, f"conformance kit: {name}: {problem}")
    if not failures:
        yield Finding(INFO, "the conformance kit passes on a scratch copy of the tables.")


def _first_line(exc: BaseException) -> str:
    """An exception's message, its first line (a statement's text and values left out)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
