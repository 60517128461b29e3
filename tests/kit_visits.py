"""A visitor book in SQLite whose moments are text in more than one format, for the kit's
raw seed (`seed_raw`).

The shop's till writes when a visit was as "2024-03-05 11:00:00"; its website, another
program on the same table, as "2024-03-05T11:00:00Z" or "2024-03-06 12:30:00.000". A visit
has no id of its own: it is a card and a moment, and the connector's key says both. The
seed stores visits the way the connector's own code writes them (the till's format); the
raw seed inserts them by plain SQL the way the website does.

`VisitsConnector` compares moments as SQLite reads them (`datetime(visited_at)`), so it
finds a visit in every format. `FormatsTheMoment` compares the stored text with the moment
as Python formats it: it finds every visit the seed stored, and misses the website's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import ClassVar

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)

from dsar.connector import Category, Connector, Decision, Disposition, Outcome, Record, Subject
from dsar.kit import People, Person

metadata = MetaData()

visits = Table(
    "visits",
    metadata,
    Column("card", String, primary_key=True),
    # Text, as the system stores it: each program writes its own format.
    Column("visited_at", String, primary_key=True),
    Column("email", String),
    Column("name", String),
    Column("remark", String),
    Column("shop", String, nullable=False),
)

FIELDS = ("card", "visited_at", "email", "name", "remark", "shop")
#: What a minimisation clears unless the decision keeps it.
PERSONAL = ("email", "name", "remark")

#: How the till, and the connector's own code, write a moment.
TILL_FORMAT = "%Y-%m-%d %H:%M:%S"
#: When the till's visits were; each later one a day on.
FIRST_VISIT = datetime(2024, 3, 1, 9, 30)
#: Moments as the website writes them, in both its formats: what the raw seed stores.
WEBSITE_MOMENTS = ("2024-03-05T11:00:00Z", "2024-03-06 12:30:00.000")


def stored_moment(moment: datetime) -> str:
    """A moment as the connector's own code writes it: the till's format, in UTC."""
    return moment.strftime(TILL_FORMAT)


def read_moment(text: str) -> datetime:
    """A stored moment, in whichever format it was written, as a moment in UTC (naive)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class VisitorBook:
    """The system: a SQLite file holding the visits table, with the kit's seeds."""

    def __init__(self, path: Path) -> None:
        """Creates the table in a new SQLite file at that path."""
        self.engine: Engine = create_engine(f"sqlite:///{path}")
        metadata.create_all(self.engine)
        self.cards = count(1)
        self.web_cards = count(1)

    @property
    def settings(self) -> dict[str, Engine]:
        """The connector's settings: the book's database."""
        return {"VISITS_ENGINE": self.engine}

    def seed(self, people: People) -> None:
        """The kit's seed, written as the connector's own code writes: a visit under each
        spelling of everyone's address, the markup in anna's first remark."""
        self.cards, self.web_cards = count(1), count(1)
        rows: list[dict[str, str]] = []
        for person in (people.anna, *people.others()):
            for spelling in person.stored_as:
                first_of_anna = person is people.anna and spelling == person.stored_as[0]
                moment = FIRST_VISIT + timedelta(days=len(rows))
                rows.append({
                    "card": f"T{next(self.cards)}", "visited_at": stored_moment(moment),
                    "email": spelling, "name": person.name,
                    "remark": people.markup if first_of_anna else "Asked for the catalogue",
                    "shop": "Utrecht",
                })
        with self.engine.begin() as connection:
            connection.execute(delete(visits))
            connection.execute(insert(visits), rows)

    def seed_raw(self, person: Person) -> None:
        """The kit's raw seed: the person's visits booked on the website, which writes its
        own formats of a moment, inserted by plain SQL as that program does."""
        card = f"W{next(self.web_cards)}"
        with self.engine.begin() as connection:
            for moment in WEBSITE_MOMENTS:
                connection.exec_driver_sql(
                    "INSERT INTO visits (card, visited_at, email, name, remark, shop) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (card, moment, person.stored_as[0], person.name, "Booked online", "Web"),
                )


class VisitsConnector(Connector):
    """A connector done right: a visit is found by its card and moment, compared as
    moments, whatever format each was stored in."""

    name = "visits"
    title = "Kit visitor book"
    categories: ClassVar[tuple[Category, ...]] = (
        Category(name="visits", title="Visits", fields=FIELDS, purpose="Testing the kit.",
                 legal_basis="None: made-up data.", recipients=(), retention="One test.",
                 source="The kit's seeds."),
    )

    @property
    def engine(self) -> Engine:
        """The system this connector reaches."""
        engine: Engine = self.settings["VISITS_ENGINE"]
        return engine

    def at_visit(self, key: str) -> ColumnElement[bool]:
        """The visit a key names: its card, and its moment as SQLite reads any format."""
        card, _, moment = key.partition("@")
        return (visits.c.card == card) & (
            func.datetime(visits.c.visited_at) == func.datetime(moment))

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields the subject's visits, and those their `held` keys name, as it reads them."""
        found = [self.at_visit(key) for key in subject.held.get("visits", ())]
        by_address = (func.lower(func.trim(visits.c.email)) == subject.email
                      if subject.email else false())
        query = select(visits).where(or_(by_address, *found)).order_by(visits.c.card,
                                                                       visits.c.visited_at)
        with self.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                moment = read_moment(row["visited_at"])
                data = {name: row[name] for name in FIELDS}
                data["visited_at"] = moment.replace(tzinfo=UTC).isoformat()
                yield Record("visits", f"{row['card']}@{moment.isoformat()}", data)

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Deletes the decided visits, or clears their personal fields but those kept,
        each found by its key; one already done is "unchanged"."""
        outcomes = []
        with self.engine.begin() as connection:
            for decision in decisions:
                visit = self.at_visit(decision.key)
                if decision.disposition is Disposition.ERASE:
                    done = connection.execute(delete(visits).where(visit)).rowcount
                    word = "erased"
                elif decision.disposition is Disposition.MINIMISE:
                    cleared = [name for name in PERSONAL if name not in decision.keep_fields]
                    held = or_(false(), *(visits.c[name].is_not(None) for name in cleared))
                    done = connection.execute(update(visits).where(visit, held).values(
                        dict.fromkeys(cleared))).rowcount
                    word = "minimised"
                else:
                    done, word = 0, "unchanged"
                outcomes.append(Outcome("visits", decision.key, word if done else "unchanged"))
        return outcomes


class FormatsTheMoment(VisitsConnector):
    """Finds a visit by comparing the stored text with the moment as its own code writes it."""

    def at_visit(self, key: str) -> ColumnElement[bool]:
        """The mistake: "2024-03-05 11:00:00" is not "2024-03-05T11:00:00Z" as text."""
        card, _, moment = key.partition("@")
        return (visits.c.card == card) & (
            visits.c.visited_at == stored_moment(datetime.fromisoformat(moment)))
