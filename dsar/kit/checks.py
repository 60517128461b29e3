"""The conformance checks: what every connector must get right, whatever system it reaches.

Each check is a plain function ``check_xxx(make_connector, seed, people, **options)`` that
seeds the system afresh (see `dsar.kit.people` for the seed contract), asks fresh connectors
about the kit's people, and raises `ConformanceFailure` with a message that says what is
wrong and what a person would lose by it. A check that cannot apply to a connector (an
action it does not support, an option not given) raises `CheckSkipped` with the reason.

Two checks also run against records the author stores in the system's own raw formats
(option `seed_raw`): the erase and minimise checks, which find records by key and so are
where a `WHERE` that compares a stored value with one the connector formatted itself (a
date stored as "2021-03-04 10:00:00" by one program and "2021-03-04T10:00:00Z" by another)
misses rows.

`run_checks` runs them all for a command line; `dsar.kit.suite.Conformance` runs them as
pytest tests.
"""

from __future__ import annotations

import html
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from dsar.connector import (
    ActionNotSupported,
    Change,
    Connector,
    Decision,
    Disposition,
    JSONValue,
    Outcome,
    Record,
    Subject,
)
from dsar.kit.answers import (
    NAMED_IN_MESSAGE,
    RecordId,
    changed_ids,
    duplicates,
    exported,
    how_typed,
    named,
    record_ids,
    subject_of,
    texts_in,
)
from dsar.kit.people import PEOPLE, People, Person

#: Returns a fresh connector, configured for the seeded system.
ConnectorFactory = Callable[[], Connector]
#: Empties the system and stores the people's records (the seed contract, dsar.kit.people).
Seed = Callable[[People], None]
#: Adds that many records for the person to what the seed stored.
SeedMany = Callable[[Person, int], None]
#: Adds records for the person to what the seed stored, written as the system itself writes
#: them (raw rows, raw SQL), not through the connector's own types.
SeedRaw = Callable[[Person], None]
#: Per category, the fields a minimisation keeps.
MinimiseKeeps = Mapping[str, Sequence[str]]

#: The address of a subject whose address is already cleared from the records, as when a
#: retained record's scheduled erasure comes back years later: only the keys still lead.
CLEARED_EMAIL = "cleared.kit@example.invalid"

#: How many records seed_many stores for the streaming check.
STREAMED_RECORDS = 5000

#: Taking the first record of a streaming export costs at most this share of the memory
#: the whole export takes when held at once.
FIRST_RECORD_SHARE = 0.25

_ART_15 = "Art. 15"
_ART_17 = "Art. 17"
#: Why a record stored in the system's own format is missed while the seed's are found.
_MISSED_FORMAT = (
    "a WHERE that compares a stored value, such as a date, with one the connector formatted "
    "itself misses rows the system stored in another format"
)
_BREACH = "Art. 15(4); a personal data breach, Art. 4(12) and 33"


class ConformanceFailure(AssertionError):
    """A connector does not do what dsar relies on; the message says what a person loses."""


class CheckSkipped(Exception):  # noqa: N818 (a note, not an error)
    """A check does not apply: the connector lacks the action, or an option was not given."""


def check_records_belong_to_declared_categories(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """Every record's category is declared, its data holds only declared fields, and the
    seeded subject has records of every declared category."""
    seed(people)
    connector = make_connector()
    records = _records_of_anna(connector, people)
    declared = {category.name: category for category in connector.categories}
    undeclared = sorted({r.category for r in records} - declared.keys())
    if undeclared:
        raise ConformanceFailure(
            f"records of categories the connector does not declare were exported "
            f"({', '.join(undeclared)}): the answer cannot say what that data is for, on what "
            f"basis and for how long it is kept ({_ART_15}(1)(a)-(d)), and the retention "
            f"planner has no rule for it"
        )
    extra: dict[str, set[str]] = {}
    for record in records:
        unknown = set(record.data) - set(declared[record.category].fields)
        if unknown:
            extra.setdefault(record.category, set()).update(unknown)
    if extra:
        listed = "; ".join(f"{name}: {', '.join(sorted(fields))}"
                           for name, fields in sorted(extra.items()))
        raise ConformanceFailure(
            f"records carry fields their category does not declare ({listed}): the answer's "
            f"description of the data leaves them out ({_ART_15}(1)(b)) and a minimisation "
            f"cannot name them among the fields to keep (Art. 17(3))"
        )
    missing = sorted(declared.keys() - {r.category for r in records})
    if missing:
        raise ConformanceFailure(
            f"no records of the declared categories {', '.join(missing)} were found for "
            f"{people.anna.email!r}: either the seed stores none (it must store at least one "
            f"of every category, see dsar.kit.people) or the export misses them, and a person "
            f"is not shown that data ({_ART_15})"
        )


def check_keys_are_stable(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """Two exports of unchanged data give the same records the same keys, each key once."""
    seed(people)
    first = _records_of_anna(make_connector(), people)
    second = exported(make_connector(), _anna(people))
    blank = sorted({(r.category, repr(r.key)) for r in first
                    if not isinstance(r.key, str) or not r.key})
    if blank:
        raise ConformanceFailure(
            f"records were given keys that are not a non-empty text ({named(blank)}): the "
            f"planner's decisions cannot name those records, so they can be neither erased "
            f"nor kept on purpose (Art. 17)"
        )
    repeated = duplicates(first)
    if repeated:
        raise ConformanceFailure(
            f"one export gave the same key to several records ({named(repeated)}): a decision "
            f"about one of them also hits the others, so the erasure removes or keeps the "
            f"wrong data (Art. 17)"
        )
    if record_ids(first) != record_ids(second):
        gone = record_ids(first) - record_ids(second)
        came = record_ids(second) - record_ids(first)
        raise ConformanceFailure(
            f"the keys changed between two exports of the same data (only in the first: "
            f"{named(gone)}; only in the second: {named(came)}): the planner decides on one "
            f"export and the erasure runs later, so it finds nothing under the decided keys "
            f"and data the person had erased stays (Art. 17)"
        )


def check_an_unknown_subject_yields_nothing(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """An address under which nothing is stored gets no records at all."""
    seed(people)
    found = exported(make_connector(), subject_of(people.nobody))
    if found:
        raise ConformanceFailure(
            f"{len(found)} records were exported for {people.nobody!r}, an address under "
            f"which nothing is stored ({named(record_ids(found))}): a request from a stranger "
            f"or with a mistyped address is answered with other people's data ({_BREACH})"
        )


def check_no_other_subjects_records(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """No record is returned for two people: neither another customer's nor a look-alike's
    record reaches anna's answer, nor hers theirs.

    Every record belongs to one person, so a record exported for two addresses is in the
    wrong answer at least once. The others are exported too, to learn their keys, and a
    matcher on "contains" or "starts with" shows up whichever way round it leaks.
    """
    seed(people)
    connector = make_connector()
    cast = (people.anna, *people.others())
    found = {person.email: record_ids(exported(connector, _subject(person))) for person in cast}
    if not found[people.anna.email]:
        raise ConformanceFailure(_nothing_for_anna(people))
    leaks = []
    for index, person in enumerate(cast):
        for other in cast[index + 1:]:
            shared = found[person.email] & found[other.email]
            if shared:
                leaks.append(
                    f"the exports for {person.email!r} and for {other.email!r} both hold "
                    f"{named(shared)}"
                )
    if leaks:
        raise ConformanceFailure(
            "; ".join(leaks)
            + f": each record is one person's, so an address that merely contains or "
            f"resembles another (or another customer's) finds records that are not its own, "
            f"and one person's answer gives away another's data ({_BREACH})"
        )
    unseen = [person.email for person in people.others() if not found[person.email]]
    if unseen:
        raise ConformanceFailure(
            f"nothing was found for {', '.join(map(repr, unseen))}: either the seed stores "
            f"no records for bert and every look-alike (it must, see dsar.kit.people) or the "
            f"connector misses them; without their records this check cannot show that other "
            f"people's data stays out of anna's answer"
        )


def check_every_spelling_of_the_address_is_found(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """Records stored under any spelling of anna's address (capitals, blanks) are found.

    The system is seeded once per spelling with a cast whose anna has that one spelling,
    so that all her records are stored under it; the export for her canonical address must
    then still find records of every declared category. A matcher that compares the stored
    address as typed (case-sensitively, or without trimming) finds none of them for
    " Anna.Kit@Example.NL ", however many it finds in a mixed seed.
    """
    connector = make_connector()
    declared = {category.name for category in connector.categories}
    lost: list[tuple[str, list[str]]] = []
    for spelling in people.anna.stored_as:
        seed(replace(people, anna=replace(people.anna, stored_as=(spelling,))))
        found = {record.category for record in exported(make_connector(), _anna(people))}
        missing = sorted(declared - found)
        if missing:
            lost.append((spelling, missing))
    if not lost:
        return
    typed = [trait for trait in ("capitals", "blanks around it")
             if any(trait in how_typed(spelling) for spelling, _ in lost)]
    parts = [f"records stored under {spelling!r} were not found ({', '.join(missing)})"
             for spelling, missing in lost]
    if typed:
        raise ConformanceFailure(
            "; ".join(parts)
            + f": a person whose address was typed with {' or '.join(typed)} gets an "
            f"incomplete answer ({_ART_15}) and keeps that data after an erasure (Art. 17)"
        )
    raise ConformanceFailure(
        "; ".join(parts)
        + f": even records stored under the address exactly as the request carries it are "
        f"missing from the answer ({_ART_15}), or the seed stores none of those categories "
        f"for a single spelling (see dsar.kit.people)"
    )


def check_erase_by_key_after_the_address_is_cleared(
    make_connector: ConnectorFactory,
    seed: Seed,
    people: People = PEOPLE,
    *,
    seed_raw: SeedRaw | None = None,
    **_options: object,
) -> None:
    """An erasure finds records by the keys decided on, not by the address: told to erase
    every record of anna's for a subject whose address is already cleared, it leaves anna
    nothing, reports each record erased, and leaves everyone else's records as they were.
    With `seed_raw`, the records it stored in the system's own formats are erased too."""
    raw = _seed_with_raw(make_connector, seed, people, seed_raw)
    connector = make_connector()
    records = _records_of_anna(connector, people)
    others = {person: exported(connector, _subject(person)) for person in people.others()}
    decisions = _erase_all(records)
    outcomes = _erase(connector, decisions)

    reported = {(outcome.category, outcome.key): outcome.done for outcome in outcomes}
    left = exported(connector, _anna(people))
    if left and all(reported.get(identity) == "erased" for identity in record_ids(left)):
        raise ConformanceFailure(
            f"the erasure reported {named(record_ids(left))} \"erased\", yet they are still "
            f"exported for {people.anna.email!r}{_raw_note(record_ids(left), raw)}: the "
            f"person is told that data is gone while it stays (Art. 17, Art. 12(3))"
        )
    if left and record_ids(left) <= raw:
        said = _what_was_said(record_ids(left), reported)
        raise ConformanceFailure(
            f"after every record of {people.anna.email!r} was to be erased by key, "
            f"{named(record_ids(left))} are still exported ({said}), each of them stored by "
            f"seed_raw as the system itself stores them, while the records stored through "
            f"the seed were erased: {_MISSED_FORMAT}, so data the person had erased stays "
            f"({_ART_17})"
        )
    if left:
        said = _what_was_said(record_ids(left), reported)
        raise ConformanceFailure(
            f"after every record of {people.anna.email!r} was to be erased, by key and for a "
            f"subject whose address was already cleared, {named(record_ids(left))} are still "
            f"exported ({said}{_raw_note(record_ids(left), raw)}): an erasure that runs "
            f"after the address is gone (a retained record's scheduled erasure, a retried "
            f"job) does not find records by key, so data the person had erased stays "
            f"({_ART_17})"
        )
    held = _held_keys(decisions)
    traces = [
        (record.category, record.key) for record in exported(
            connector, Subject(email=people.anna.email, name=people.anna.name, held=held))
        if _holds_anna(record.data, people)
    ]
    if traces:
        raise ConformanceFailure(
            f"erased records still hold anna's address, name or text when looked up by key "
            f"({named(traces)}{_raw_note(traces, raw)}): an erased record must go or keep "
            f"no personal data at all ({_ART_17})"
        )
    unreported = sorted(identity for identity in _decided(decisions)
                        if reported.get(identity) != "erased")
    if unreported:
        said = _what_was_said(unreported, reported)
        raise ConformanceFailure(
            f"the erasure did not report {named(unreported)} as \"erased\" ({said}): the "
            f"letter to the person cannot say what happened to that data, and the "
            f"recipients are not told of it (Art. 12(3), Art. 19)"
        )
    for person, before in others.items():
        changed = changed_ids(before, exported(connector, _subject(person)))
        if changed:
            raise ConformanceFailure(
                f"erasing {people.anna.email!r} changed records of {person.email!r} "
                f"({named(changed)}): another person's data was erased or altered "
                f"(Art. 5(1)(f); a personal data breach, Art. 4(12))"
            )


def check_a_second_erase_changes_nothing(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """The same erasure run twice (a job retried after a crash) reports every record
    "unchanged" the second time and does not fail."""
    seed(people)
    connector = make_connector()
    decisions = _erase_all(_records_of_anna(connector, people))
    _erase(connector, decisions)
    try:
        again = list(make_connector().erase(_cleared(), decisions))
    except Exception as error:
        raise ConformanceFailure(
            f"the same erasure, run a second time, raised {type(error).__name__}: {error}: "
            f"a job retried after a crash fails, and the person's request stalls until "
            f"someone steps in (every action must be idempotent)"
        ) from error
    redone = [(o.category, o.key) for o in again if o.done != "unchanged"]
    if redone:
        words = sorted({o.done for o in again if o.done != "unchanged"})
        raise ConformanceFailure(
            f"the same erasure, run a second time, reported {', '.join(map(repr, words))} "
            f"for {named(redone)} instead of \"unchanged\": a retried job tells the person "
            f"and the recipients of erasures that did not happen again (Art. 12(3), Art. 19), "
            f"or it erased something the first run left"
        )


def check_minimise_keeps_only_the_kept_fields(
    make_connector: ConnectorFactory,
    seed: Seed,
    people: People = PEOPLE,
    *,
    minimise_keeps: MinimiseKeeps | None = None,
    seed_raw: SeedRaw | None = None,
    **_options: object,
) -> None:
    """A minimisation finds records by key and clears every field but the key and those
    kept: told to minimise every record of anna's for a subject whose address is already
    cleared, the records read again by key (as dsar verifies it), or by her address where
    the key finds nothing, hold nothing they were to clear, and everyone else's records are
    as they were. A record found neither way is gone, as dsar takes it.

    What counts as cleared is `Decision.left_in`, the rule dsar itself checks a
    minimisation by. The kept fields are `minimise_keeps` for the categories it names and,
    for the others, every field that holds none of anna's address, name or markup in her
    records: the kit knows its own people's data, not which of a system's fields are
    personal. With `seed_raw`, the records it stored in the system's own formats are
    minimised too.
    """
    raw = _seed_with_raw(make_connector, seed, people, seed_raw)
    connector = make_connector()
    records = _records_of_anna(connector, people)
    others = {person: exported(connector, _subject(person)) for person in people.others()}
    decisions = _minimise_all(records, _kept_fields(records, people, minimise_keeps))
    reported = {(o.category, o.key): o.done for o in _erase(connector, decisions)}

    again = _read_again(make_connector(), people, decisions)
    left = {(d.category, d.key): d.left_in(again.get((d.category, d.key))) for d in decisions}
    left = {identity: fields for identity, fields in left.items() if fields}
    if left:
        said = _what_was_said(left, reported)
        why = (f"each of them stored by seed_raw as the system itself stores them, while the "
               f"records stored through the seed were minimised: {_MISSED_FORMAT}"
               if set(left) <= raw else
               f"a minimised record keeps its key and the fields a legal duty needs, and "
               f"nothing else{_raw_note(left, raw)}")
        raise ConformanceFailure(
            f"after every record of {people.anna.email!r} was minimised by key, for a "
            f"subject whose address was already cleared, the records read again still hold "
            f"fields that were not to be kept ({_named_fields(left)}; {said}): {why}. "
            f"Data the person had erased stays beyond what the law obliges the shop to "
            f"keep, and dsar, reading the records again, finds the erasure not carried out "
            f"({_ART_17}, Art. 5(1)(c))"
        )
    _others_unchanged(connector, others, f"minimising the records of {people.anna.email!r}")


def check_rectify_dry_run_and_twice(
    make_connector: ConnectorFactory,
    seed: Seed,
    people: People = PEOPLE,
    *,
    corrections: Mapping[str, str] | None = None,
    **_options: object,
) -> None:
    """rectify(apply=False) only lists; apply=True makes exactly what was listed; a second
    apply=True finds nothing left to change. Needs the option `corrections`."""
    if corrections is None:
        raise CheckSkipped(
            "no corrections given: pass corrections={field: new value} (fields the "
            "connector's records hold, values that differ from the seed's) to check rectify"
        )
    seed(people)
    connector = make_connector()
    subject = _anna(people)
    before = _records_of_anna(connector, people)
    others = {person: exported(connector, _subject(person)) for person in people.others()}
    try:
        listed = list(connector.rectify(subject, corrections, apply=False))
    except ActionNotSupported as refusal:
        raise CheckSkipped(f"{connector.name} does not correct data: {refusal}") from refusal
    changed = changed_ids(before, exported(connector, subject))
    if changed:
        raise ConformanceFailure(
            f"rectify(apply=False) changed {named(changed)}: the preview an officer approves "
            f"already made the corrections, before anyone checked them (Art. 16)"
        )
    if not listed:
        raise ConformanceFailure(
            f"rectify(apply=False) listed nothing to correct for {people.anna.email!r} with "
            f"{dict(corrections)!r}, values that differ from the seed's: the person's "
            f"correction is dropped without a word (Art. 16); if the connector holds none of "
            f"these fields, give corrections of fields it does hold"
        )
    made = list(make_connector().rectify(subject, corrections, apply=True))
    if _changes(made) != _changes(listed):
        raise ConformanceFailure(
            f"rectify(apply=True) made other changes than apply=False listed (listed: "
            f"{_named_changes(listed)}; made: {_named_changes(made)}): the officer approves "
            f"one correction and another is carried out (Art. 16)"
        )
    after = {(r.category, r.key): r for r in exported(connector, subject)}
    unmade = [
        (change.category, f"{change.key}.{change.field}")
        for change in made
        if (change.category, change.key) in after
        and change.field in after[(change.category, change.key)].data
        and after[(change.category, change.key)].data[change.field] != change.new
    ]
    if unmade:
        raise ConformanceFailure(
            f"rectify(apply=True) reported corrections its records do not show "
            f"({named(unmade)}): the person is told the data was corrected while the old "
            f"value stays (Art. 16)"
        )
    again = list(make_connector().rectify(subject, corrections, apply=True))
    if again:
        raise ConformanceFailure(
            f"the same correction, made a second time, reported changes again "
            f"({_named_changes(again)}): a retried job tells the recipients of a change "
            f"twice (Art. 19), or the correction did not stick (Art. 16)"
        )
    _others_unchanged(connector, others, f"correcting {people.anna.email!r}")


def check_withdraw_consent_and_restrict_twice(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """withdraw_consent and restrict, where supported, report every record "unchanged" when
    called a second time, and touch nobody else's records."""
    ran = []
    for action in ("withdraw_consent", "restrict"):
        seed(people)
        connector = make_connector()
        others = {p: exported(connector, _subject(p)) for p in people.others()}
        try:
            list(_action(connector, action)(_anna(people)))
        except ActionNotSupported:
            continue
        ran.append(action)
        again = list(_action(make_connector(), action)(_anna(people)))
        redone = [(o.category, o.key) for o in again if o.done != "unchanged"]
        if redone:
            raise ConformanceFailure(
                f"{action}, called a second time, reported {named(redone)} as changed again "
                f"instead of \"unchanged\": a retried job tells the person and recipients of "
                f"a change that did not happen (Art. 12(3), Art. 19), and the record of when "
                f"it happened may be overwritten (Art. 7(1))"
            )
        _others_unchanged(connector, others, f"{action} for {people.anna.email!r}")
    if not ran:
        raise CheckSkipped("the connector supports neither withdraw_consent nor restrict")


def check_markup_is_carried_as_text(
    make_connector: ConnectorFactory, seed: Seed, people: People = PEOPLE, **_options: object
) -> None:
    """The markup the seed stored comes back exactly: not stripped, escaped or parsed.

    dsar escapes every value where it shows it; a connector that escapes too makes the
    person read "&lt;" where they typed "<", and one that strips loses what they wrote.
    """
    seed(people)
    records = _records_of_anna(make_connector(), people)
    texts = [text for record in records for text in texts_in(record.data)]
    if people.markup in texts:
        return
    markup = people.markup
    if any(html.escape(markup) in t or html.escape(markup, quote=False) in t for t in texts):
        how = "HTML-escaped"
    elif any("alert(1)" in t or "kit.invalid" in t for t in texts):
        how = "altered (stripped of tags or characters, or parsed as HTML)"
    else:
        raise ConformanceFailure(
            f"people.markup ({markup!r}) is in none of anna's exported records: either the "
            f"seed does not store it in a text field of hers (it must, see dsar.kit.people) "
            f"or the export drops that field, and the person's copy misses what they wrote "
            f"({_ART_15}(3))"
        )
    raise ConformanceFailure(
        f"people.markup ({markup!r}) was exported {how}: dsar escapes values where it shows "
        f"them, so the person reads a text that is not what the system holds; the copy of "
        f"the data must be the data ({_ART_15}(3))"
    )


def check_a_large_export_streams(
    make_connector: ConnectorFactory,
    seed: Seed,
    people: People = PEOPLE,
    *,
    seed_many: SeedMany | None = None,
    **_options: object,
) -> None:
    """export() returns an iterator, and taking its first record costs far less memory
    than holding all of them: records are read as they are taken. Needs `seed_many`."""
    if seed_many is None:
        raise CheckSkipped(
            "no seed_many given: pass seed_many(person, count), storing that many records "
            "for the person, to check that a large export streams"
        )
    seed(people)
    seed_many(people.anna, STREAMED_RECORDS)
    connector = make_connector()
    # Warm up: the first call may fill caches (compiled queries, pools) that are no cost
    # of taking a record.
    exported(connector, _subject(people.bert))
    result = connector.export(_anna(people))
    if not isinstance(result, Iterator):
        raise ConformanceFailure(
            f"export() returned a {type(result).__name__}, not an iterator: every record is "
            f"built in memory before the first can be written, so a person with a long "
            f"history makes the answer run out of memory and go unanswered ({_ART_15}, "
            f"Art. 12(3))"
        )
    _close(result)
    first_cost, all_cost, count = _memory_of_export(connector, _anna(people))
    if count < STREAMED_RECORDS:
        raise ConformanceFailure(
            f"seed_many stored {STREAMED_RECORDS} records for {people.anna.email!r} but the "
            f"export found {count}: records of a person with a long history go missing from "
            f"the answer ({_ART_15})"
        )
    if first_cost > FIRST_RECORD_SHARE * all_cost:
        raise ConformanceFailure(
            f"taking the first of {count} records cost {first_cost // 1024} KiB, "
            f"{first_cost / max(all_cost, 1):.0%} of the {all_cost // 1024} KiB all of them "
            f"take (at most {FIRST_RECORD_SHARE:.0%} expected): the export reads everything "
            f"before it yields, so a person with a long history makes the answer run out of "
            f"memory and go unanswered ({_ART_15}, Art. 12(3))"
        )


#: Every check, in the order they are run and reported.
CHECKS: tuple[Callable[..., None], ...] = (
    check_records_belong_to_declared_categories,
    check_keys_are_stable,
    check_an_unknown_subject_yields_nothing,
    check_no_other_subjects_records,
    check_every_spelling_of_the_address_is_found,
    check_erase_by_key_after_the_address_is_cleared,
    check_a_second_erase_changes_nothing,
    check_minimise_keeps_only_the_kept_fields,
    check_rectify_dry_run_and_twice,
    check_withdraw_consent_and_restrict_twice,
    check_markup_is_carried_as_text,
    check_a_large_export_streams,
)


def check_name(check: Callable[..., None]) -> str:
    """Returns a check's name as reports show it: its function's name without "check_"."""
    return check.__name__.removeprefix("check_")


def run_checks(
    make_connector: ConnectorFactory,
    seed: Seed,
    people: People = PEOPLE,
    *,
    corrections: Mapping[str, str] | None = None,
    seed_many: SeedMany | None = None,
    seed_raw: SeedRaw | None = None,
    minimise_keeps: MinimiseKeeps | None = None,
) -> list[tuple[str, str]]:
    """Runs every check, each on a freshly seeded system, and returns those that failed.

    Args:
        make_connector: returns a fresh connector configured for the seeded system.
        seed: empties the system and stores the people's records (dsar.kit.people).
        people: the cast; the kit's own unless a test needs another.
        corrections: the corrections the rectify check makes; without them it is skipped.
        seed_many: adds many records for one person; without it the streaming check is
            skipped.
        seed_raw: adds records for one person as the system itself writes them; with it,
            the erase and minimise checks run on those records too.
        minimise_keeps: per category, the fields the minimise check keeps; the categories
            it does not name keep every field that holds none of anna's data.

    Returns:
        (check name, failure message) for each failed check, in order; skipped checks are
        not listed. A check that stops on an unexpected exception is listed with it.
    """
    failures = []
    for check in CHECKS:
        try:
            check(make_connector, seed, people, corrections=corrections, seed_many=seed_many,
                  seed_raw=seed_raw, minimise_keeps=minimise_keeps)
        except CheckSkipped:
            continue
        except ConformanceFailure as failure:
            failures.append((check_name(check), str(failure)))
        except Exception as error:
            # Recorded, not swallowed: the command line reports it like any failure.
            failures.append((check_name(check), f"stopped on {type(error).__name__}: {error}"))
    return failures


# --- what the checks share ------------------------------------------------------------------


def _subject(person: Person) -> Subject:
    """Returns the subject of a request from that person."""
    return subject_of(person.email, person.name)


def _anna(people: People) -> Subject:
    """Returns the subject of every request the checks make."""
    return _subject(people.anna)


def _cleared() -> Subject:
    """Returns a subject whose address no record holds any more, holding no keys either."""
    return Subject(email=CLEARED_EMAIL, held={})


def _nothing_for_anna(people: People) -> str:
    """Returns the message for an export that found nothing for anna."""
    return (
        f"nothing was exported for {people.anna.email!r}: either the seed stores no records "
        f"for people.anna (see dsar.kit.people) or the connector does not find a person by "
        f"her address, and she gets an empty answer ({_ART_15})"
    )


def _records_of_anna(connector: Connector, people: People) -> list[Record]:
    """Returns anna's records, failing when there are none: no check can tell anything then."""
    records = exported(connector, _anna(people))
    if not records:
        raise ConformanceFailure(_nothing_for_anna(people))
    return records


def _seed_with_raw(
    make_connector: ConnectorFactory, seed: Seed, people: People, seed_raw: SeedRaw | None
) -> set[RecordId]:
    """Seeds the system and, with seed_raw, adds everyone's records in the system's own
    formats; returns anna's records that seed_raw added."""
    seed(people)
    if seed_raw is None:
        return set()
    before = record_ids(exported(make_connector(), _anna(people)))
    for person in (people.anna, *people.others()):
        seed_raw(person)
    added = record_ids(exported(make_connector(), _anna(people))) - before
    if not added:
        raise ConformanceFailure(
            f"seed_raw was asked to store records for {people.anna.email!r} and the export "
            f"finds none: either seed_raw stores nothing for the person it is given (it must "
            f"store at least one record of theirs, as the system itself writes it) or the "
            f"export misses records stored in the system's own formats, and the person's "
            f"answer leaves them out ({_ART_15})"
        )
    return added


def _raw_note(identities: Iterable[RecordId], raw: set[RecordId]) -> str:
    """Says which of those records seed_raw stored, for a message; empty if none."""
    stored = set(identities) & raw
    if not stored:
        return ""
    were = "was" if len(stored) == 1 else "were"
    return (f"; of these, {named(stored)} {were} stored by seed_raw as the system itself "
            f"stores them, and {_MISSED_FORMAT}")


def _kept_fields(
    records: Iterable[Record], people: People, given: MinimiseKeeps | None
) -> dict[str, tuple[str, ...]]:
    """Returns, per category, the fields a minimisation keeps: those given, and for other
    categories every field that holds none of anna's address, name or markup."""
    fields: dict[str, dict[str, None]] = {}
    personal: dict[str, set[str]] = {}
    for record in records:
        names = fields.setdefault(record.category, {})
        for name, value in record.data.items():
            names.setdefault(name)
            if _holds_anna(value, people):
                personal.setdefault(record.category, set()).add(name)
    kept = {category: tuple(name for name in names if name not in personal.get(category, ()))
            for category, names in fields.items()}
    return {**kept, **{category: tuple(names) for category, names in (given or {}).items()}}


def _minimise_all(
    records: Iterable[Record], kept: Mapping[str, tuple[str, ...]]
) -> list[Decision]:
    """Returns a decision to minimise each record, keeping its category's kept fields."""
    decided = dict.fromkeys((record.category, record.key) for record in records)
    return [Decision(category, key, Disposition.MINIMISE, keep_fields=kept.get(category, ()))
            for category, key in decided]


def _read_again(
    connector: Connector, people: People, decisions: Sequence[Decision]
) -> dict[RecordId, Record]:
    """Returns the decided records as they are now, by identity: read by key for a subject
    whose address is cleared, as dsar verifies an erasure; those not found so, by anna's
    address too. A record found neither way is gone, as dsar takes it."""
    held = _held_keys(decisions)
    read = connector.verify(Subject(email=CLEARED_EMAIL, held=held))
    again = {(record.category, record.key): record for record in read}
    if _decided(decisions) - again.keys():
        # An export that ignores Subject.held still finds what kept the address.
        by_address = exported(connector, Subject(email=people.anna.email, held=held))
        again = {(record.category, record.key): record for record in by_address} | again
    return again


def _named_fields(left: Mapping[RecordId, tuple[str, ...]]) -> str:
    """Names records and their fields for a message: "notes 'N1' (name, text)"."""
    listed = sorted(left.items())
    shown = [f"{category} {key!r} ({', '.join(fields)})"
             for (category, key), fields in listed[:NAMED_IN_MESSAGE]]
    more = len(listed) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _erase_all(records: Iterable[Record]) -> list[Decision]:
    """Returns a decision to erase each record, one per record however often it was given."""
    decided = dict.fromkeys((record.category, record.key) for record in records)
    return [Decision(category, key, Disposition.ERASE) for category, key in decided]


def _decided(decisions: Iterable[Decision]) -> set[RecordId]:
    """Returns the records the decisions are about."""
    return {(decision.category, decision.key) for decision in decisions}


def _held_keys(decisions: Iterable[Decision]) -> dict[str, tuple[str, ...]]:
    """Returns the decided keys by category, as a subject's `held` carries them."""
    held: dict[str, tuple[str, ...]] = {}
    for decision in decisions:
        held[decision.category] = (*held.get(decision.category, ()), decision.key)
    return held


def _erase(connector: Connector, decisions: Sequence[Decision]) -> list[Outcome]:
    """Erases for a subject whose address is cleared; skips when the connector cannot."""
    try:
        return list(connector.erase(_cleared(), decisions))
    except ActionNotSupported as refusal:
        raise CheckSkipped(
            f"{connector.name} does not erase ({refusal}): every erasure of it becomes a "
            f"manual task"
        ) from refusal


def _what_was_said(identities: Iterable[RecordId], reported: Mapping[RecordId, str]) -> str:
    """Summarises what the erasure reported for those records."""
    said = sorted({reported.get(identity, "no outcome") for identity in identities})
    return "the erasure reported: " + ", ".join(
        word if word == "no outcome" else repr(word) for word in said
    )


def _holds_anna(value: JSONValue | Mapping[str, JSONValue], people: People) -> bool:
    """Whether a value (a record's data, or one field's) holds anna's address (any
    spelling), name or markup."""
    own = {spelling.strip().lower() for spelling in people.anna.stored_as}
    own |= {people.anna.email, people.anna.name.lower(), people.markup.lower()}
    return any(text.strip().lower() in own for text in texts_in(value))


def _changes(changes: Iterable[Change]) -> list[tuple[str, str, str, str]]:
    """Returns changes in a form that compares equal when they correct the same things."""
    return sorted((c.category, c.key, c.field, repr(c.new)) for c in changes)


def _named_changes(changes: Sequence[Change]) -> str:
    """Names changes for a message."""
    return named((c.category, f"{c.key}.{c.field}") for c in changes) if changes else "none"


def _action(connector: Connector, name: str) -> Callable[[Subject], Iterable[Outcome]]:
    """Returns the connector's withdraw_consent or restrict."""
    action: Callable[[Subject], Iterable[Outcome]] = getattr(connector, name)
    return action


def _others_unchanged(
    connector: Connector, before: Mapping[Person, Sequence[Record]], doing: str
) -> None:
    """Fails when an action for anna changed anyone else's records."""
    for person, records in before.items():
        changed = changed_ids(records, exported(connector, _subject(person)))
        if changed:
            raise ConformanceFailure(
                f"{doing} changed records of {person.email!r} ({named(changed)}): another "
                f"person's data was altered (Art. 5(1)(d) and (f); a personal data breach, "
                f"Art. 4(12))"
            )


def _close(result: Any) -> None:
    """Closes an export that was not read to its end, releasing what it holds open."""
    close = getattr(result, "close", None)
    if callable(close):
        close()


def _memory_of_export(connector: Connector, subject: Subject) -> tuple[int, int, int]:
    """Returns the memory taking the first record costs, that of holding them all, and
    how many there were, measured with tracemalloc from the same starting point."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        records = iter(connector.export(subject))
        first = next(records, None)
        first_cost = tracemalloc.get_traced_memory()[1] - start
        held = [first, *records] if first is not None else []
        all_cost = tracemalloc.get_traced_memory()[1] - start
        count = len(held)
        del held
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return first_cost, all_cost, count
