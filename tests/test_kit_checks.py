"""Each conformance check fails for the mistake it guards against, and only then.

A small ledger kept in memory stands in for a system: done right it passes every check;
each test breaks it in one way a connector author could, and asserts that the kit's
message names the mistake and what a person would lose by it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any, ClassVar

import pytest

from dsar.connector import (
    ActionNotSupported,
    Category,
    Change,
    Connector,
    Decision,
    Disposition,
    Outcome,
    Record,
    Subject,
)
from dsar.kit import PEOPLE, People, Person, run_checks
from dsar.kit.checks import check_name

#: The fields of the ledger's one category.
NOTE_FIELDS = ("email", "name", "text", "consented")

CORRECTIONS = {"name": "Anna Kit-Jansen"}


@dataclass
class Ledger:
    """The system: notes by key, each under the address as it was typed."""

    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: Iterator[int] = field(default_factory=lambda: count(1))

    def seed(self, people: People) -> None:
        """The kit's seed: every spelling of everyone's address, the markup in anna's text."""
        self.notes.clear()
        for person in (people.anna, *people.others()):
            for spelling in person.stored_as:
                markup = person is people.anna and spelling == person.stored_as[0]
                self.add(person, spelling, people.markup if markup else "Kind regards")

    def seed_many(self, person: Person, how_many: int) -> None:
        """The kit's seed_many: that many more notes for the person."""
        for _ in range(how_many):
            self.add(person, person.stored_as[0], "One of many")

    def add(self, person: Person, spelling: str, text: str) -> None:
        """Stores one note."""
        self.notes[f"N{next(self.keys)}"] = {
            "email": spelling, "name": person.name, "text": text, "consented": True,
        }


class LedgerConnector(Connector):
    """A connector done right: matches the trimmed, lower-cased address; acts by key;
    finds notes an erasure kept by their keys."""

    name = "ledger"
    title = "Kit ledger"
    categories: ClassVar[tuple[Category, ...]] = (
        Category(name="notes", title="Notes", fields=NOTE_FIELDS, purpose="Testing the kit.",
                 legal_basis="None: made-up data.", recipients=(), retention="One test.",
                 source="The kit's seed."),
    )

    @property
    def ledger(self) -> Ledger:
        """The system this connector reaches."""
        ledger: Ledger = self.settings["LEDGER"]
        return ledger

    def matches(self, stored: str, email: str) -> bool:
        """Whether a stored address is the subject's."""
        return stored.strip().lower() == email

    def keys_of(self, subject: Subject) -> list[str]:
        """The keys of the subject's notes, and of those their `held` keys name."""
        held = set(subject.held.get("notes", ()))
        return [key for key, note in self.ledger.notes.items()
                if key in held or (note["email"] and self.matches(note["email"], subject.email))]

    def record(self, key: str) -> Record:
        """The record of one note."""
        return Record(category="notes", key=key, data=dict(self.ledger.notes[key]))

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields the subject's notes one at a time."""
        for key in self.keys_of(subject):
            yield self.record(key)

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Deletes the decided notes, or clears all but their kept fields, found by key."""
        outcomes = []
        for decision in decisions:
            note = self.ledger.notes.get(decision.key)
            if note is None:
                outcomes.append(Outcome("notes", decision.key, "unchanged"))
            elif decision.disposition is Disposition.ERASE:
                del self.ledger.notes[decision.key]
                outcomes.append(Outcome("notes", decision.key, "erased"))
            else:
                cleared = self.minimise(note, decision)
                outcomes.append(Outcome("notes", decision.key,
                                        "minimised" if cleared else "unchanged", cleared))
        return outcomes

    def minimise(self, note: dict[str, Any], decision: Decision) -> tuple[str, ...]:
        """Clears the note's fields the decision does not keep; returns those it cleared."""
        if decision.disposition is not Disposition.MINIMISE:
            return ()
        cleared = tuple(name for name in self.clears
                        if name not in decision.keep_fields and note[name] is not None)
        for name in cleared:
            note[name] = None
        return cleared

    #: The fields a minimisation clears unless they are kept.
    clears: ClassVar[tuple[str, ...]] = NOTE_FIELDS

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Corrects the name in the subject's notes."""
        changes = []
        for key in self.keys_of(subject):
            note = self.ledger.notes[key]
            new = corrections.get("name")
            if new is not None and note["name"] != new:
                changes.append(Change("notes", key, "name", note["name"], new))
                if apply:
                    note["name"] = new
        return changes

    def withdraw_consent(self, subject: Subject) -> list[Outcome]:
        """Withdraws the consent each of the subject's notes records."""
        outcomes = []
        for key in self.keys_of(subject):
            note = self.ledger.notes[key]
            done = "withdrawn" if note["consented"] else "unchanged"
            outcomes.append(Outcome("notes", key, done))
            note["consented"] = False
        return outcomes


def failures_of(connector: type[LedgerConnector]) -> dict[str, str]:
    """Runs every check against the connector on a fresh ledger; the failures by check."""
    ledger = Ledger()
    return dict(run_checks(lambda: connector({"LEDGER": ledger}), ledger.seed,
                           corrections=CORRECTIONS, seed_many=ledger.seed_many))


def test_a_connector_done_right_passes_every_check() -> None:
    """The ledger as it should be fails nothing: each failure below is the mistake's."""
    assert failures_of(LedgerConnector) == {}


class UndeclaredField(LedgerConnector):
    """Exports an internal field its category does not list."""

    def record(self, key: str) -> Record:
        """A note with the ledger's row number in it."""
        return Record("notes", key, {**self.ledger.notes[key], "row": key[1:]})


class UnstableKeys(LedgerConnector):
    """Numbers the records as it exports them."""

    numbers = count(1)

    def record(self, key: str) -> Record:
        """A note keyed by its place in this export."""
        return Record("notes", f"R{next(self.numbers)}", dict(self.ledger.notes[key]))


class MatchesTheDomain(LedgerConnector):
    """Finds people by the domain of their address."""

    def matches(self, stored: str, email: str) -> bool:
        """The mistake: any address at the same domain."""
        return stored.strip().lower().endswith(email.partition("@")[2])


class MatchesPartOfTheAddress(LedgerConnector):
    """Finds an address anywhere inside the stored one."""

    def matches(self, stored: str, email: str) -> bool:
        """The mistake: LIKE '%address%'."""
        return email in stored.lower()


class MatchesAsTyped(LedgerConnector):
    """Compares the stored address exactly."""

    def matches(self, stored: str, email: str) -> bool:
        """The mistake: capitals and blanks make another address."""
        return stored == email


class ErasesByAddress(LedgerConnector):
    """Erases what it finds under the subject's address, not the decided keys."""

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """The mistake: a cleared address finds nothing."""
        found = set(self.keys_of(subject))
        outcomes = []
        for decision in decisions:
            erased = decision.key in found
            if erased:
                del self.ledger.notes[decision.key]
            outcomes.append(Outcome("notes", decision.key, "erased" if erased else "unchanged"))
        return outcomes


class ClaimsErased(LedgerConnector):
    """Reports every decided record erased and erases nothing."""

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """The mistake: the outcome is what was asked, and nothing was done."""
        return [Outcome("notes", d.key, "erased") for d in decisions]


class ClearsOnlyTheAddress(LedgerConnector):
    """Erases a note by clearing its address."""

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """The mistake: the name and the text stay."""
        for decision in decisions:
            self.ledger.notes[decision.key]["email"] = ""
        return [Outcome("notes", d.key, "erased") for d in decisions]


class ErasesAgain(LedgerConnector):
    """Reports every decided record erased, however often it runs."""

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """The mistake: an outcome that says what was asked, not what happened."""
        super().erase(subject, decisions)
        return [Outcome("notes", d.key, "erased") for d in decisions]


class MinimisesOnlyTheAddress(LedgerConnector):
    """Minimises a note by clearing its address alone."""

    #: The mistake: the name and the text stay, though the decision keeps neither.
    clears = ("email",)


class MinimisesEveryone(LedgerConnector):
    """Minimises with one update whose condition on the key was lost."""

    def minimise(self, note: dict[str, Any], decision: Decision) -> tuple[str, ...]:
        """The mistake: every note is cleared, whoever's it is."""
        for other in self.ledger.notes.values():
            if other is not note:
                super().minimise(other, decision)
        return super().minimise(note, decision)


class PreviewWrites(LedgerConnector):
    """Makes the corrections even when asked only to list them."""

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """The mistake: apply is ignored."""
        return super().rectify(subject, corrections, apply=True)


class CorrectsForever(LedgerConnector):
    """Reports a change for every correction, made before or not."""

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """The mistake: no comparison with what is held."""
        made = super().rectify(subject, corrections, apply=apply)
        return made or [Change("notes", key, "name", corrections["name"], corrections["name"])
                        for key in self.keys_of(subject)]


class CorrectsNothing(LedgerConnector):
    """Says it corrects, and never finds anything to correct."""

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """The mistake: the corrections are dropped."""
        return []


class WithdrawsAgain(LedgerConnector):
    """Withdraws consent anew each time, overwriting the first withdrawal."""

    def withdraw_consent(self, subject: Subject) -> list[Outcome]:
        """The mistake: every call reports a withdrawal."""
        super().withdraw_consent(subject)
        return [Outcome("notes", key, "withdrawn") for key in self.keys_of(subject)]


class EscapesText(LedgerConnector):
    """Escapes HTML in what it exports."""

    def record(self, key: str) -> Record:
        """The mistake: escaping belongs where a value is shown."""
        note = dict(self.ledger.notes[key])
        note["text"] = html.escape(note["text"])
        return Record("notes", key, note)


class StripsTags(LedgerConnector):
    """Removes tags from what it exports."""

    def record(self, key: str) -> Record:
        """The mistake: the person's own words are cut."""
        note = dict(self.ledger.notes[key])
        note["text"] = re.sub(r"<[^>]*>", "", note["text"])
        return Record("notes", key, note)


class ReturnsAList(LedgerConnector):
    """Builds the whole export as a list."""

    def export(self, subject: Subject) -> list[Record]:  # type: ignore[override]
        """The mistake: every record in memory at once."""
        return list(super().export(subject))


class ReadsAllFirst(LedgerConnector):
    """A generator that builds every record before yielding the first."""

    def export(self, subject: Subject) -> Iterator[Record]:
        """The mistake: it looks like streaming, and it is not."""
        yield from [self.record(key) for key in self.keys_of(subject)]


@pytest.mark.parametrize(
    ("connector", "check", "says"),
    [
        (UndeclaredField, "records_belong_to_declared_categories",
         "fields their category does not declare (notes: row)"),
        (UnstableKeys, "keys_are_stable", "the keys changed between two exports"),
        (MatchesTheDomain, "an_unknown_subject_yields_nothing",
         "were exported for 'nobody.kit@example.nl', an address under which nothing is stored"),
        (MatchesPartOfTheAddress, "no_other_subjects_records",
         "the exports for 'anna.kit@example.nl' and for 'xanna.kit@example.nl' both hold"),
        (MatchesAsTyped, "every_spelling_of_the_address_is_found",
         "records stored under ' Anna.Kit@Example.NL ' were not found (notes)"),
        (ErasesByAddress, "erase_by_key_after_the_address_is_cleared",
         "does not find records by key, so data the person had erased stays"),
        (ClaimsErased, "erase_by_key_after_the_address_is_cleared",
         "\"erased\", yet they are still exported for 'anna.kit@example.nl'"),
        (ClearsOnlyTheAddress, "erase_by_key_after_the_address_is_cleared",
         "erased records still hold anna's address, name or text when looked up by key"),
        (ErasesAgain, "a_second_erase_changes_nothing",
         "reported 'erased' for notes '"),
        (MinimisesOnlyTheAddress, "minimise_keeps_only_the_kept_fields",
         "the records read again still hold fields that were not to be kept (notes '"),
        (MinimisesEveryone, "minimise_keeps_only_the_kept_fields",
         "minimising the records of 'anna.kit@example.nl' changed records of "
         "'bert.kit@example.nl'"),
        (PreviewWrites, "rectify_dry_run_and_twice",
         "rectify(apply=False) changed notes '"),
        (CorrectsForever, "rectify_dry_run_and_twice",
         "the same correction, made a second time, reported changes again"),
        (CorrectsNothing, "rectify_dry_run_and_twice",
         "rectify(apply=False) listed nothing to correct for 'anna.kit@example.nl'"),
        (WithdrawsAgain, "withdraw_consent_and_restrict_twice",
         "withdraw_consent, called a second time, reported notes '"),
        (EscapesText, "markup_is_carried_as_text", "was exported HTML-escaped"),
        (StripsTags, "markup_is_carried_as_text", "was exported altered"),
        (ReturnsAList, "a_large_export_streams", "export() returned a list, not an iterator"),
        (ReadsAllFirst, "a_large_export_streams", "the export reads everything before it yields"),
    ],
)
def test_each_mistake_fails_its_check(
    connector: type[LedgerConnector], check: str, says: str
) -> None:
    """The mistake fails the check that guards against it, with a message naming it."""
    failures = failures_of(connector)

    assert check in failures, failures
    assert says in failures[check]


@pytest.mark.parametrize(
    ("connector", "check"),
    [
        (EscapesText, "markup_is_carried_as_text"),
        (MatchesAsTyped, "every_spelling_of_the_address_is_found"),
        (ErasesAgain, "a_second_erase_changes_nothing"),
        (MinimisesOnlyTheAddress, "minimise_keeps_only_the_kept_fields"),
        (MinimisesEveryone, "minimise_keeps_only_the_kept_fields"),
        (ReadsAllFirst, "a_large_export_streams"),
    ],
)
def test_a_mistake_fails_only_what_it_breaks(connector: type[LedgerConnector], check: str) -> None:
    """A mistake that breaks one thing fails that one check, so its message is the news."""
    assert list(failures_of(connector)) == [check]


def test_what_a_connector_cannot_do_is_skipped_not_failed() -> None:
    """Actions that raise ActionNotSupported, and options not given, skip their checks."""
    ledger = Ledger()

    class Exports(LedgerConnector):
        """Only exports."""

        erase = Connector.erase  # type: ignore[assignment]
        rectify = Connector.rectify  # type: ignore[assignment]
        withdraw_consent = Connector.withdraw_consent  # type: ignore[assignment]

    assert run_checks(lambda: Exports({"LEDGER": ledger}), ledger.seed) == []
    with pytest.raises(ActionNotSupported):
        Exports({"LEDGER": ledger}).erase(Subject(email=PEOPLE.anna.email), [])


def test_a_seed_that_stores_nothing_is_named() -> None:
    """A seed that breaks the contract is told so, not mistaken for a passing connector."""
    ledger = Ledger()

    def empty(_people: People) -> None:
        """Stores nothing at all."""
        ledger.notes.clear()

    failures = dict(run_checks(lambda: LedgerConnector({"LEDGER": ledger}), empty))

    assert "either the seed stores no records for people.anna" in failures["keys_are_stable"]
    assert set(failures) >= {check_name(c) for c in _checks_needing_anna()}


def _checks_needing_anna() -> list[Callable[..., None]]:
    """The checks that cannot tell anything without records of anna's."""
    from dsar.kit import checks

    return [checks.check_records_belong_to_declared_categories, checks.check_keys_are_stable,
            checks.check_no_other_subjects_records, checks.check_markup_is_carried_as_text]
