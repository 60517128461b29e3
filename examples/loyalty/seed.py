"""The example loyalty programme's database: members, the points they earn, their rewards.

A system of its own beside the shop, connected by a declaration (loyalty.toml), not code.
Its traps are those of real data: addresses typed in mixed case and with blanks, an address
that only looks like another, rewards that name their member by address alone. And, on
purpose, no index on members.email: `dsar connector check` warns about it.

    python -m examples.loyalty.seed sqlite:///instance/loyalty.db
"""

from __future__ import annotations

import sys
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
)

from dsar.connectors.shop.seed import DEMO_EMAIL, DEMO_NAME

metadata = MetaData()

members = Table(
    "members", metadata,
    Column("id", Integer, primary_key=True),
    # Deliberately unindexed: each request reads the whole table (`dsar connector check`).
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False),
    Column("joined_at", DateTime, nullable=False),
    Column("tier", String(20), nullable=False, server_default="bronze"),
)

points = Table(
    "points", metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("earned_at", DateTime, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("reason", String(200)),
)

rewards = Table(
    "rewards", metadata,
    Column("id", Integer, primary_key=True),
    # Rewards are handed out at the till by address; erasure clears it.
    Column("member_email", String(254)),
    Column("reward", String(200), nullable=False),
    Column("redeemed_at", DateTime, nullable=False),
)
Index("rewards_member_email_match", func.lower(func.trim(rewards.c.member_email)))

#: The members: how each typed their address, their name, when they joined, their tier.
MEMBERS = (
    (f" {DEMO_EMAIL.title()}", DEMO_NAME, datetime(2021, 3, 14, 10, 5), "gold"),
    ("daan.jansen@example.com", "Daan Jansen", datetime(2020, 11, 2, 16, 40), "silver"),
    ("EMMA.BAKKER@example.org ", "Emma Bakker", datetime(2022, 6, 21, 9, 12), "bronze"),
    # Looks like the demo customer's address, and is not hers.
    (f"x{DEMO_EMAIL}", "Sander Visser", datetime(2023, 1, 8, 12, 0), "bronze"),
    ("lucas.smit@example.nl", "Lucas Smit", datetime(2019, 8, 30, 18, 22), "silver"),
)
#: Points per member (by position in MEMBERS): when, how many, what for.
POINTS = {
    0: ((datetime(2021, 3, 14, 10, 6), 50, "Welcome bonus"),
        (datetime(2022, 12, 1, 14, 30), 120, "Order CP-100231"),
        (datetime(2024, 2, 9, 11, 0), 80, "Order CP-104877")),
    1: ((datetime(2020, 11, 2, 16, 41), 50, "Welcome bonus"),),
    2: ((datetime(2022, 6, 21, 9, 13), 50, "Welcome bonus"),
        (datetime(2023, 4, 4, 20, 15), 35, "Review written")),
    3: ((datetime(2023, 1, 8, 12, 1), 50, "Welcome bonus"),),
}
#: Rewards: the address they were handed out to, what, when.
REWARDS = (
    (DEMO_EMAIL.upper(), "Free shipping voucher", datetime(2023, 5, 2, 15, 45)),
    (f"{DEMO_EMAIL} ", "10% off coffee", datetime(2024, 3, 1, 9, 30)),
    ("emma.bakker@example.org", "Free shipping voucher", datetime(2023, 7, 19, 13, 5)),
    (f"x{DEMO_EMAIL}", "10% off coffee", datetime(2023, 9, 9, 10, 10)),
)


def seed(url: str, *, reset: bool = False) -> None:
    """Creates the loyalty programme's tables at the database URL and fills them.

    Args:
        url: the database, e.g. sqlite:///instance/loyalty.db.
        reset: drop the three tables first, rows and all.
    """
    engine = create_engine(url)
    try:
        if reset:
            metadata.drop_all(engine)
        metadata.create_all(engine)
        with engine.begin() as connection:
            ids = []
            for email, name, joined, tier in MEMBERS:
                result = connection.execute(insert(members).values(
                    email=email, name=name, joined_at=joined, tier=tier))
                ids.append(result.inserted_primary_key[0])
            for position, earned in POINTS.items():
                connection.execute(insert(points), [
                    {"member_id": ids[position], "earned_at": when, "amount": amount,
                     "reason": reason} for when, amount, reason in earned])
            connection.execute(insert(rewards), [
                {"member_email": email, "reward": reward, "redeemed_at": when}
                for email, reward, when in REWARDS])
    finally:
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m examples.loyalty.seed DATABASE_URL")
    seed(sys.argv[1])
    print(f"Seeded the loyalty programme at {sys.argv[1]}.")
