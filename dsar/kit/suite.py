"""The conformance checks as a pytest test class: subclass it once per connector.

The subclass (or its module, or a conftest) provides two fixtures:

- ``make_connector``: a zero-argument callable returning a fresh Connector configured for
  the seeded system;
- ``seed``: the seed function of `dsar.kit.people`'s contract.

and may override, in the subclass, the defaults of five more:

- ``corrections`` (default None): a mapping of field to new value for the rectify check;
- ``seed_many`` (default None): ``seed_many(person, count)`` for the streaming check;
- ``seed_raw`` (default None): ``seed_raw(person)``, which adds records for the person
  written as the system itself writes them, not through the connector's own types;
- ``minimise_keeps`` (default None): per category, the fields the minimise check keeps;
- ``people`` (default `PEOPLE`): another cast.

``seed_raw`` is for the shapes a seed written with the connector's own types never makes:
rows inserted by raw SQL, or by the system's other programs, with a date stored as text
"2021-03-04 10:00:00" beside "2021-03-04T10:00:00Z", a number as text, an address with
blanks. It is called after ``seed``, once for anna and once for each of the others, and
must store at least one record of that person's; the records it stored for anna must be
found by the export. The erase and minimise checks then erase and minimise them with the
rest, so a ``WHERE`` that compares a stored value with one the connector formatted itself,
and misses a date stored in another format, fails them::

    @pytest.fixture
    def seed_raw(self, database):
        def seed_raw(person):
            with database.begin() as connection:
                connection.exec_driver_sql(
                    "INSERT INTO visits (email, name, visited_at) VALUES (?, ?, ?)",
                    (person.stored_as[0], person.name, "2021-03-04T10:00:00Z"))
        return seed_raw

The minimise check keeps, in each category ``minimise_keeps`` does not name, every field
that holds none of anna's address, name or markup, and fails when a field it was not to
keep still holds something (`dsar.connector.Decision.left_in`, as dsar judges it).

Each test runs one check of `dsar.kit.checks` and fails with the check's message alone, no
traceback: the message says what is wrong and what a person would lose by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from dsar.kit.checks import (
    CheckSkipped,
    ConformanceFailure,
    ConnectorFactory,
    MinimiseKeeps,
    Seed,
    SeedMany,
    SeedRaw,
    check_a_large_export_streams,
    check_a_second_erase_changes_nothing,
    check_an_unknown_subject_yields_nothing,
    check_erase_by_key_after_the_address_is_cleared,
    check_every_spelling_of_the_address_is_found,
    check_keys_are_stable,
    check_markup_is_carried_as_text,
    check_minimise_keeps_only_the_kept_fields,
    check_no_other_subjects_records,
    check_records_belong_to_declared_categories,
    check_rectify_dry_run_and_twice,
    check_withdraw_consent_and_restrict_twice,
)
from dsar.kit.people import PEOPLE, People


def _run(check: Callable[..., None], *args: Any, **options: Any) -> None:
    """Runs a check, turning its failure into a test failure that shows only the message."""
    __tracebackhide__ = True
    try:
        check(*args, **options)
    except CheckSkipped as note:
        skipped, failed = str(note), None
    except ConformanceFailure as failure:
        skipped, failed = None, str(failure)
    else:
        return
    # Outside the except block, so pytest shows the message alone and no chained failure.
    if failed is not None:
        pytest.fail(failed, pytrace=False)
    pytest.skip(skipped or "")


@pytest.mark.conformance
class Conformance:
    """What dsar relies on from every connector; subclass as ``TestXxx(Conformance)``.

    Not collected itself (its name does not start with "Test"); each subclass runs every
    check against its own connector.
    """

    @pytest.fixture
    def people(self) -> People:
        """The cast the checks run with; override for another."""
        return PEOPLE

    @pytest.fixture
    def corrections(self) -> Mapping[str, str] | None:
        """The corrections the rectify check makes; None skips it. Override to give some."""
        return None

    @pytest.fixture
    def seed_many(self) -> SeedMany | None:
        """Adds many records for a person; None skips the streaming check. Override it."""
        return None

    @pytest.fixture
    def seed_raw(self) -> SeedRaw | None:
        """Adds a person's records as the system itself writes them; None: the erase and
        minimise checks run on the seed's records alone. Override it."""
        return None

    @pytest.fixture
    def minimise_keeps(self) -> MinimiseKeeps | None:
        """The fields the minimise check keeps, by category; None keeps those that hold
        none of anna's data. Override to keep what the retention rules keep."""
        return None

    def test_records_belong_to_declared_categories(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards the answer's descriptions: every record is of a declared category, holds
        only its declared fields, and every declared category is found."""
        _run(check_records_belong_to_declared_categories, make_connector, seed, people)

    def test_keys_are_stable(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards erasure by key: the same data gets the same keys, each key once."""
        _run(check_keys_are_stable, make_connector, seed, people)

    def test_an_unknown_subject_yields_nothing(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards strangers' requests: an address without records gets none."""
        _run(check_an_unknown_subject_yields_nothing, make_connector, seed, people)

    def test_no_other_subjects_records(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards against disclosure: no other customer's or look-alike's record reaches
        the subject's answer."""
        _run(check_no_other_subjects_records, make_connector, seed, people)

    def test_every_spelling_of_the_address_is_found(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards completeness: records stored under the address typed with capitals or
        blanks are found."""
        _run(check_every_spelling_of_the_address_is_found, make_connector, seed, people)

    def test_erase_by_key_after_the_address_is_cleared(
        self,
        make_connector: ConnectorFactory,
        seed: Seed,
        people: People,
        seed_raw: SeedRaw | None,
    ) -> None:
        """Guards erasure: records are found by key when the address is gone, stored in
        whatever format, and only the subject's records change."""
        _run(check_erase_by_key_after_the_address_is_cleared, make_connector, seed, people,
             seed_raw=seed_raw)

    def test_a_second_erase_changes_nothing(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards retried jobs: a repeated erasure reports "unchanged" and does not fail."""
        _run(check_a_second_erase_changes_nothing, make_connector, seed, people)

    def test_minimise_keeps_only_the_kept_fields(
        self,
        make_connector: ConnectorFactory,
        seed: Seed,
        people: People,
        seed_raw: SeedRaw | None,
        minimise_keeps: MinimiseKeeps | None,
    ) -> None:
        """Guards minimisation: records found by key, stored in whatever format, keep
        only their key and the kept fields, and only the subject's records change."""
        _run(check_minimise_keeps_only_the_kept_fields, make_connector, seed, people,
             seed_raw=seed_raw, minimise_keeps=minimise_keeps)

    def test_rectify_dry_run_and_twice(
        self,
        make_connector: ConnectorFactory,
        seed: Seed,
        people: People,
        corrections: Mapping[str, str] | None,
    ) -> None:
        """Guards correction: a dry run changes nothing, and a correction is made once."""
        _run(check_rectify_dry_run_and_twice, make_connector, seed, people,
             corrections=corrections)

    def test_withdraw_consent_and_restrict_twice(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards objection and restriction: repeated, they report "unchanged"."""
        _run(check_withdraw_consent_and_restrict_twice, make_connector, seed, people)

    def test_markup_is_carried_as_text(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards the copy of the data: markup a person typed comes back as typed."""
        _run(check_markup_is_carried_as_text, make_connector, seed, people)

    def test_a_large_export_streams(
        self,
        make_connector: ConnectorFactory,
        seed: Seed,
        people: People,
        seed_many: SeedMany | None,
    ) -> None:
        """Guards long histories: an export yields records as it reads them."""
        _run(check_a_large_export_streams, make_connector, seed, people, seed_many=seed_many)
