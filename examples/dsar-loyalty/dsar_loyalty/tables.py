"""The loyalty programme's tables, as its database holds them: what the connector reads.

The programme runs its own database beside the shop. Only the columns described here are
read; the connector never creates or alters anything in it. The tests create these tables
in an example SQLite database.

- `members`: one row per membership, under the address the member typed when joining.
- `points`: what a member earned, by the member's row (no address of its own).
- `rewards`: rewards handed out at the till or on the website, by address alone; the
  programme's books keep them after a member leaves, without the address.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
)

metadata = MetaData()

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False),
    Column("joined_at", DateTime, nullable=False),
    Column("tier", String(20), nullable=False, server_default="bronze"),
)
# What the connector matches on: the address as typed, trimmed and lower-cased.
Index("members_email_match", func.lower(func.trim(members.c.email)))

points = Table(
    "points",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("earned_at", DateTime, nullable=False),
    Column("amount", Integer, nullable=False),
    # What the points were for: an order's number, or the title of a review the member wrote.
    Column("reason", String(200)),
)

rewards = Table(
    "rewards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_email", String(254)),
    Column("reward", String(200), nullable=False),
    Column("redeemed_at", DateTime, nullable=False),
)
Index("rewards_member_email_match", func.lower(func.trim(rewards.c.member_email)))
