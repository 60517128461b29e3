"""The conformance checks as a pytest test class: subclass it once per connector.

The subclass (or its module, or a conftest) provides two fixtures:

- ``make_connector``: a zero-argument callable returning a fresh Connector configured for
  the seeded system;
- ``seed``: the seed function of `dsar.kit.people`'s contract.

and may override, in the subclass, the defaults of three more:

- ``corrections`` (default None): a mapping of field to new value for the rectify check;
- ``seed_many`` (default None): ``seed_many(person, count)`` for the streaming check;
- ``people`` (default `PEOPLE`): another cast.

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
    Seed,
    SeedMany,
    check_a_large_export_streams,
    check_a_second_erase_changes_nothing,
    check_an_unknown_subject_yields_nothing,
    check_erase_by_key_after_the_address_is_cleared,
    check_every_spelling_of_the_address_is_found,
    check_keys_are_stable,
    check_markup_is_carried_as_text,
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
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards erasure: records are found by key when the address is gone, and only
        the subject's records change."""
        _run(check_erase_by_key_after_the_address_is_cleared, make_connector, seed, people)

    def test_a_second_erase_changes_nothing(
        self, make_connector: ConnectorFactory, seed: Seed, people: People
    ) -> None:
        """Guards retried jobs: a repeated erasure reports "unchanged" and does not fail."""
        _run(check_a_second_erase_changes_nothing, make_connector, seed, people)

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
