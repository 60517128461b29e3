"""dsar's conformance kit, run against the connector on the example database.

The kit (dsar.kit) checks what dsar relies on: every spelling of an address is found and no
look-alike's record is, keys stay the same, an erasure finds records by key and a second one
changes nothing, a minimisation leaves nothing but what it keeps, a correction is listed
before it is made and made once, markup comes back as typed, and a long history streams.
`pytest -m conformance` runs only its checks.

The seed stores the kit's made-up people (dsar.kit.people says what it owes them) the way
the programme stores its members: a membership per address as typed, points by membership,
rewards by address alone. The raw seed adds rows the way the shop's till writes them, by
plain SQL with moments in its own text formats, for the erase and minimise checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import pytest
from dsar.kit import Conformance, People, Person
from sqlalchemy import Connection, Engine, delete, insert, select

from dsar_loyalty.connector import LoyaltyConnector
from dsar_loyalty.tables import members, metadata, points, rewards

#: When the example members joined; their points and rewards come later.
JOINED = datetime(2023, 3, 14, 10, 5)


def _join(connection: Connection, person: Person, address: str, tier: str = "bronze") -> int:
    """Stores a membership for the person under the address as typed; returns its id."""
    added = connection.execute(insert(members).values(
        email=address, name=person.name, joined_at=JOINED, tier=tier).returning(members.c.id))
    member_id: int = added.scalar_one()
    return member_id


def _earn(connection: Connection, member_id: int, reason: str, count: int = 1) -> None:
    """Stores that many points rows for the membership."""
    connection.execute(insert(points), [
        {"member_id": member_id, "earned_at": JOINED + timedelta(days=day + 1),
         "amount": 50, "reason": reason} for day in range(count)])


def _redeem(connection: Connection, address: str, reward: str) -> None:
    """Stores a reward handed out to the address as typed."""
    connection.execute(insert(rewards).values(
        member_email=address, reward=reward, redeemed_at=JOINED + timedelta(days=90)))


def seed_people(database: Engine, people: People) -> None:
    """Empties the example database and stores the people (the kit's seed contract)."""
    with database.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))
        anna = people.anna
        for number, address in enumerate(anna.stored_as):
            member_id = _join(connection, anna, address, tier="gold")
            # Her first membership's points include a review she titled with markup.
            _earn(connection, member_id, "Welcome bonus")
            if number == 0:
                _earn(connection, member_id, people.markup)
            _redeem(connection, address, "Free shipping voucher")
        for person in people.others():
            for address in person.stored_as:
                _earn(connection, _join(connection, person, address), "Welcome bonus")
                _redeem(connection, address, "10% off coffee")


class TestLoyaltyConnector(Conformance):
    """The kit's checks for LoyaltyConnector."""

    @pytest.fixture
    def make_connector(self, database_url: str) -> Callable[[], LoyaltyConnector]:
        """A fresh connector on the example database."""
        return lambda: LoyaltyConnector({"LOYALTY_DATABASE_URL": database_url})

    @pytest.fixture
    def seed(self, database: Engine) -> Callable[[People], None]:
        """The kit's seed contract, for the programme's tables."""
        return lambda people: seed_people(database, people)

    @pytest.fixture
    def seed_many(self, database: Engine) -> Callable[[Person, int], None]:
        """Adds that many points to the person's first membership: a long history."""

        def seed_many(person: Person, count: int) -> None:
            with database.begin() as connection:
                first = connection.execute(
                    select(members.c.id).where(members.c.email.in_(person.stored_as))
                    .order_by(members.c.id)).scalars().first()
                if first is None:
                    first = _join(connection, person, person.email)
                _earn(connection, first, "Order CP-100231", count)

        return seed_many

    @pytest.fixture
    def seed_raw(self, database: Engine) -> Callable[[Person], None]:
        """Adds a membership, a point and a reward as the shop's till writes them: by plain
        SQL, each moment as text in one of the till's own formats, and the erase and
        minimise checks run on them too."""

        def seed_raw(person: Person) -> None:
            address = person.stored_as[-1]
            with database.begin() as connection:
                member_id = connection.exec_driver_sql(
                    "INSERT INTO members (email, name, joined_at, tier) VALUES (?, ?, ?, ?)",
                    (address, person.name, "2023-06-12 10:00:00", "silver")).lastrowid
                connection.exec_driver_sql(
                    "INSERT INTO points (member_id, earned_at, amount, reason) "
                    "VALUES (?, ?, ?, ?)",
                    (member_id, "2023-06-13T08:15:00Z", 25, "Till receipt 4411"))
                connection.exec_driver_sql(
                    "INSERT INTO rewards (member_email, reward, redeemed_at) VALUES (?, ?, ?)",
                    (address, "Free coffee", "2023-06-14 16:45:00.000"))

        return seed_raw

    @pytest.fixture
    def corrections(self) -> Mapping[str, str]:
        """The correction the rectify check makes: anna's new name."""
        return {"name": "Anna Kit-Jansen"}
