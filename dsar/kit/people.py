"""The made-up people every conformance check is run with, and what the author's seed owes them.

The kit cannot look inside a connector's system, so it asks the connector's author for a
seed: a function that fills the system with these people's data. The checks then ask the
connector about them and compare the answers.

The seed contract:

``seed(people: People) -> None``
    Starts from an empty system (every call resets it: each check seeds afresh) and stores:

    - for ``people.anna``, at least one record of every category the connector declares;
    - for ``people.anna``, at least one record under EACH spelling in ``anna.stored_as``,
      wherever the system's records carry an address (the kit also calls the seed with a
      People whose anna has a single spelling: then every record of hers uses that one);
    - ``people.markup``, exactly as given, in a text field of one of anna's records;
    - records for ``people.bert`` and for every person in ``people.lookalikes``, that do not
      mention anna (an erasure of anna may rightly scrub mentions of her elsewhere);
    - nothing at all under ``people.nobody``.

``seed_many(person: Person, count: int) -> None`` (optional)
    Adds ``count`` records for the person to what the seed stored, for the check that a
    large export streams. Without it that check is skipped.

``seed_raw(person: Person) -> None`` (optional)
    Adds at least one record for the person, written as the system itself writes it (raw
    rows or raw SQL, dates and numbers in the formats its own programs use), not through
    the connector's types. Called after the seed for anna and for each of the others; the
    erase and minimise checks then run on these records too. Without it they run on the
    seed's records alone.

Every address is on a domain used for examples (``example.nl``, as in the rest of dsar's
tests; ``.example`` and ``.invalid`` from RFC 2606), and the kit sends nothing to any of
them: it only reads and writes the author's own system.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """Someone the seed stores records for.

    Attributes:
        email: the canonical address a request carries: trimmed and lower-cased, as
            `dsar.connector.Subject.email` is.
        stored_as: the spellings the seed stores this person's records under, as people
            type them into forms.
        name: the person's name, for the fields that hold one.
    """

    email: str
    stored_as: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class People:
    """The cast of the checks: the subject, another customer, look-alikes and a stranger.

    Attributes:
        anna: the subject of every request the checks make.
        bert: another customer, whose records must stay out of anna's answers and survive
            her erasure untouched.
        lookalikes: people whose addresses contain or resemble anna's; a matcher that
            looks for a part of the address, or trims too much, finds their records.
        nobody: an address the seed stores nothing under.
        markup: a text the seed stores in one of anna's text fields; an answer must carry
            it as the text it is, neither stripped nor escaped.
    """

    anna: Person
    bert: Person
    lookalikes: tuple[Person, ...]
    nobody: str
    markup: str

    def others(self) -> tuple[Person, ...]:
        """Returns everyone whose records the seed stores besides anna."""
        return (self.bert, *self.lookalikes)


#: The cast the kit runs with unless an author passes another.
PEOPLE = People(
    anna=Person(
        email="anna.kit@example.nl",
        # Lower-case, then with capitals and the blanks a pasted address brings, then all
        # capitals: the three ways the same person's address reaches a shop's forms.
        stored_as=("anna.kit@example.nl", " Anna.Kit@Example.NL ", "ANNA.KIT@EXAMPLE.NL"),
        name="Anna Kit",
    ),
    bert=Person(email="bert.kit@example.nl", stored_as=("bert.kit@example.nl",), name="Bert Kit"),
    lookalikes=(
        # Holds anna's whole address: a match on "contains" finds it.
        Person(
            email="xanna.kit@example.nl",
            stored_as=("xanna.kit@example.nl",),
            name="Xander Kit",
        ),
        # Starts with anna's whole address: a match on "starts with" finds it.
        Person(
            email="anna.kit@example.nl.evil.example",
            stored_as=("anna.kit@example.nl.evil.example",),
            name="Evelien Kit",
        ),
        # Anna's address one letter short: a match on a truncated or prefix form finds it.
        Person(
            email="anna.kit@example.n",
            stored_as=("anna.kit@example.n",),
            name="Annemarie Kit",
        ),
    ),
    nobody="nobody.kit@example.nl",
    markup='<img src="http://kit.invalid/x.png"><script>alert(1)</script> & "quotes"',
)
