"""The kit's raw seed: records stored as the system itself stores them go through the erase
and minimise checks, so a `WHERE` that misses a date stored in another format fails the kit.

The visitor book of `tests.kit_visits` stores moments as text, in the till's format and in
the website's; the seed writes the till's, the raw seed the website's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.kit import Person, run_checks
from dsar.kit.checks import MinimiseKeeps, SeedRaw, check_minimise_keeps_only_the_kept_fields
from tests.kit_visits import FormatsTheMoment, VisitorBook, VisitsConnector

ERASE = "erase_by_key_after_the_address_is_cleared"
MINIMISE = "minimise_keeps_only_the_kept_fields"


@pytest.fixture
def book(tmp_path: Path) -> VisitorBook:
    """An empty visitor book in a fresh SQLite file."""
    return VisitorBook(tmp_path / "visits.db")


def failures_of(
    connector: type[VisitsConnector],
    book: VisitorBook,
    seed_raw: SeedRaw | None,
    minimise_keeps: MinimiseKeeps | None = None,
) -> dict[str, str]:
    """Runs every check against the connector on the book; the failures by check."""
    return dict(run_checks(lambda: connector(book.settings), book.seed, seed_raw=seed_raw,
                           minimise_keeps=minimise_keeps))


def test_a_connector_that_compares_moments_passes_with_the_raw_seed(book: VisitorBook) -> None:
    """Visits in the website's formats are erased and minimised like the till's."""
    assert failures_of(VisitsConnector, book, book.seed_raw) == {}


def test_a_where_that_misses_another_date_format_fails_erase_and_minimise(
    book: VisitorBook,
) -> None:
    """Comparing the stored text with a Python-formatted moment misses the website's
    visits: both checks fail, naming those visits and the mistake."""
    failures = failures_of(FormatsTheMoment, book, book.seed_raw)

    assert list(failures) == [ERASE, MINIMISE], failures
    erase = failures[ERASE]
    assert "visits 'W1@2024-03-05T11:00:00' and visits 'W1@2024-03-06T12:30:00'" in erase
    assert "are still exported (the erasure reported: 'unchanged')" in erase
    assert "each of them stored by seed_raw as the system itself stores them" in erase
    assert ("a WHERE that compares a stored value, such as a date, with one the connector "
            "formatted itself misses rows the system stored in another format") in erase
    assert "data the person had erased stays (Art. 17)" in erase
    minimise = failures[MINIMISE]
    assert "visits 'W" in minimise and "(email, name, remark)" in minimise
    assert "each of them stored by seed_raw" in minimise
    assert "(Art. 17, Art. 5(1)(c))" in minimise


def test_without_the_raw_seed_the_mistake_goes_unseen(book: VisitorBook) -> None:
    """The seed writes moments as the connector's own code does, so only the raw seed
    shows the mistake: why the hook is there."""
    assert failures_of(FormatsTheMoment, book, None) == {}


def test_a_raw_seed_whose_records_the_export_does_not_find_is_named(book: VisitorBook) -> None:
    """A seed_raw that stores nothing is told so, rather than passing the checks unseen."""

    def stores_nothing(_person: Person) -> None:
        """Forgets to store anything."""

    failures = failures_of(VisitsConnector, book, stores_nothing)

    assert list(failures) == [ERASE, MINIMISE]
    assert failures[ERASE].startswith(
        "seed_raw was asked to store records for 'anna.kit@example.nl' and the export finds "
        "none")


def test_a_field_the_author_keeps_is_not_asked_to_be_cleared(book: VisitorBook) -> None:
    """minimise_keeps replaces the kit's guess for the categories it names: the remark the
    author keeps stays, the address and name go, and the check passes."""
    keeps = {"visits": ("card", "visited_at", "shop", "remark")}

    check_minimise_keeps_only_the_kept_fields(
        lambda: VisitsConnector(book.settings), book.seed, seed_raw=book.seed_raw,
        minimise_keeps=keeps)

    with book.engine.connect() as connection:
        kept = connection.exec_driver_sql(
            "SELECT email, name, remark FROM visits WHERE card = 'W1'").all()
    assert [tuple(row) for row in kept] == [(None, None, "Booked online")] * 2
