"""The conformance kit as an author uses it: a test module of theirs, run by pytest.

Each test writes the module a connector's author would write, runs pytest on it in this
process (the kit's plugin loads through its entry point, as it does wherever dsar is
installed), and reads what the author would see.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

#: An author's module, for the in-memory ledger of test_kit_checks; {connector} is the class.
AUTHOR_MODULE = '''
import pytest

from dsar.kit import Conformance
from tests.test_kit_checks import CORRECTIONS, Ledger, {connector}


class TestLedger(Conformance):
    @pytest.fixture
    def ledger(self):
        return Ledger()

    @pytest.fixture
    def make_connector(self, ledger):
        return lambda: {connector}({{"LEDGER": ledger}})

    @pytest.fixture
    def seed(self, ledger):
        return ledger.seed

    @pytest.fixture
    def corrections(self):
        return CORRECTIONS

    @pytest.fixture
    def seed_many(self, ledger):
        return ledger.seed_many


def test_the_cast_is_offered(kit_people):
    assert kit_people.anna.email == "anna.kit@example.nl"
'''


def test_a_conforming_connector_passes_every_test(pytester: pytest.Pytester) -> None:
    """An author's subclass runs the twelve checks as tests, and they pass."""
    pytester.makepyfile(test_ledger=AUTHOR_MODULE.format(connector="LedgerConnector"))

    result = pytester.runpytest_inprocess("-q", "-rs", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=13)


def test_a_failing_check_shows_its_message_not_a_traceback(pytester: pytest.Pytester) -> None:
    """A connector that escapes markup fails that test with the kit's message alone."""
    pytester.makepyfile(test_ledger=AUTHOR_MODULE.format(connector="EscapesText"))

    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=12, failed=1)
    result.stdout.fnmatch_lines([
        "*TestLedger.test_markup_is_carried_as_text*",
        "people.markup (*) was exported HTML-escaped: dsar escapes values where it shows *",
    ])
    # pytrace=False: the author sees the message, not the kit's insides.
    result.stdout.no_fnmatch_line("*dsar/kit/checks.py*")
    result.stdout.no_fnmatch_line("*raise ConformanceFailure*")


def test_what_does_not_apply_is_skipped_with_the_reason(pytester: pytest.Pytester) -> None:
    """Without corrections and seed_many, their checks are skipped and say what to give."""
    module = AUTHOR_MODULE.format(connector="LedgerConnector").replace(
        "return CORRECTIONS", "return None").replace("return ledger.seed_many", "return None")
    pytester.makepyfile(test_ledger=module)

    result = pytester.runpytest_inprocess("-q", "-rs", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=11, skipped=2)
    result.stdout.fnmatch_lines([
        "SKIPPED*no corrections given: pass corrections={field: new value}*",
        "SKIPPED*no seed_many given: pass seed_many(person, count)*",
    ])


def test_the_checks_carry_the_conformance_marker(pytester: pytest.Pytester) -> None:
    """`-m conformance` selects the kit's tests, and the marker is known under --strict."""
    pytester.makepyfile(test_ledger=AUTHOR_MODULE.format(connector="LedgerConnector"))

    result = pytester.runpytest_inprocess(
        "-q", "--strict-markers", "-m", "conformance", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=12, deselected=1)


#: An author's module for the visitor book of tests.kit_visits, with the optional raw seed.
RAW_AUTHOR_MODULE = '''
import pytest

from dsar.kit import Conformance
from tests.kit_visits import VisitorBook, {connector}


class TestVisits(Conformance):
    @pytest.fixture
    def book(self, tmp_path):
        return VisitorBook(tmp_path / "visits.db")

    @pytest.fixture
    def make_connector(self, book):
        return lambda: {connector}(book.settings)

    @pytest.fixture
    def seed(self, book):
        return book.seed

    @pytest.fixture
    def seed_raw(self, book):
        return book.seed_raw
'''


def test_a_raw_seed_fails_a_where_that_misses_a_date_stored_in_another_format(
    pytester: pytest.Pytester,
) -> None:
    """With seed_raw, a connector that compares a text date with a Python-formatted one
    fails the erase and minimise tests, each saying that the raw records were missed."""
    pytester.makepyfile(test_visits=RAW_AUTHOR_MODULE.format(connector="FormatsTheMoment"))

    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=7, failed=2, skipped=3)
    result.stdout.fnmatch_lines([
        "*TestVisits.test_erase_by_key_after_the_address_is_cleared*",
        "*each of them stored by seed_raw as the system itself stores them*",
        "*TestVisits.test_minimise_keeps_only_the_kept_fields*",
        "*still hold fields that were not to be kept (visits 'W1@*' (email, name, remark)*",
    ])


def test_a_raw_seed_passes_a_connector_that_compares_moments(pytester: pytest.Pytester) -> None:
    """The same module passes a connector that compares the stored moments as moments."""
    pytester.makepyfile(test_visits=RAW_AUTHOR_MODULE.format(connector="VisitsConnector"))

    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=9, skipped=3)
