"""The Cplus loyalty programme, for dsar: a member's membership, points and rewards.

Found by the address the member typed (trimmed and lower-cased on both sides), exported as
it is read, erased by key as the retention planner decided, and a member's name corrected.
The programme cannot mark data storage-only and holds no consents, so restriction and
objection to direct marketing are manual tasks for the privacy officer. What it erases and
corrects, dsar reads back through `export` (the default `verify`), its records found by key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from dsar.connector import (
    Category,
    Change,
    Column,
    ColumnKind,
    Connector,
    Decision,
    Disposition,
    JSONValue,
    LegalBasis,
    Outcome,
    Record,
    Subject,
    translatable,
)
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    create_engine,
    delete,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping

from dsar_loyalty.tables import members, points, rewards

#: The setting that holds the URL of the programme's database (a SQLAlchemy URL). dsar reads
#: it, as every setting, from the environment variable DSAR_LOYALTY_DATABASE_URL.
SETTINGS_KEY = "LOYALTY_DATABASE_URL"

#: How many rows an export reads from the database at a time.
STREAM_BATCH = 200

#: The Dutch (and any later) translations of the texts marked `translatable` below.
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

#: The categories' names: the keys of their rules in dsar's config/retention.toml, and of
#: their recipients in config/recipients.toml ("loyalty.members" and so on).
MEMBERS = "members"
POINTS = "points"
REWARDS = "rewards"

#: Decisions under which a record is left as it is.
LEFT_ALONE = (Disposition.RETAIN, Disposition.BLOCKED)


@dataclass(frozen=True)
class Kind:
    """Where one category's records are stored, and what clears their personal fields.

    Attributes:
        category: the category's name.
        table: its table; every one has an integer `id`, which is the record's key.
        fields: the record's fields (each a column of the same name), in the JSON's order.
        personal: each personal field and the value that clears it; a column that may not
            be NULL is cleared to "". The rest (ids, dates, amounts, a tier, the reward
            itself) says nothing about anyone once these are gone.
    """

    category: str
    table: Table
    fields: tuple[str, ...]
    personal: Mapping[str, str | None]


MEMBER_KIND = Kind(MEMBERS, members, ("id", "email", "name", "joined_at", "tier"),
                   {"email": "", "name": ""})
POINT_KIND = Kind(POINTS, points, ("id", "member_id", "earned_at", "amount", "reason"),
                  {"reason": None})
REWARD_KIND = Kind(REWARDS, rewards, ("id", "member_email", "reward", "redeemed_at"),
                   {"member_email": None})
KINDS = {kind.category: kind for kind in (MEMBER_KIND, POINT_KIND, REWARD_KIND)}

#: The fields a rectification may correct here, under dsar's names for them
#: (dsar.policy.corrections.FIELDS). The tier follows from the points; nothing else is held.
CORRECTABLE = ("name",)

_TERMS = translatable(
    'Performance of a contract, Art. 6(1)(b) GDPR: "We need this information to run the '
    'loyalty programme you joined, under its terms." (privacy policy, loyalty programme)'
)


class LoyaltyConnector(Connector):
    """Every membership under the subject's address, its points, and the rewards handed
    out to that address."""

    name = "loyalty"
    title = translatable("Cplus loyalty programme")
    translations: ClassVar[str | None] = str(TRANSLATIONS)
    #: What an erasure does to each category, in config/retention.toml's format: nothing
    #: obliges Cplus to keep any of it, and points go with their membership. A rule of the
    #: same name in the shop's config/retention.toml wins over these.
    retention_rules: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        MEMBERS: {
            "policy": "We keep your membership for as long as you are a member. When you end "
                      "it, we delete it.",
            "on_erasure": "erase",
        },
        POINTS: {
            "policy": "We keep the points you saved for as long as you are a member.",
            "on_erasure": "erase",
            "follows": {"category": MEMBERS, "by": "member_id"},
        },
        REWARDS: {
            "policy": "We keep the rewards you received for as long as you are a member; a "
                      "reward handed out stays in our books afterwards, without your address.",
            "on_erasure": "erase",
        },
    }
    categories: ClassVar[tuple[Category, ...]] = (
        Category(
            name=MEMBERS,
            title=translatable("Your loyalty membership"),
            fields=MEMBER_KIND.fields,
            purpose=translatable(
                'Running your membership of the loyalty programme: "so that we recognise you '
                "as a member, save your points and give you the rewards you choose\" "
                "(privacy policy, loyalty programme)."
            ),
            legal_basis=_TERMS,
            basis=(LegalBasis.CONTRACT,),
            recipients=(),
            retention=translatable(
                '"We keep your membership for as long as you are a member. When you end it, '
                'we delete it."'
            ),
            source=translatable(
                "You, when you joined the loyalty programme; your tier follows from the "
                "points you saved."
            ),
            columns=(
                Column(translatable("Member number"), ("id",)),
                Column(translatable("Name"), ("name",)),
                Column(translatable("Joined"), ("joined_at",), ColumnKind.DATE),
                Column(translatable("Tier"), ("tier",)),
            ),
            # Each field as a person reads it in a sentence ("Kept: name, date joined"),
            # and each tier as a person reads it; report.json keeps the stored values.
            labels={
                "id": translatable("member number"),
                "email": translatable("e-mail address"),
                "name": translatable("name"),
                "joined_at": translatable("date joined"),
                "tier": translatable("tier"),
            },
            values={"tier": {"bronze": translatable("bronze"), "silver": translatable("silver"),
                             "gold": translatable("gold")}},
        ),
        Category(
            name=POINTS,
            title=translatable("Your loyalty points"),
            fields=POINT_KIND.fields,
            purpose=translatable(
                'Keeping count of your points: "you save points with your orders and '
                'reviews, and exchange them for rewards" (privacy policy, loyalty programme).'
            ),
            legal_basis=_TERMS,
            basis=(LegalBasis.CONTRACT,),
            recipients=(),
            retention=translatable(
                '"We keep the points you saved for as long as you are a member."'),
            source=translatable("Your orders and reviews in the Cplus web shop."),
            columns=(
                Column(translatable("Earned"), ("earned_at",), ColumnKind.DATE),
                Column(translatable("Points"), ("amount",)),
                Column(translatable("For"), ("reason",)),
            ),
            labels={
                "id": translatable("number"),
                "member_id": translatable("member number"),
                "earned_at": translatable("date earned"),
                "amount": translatable("points"),
                "reason": translatable("earned for"),
            },
        ),
        Category(
            name=REWARDS,
            title=translatable("Your loyalty rewards"),
            fields=REWARD_KIND.fields,
            purpose=translatable(
                'Handing out the rewards you chose: "so that you receive your reward and '
                'each reward is used once" (privacy policy, loyalty programme).'
            ),
            legal_basis=_TERMS,
            basis=(LegalBasis.CONTRACT,),
            recipients=(),
            retention=translatable(
                '"We keep the rewards you received for as long as you are a member; a '
                'reward handed out stays in our books afterwards, without your address."'
            ),
            source=translatable("The shop's till or website, when you redeemed a reward."),
            columns=(
                Column(translatable("Reward"), ("reward",)),
                Column(translatable("Redeemed"), ("redeemed_at",), ColumnKind.DATE),
            ),
            labels={
                "id": translatable("number"),
                "member_email": translatable("e-mail address"),
                "reward": translatable("reward"),
                "redeemed_at": translatable("date redeemed"),
            },
        ),
    )

    def engine(self) -> Engine:
        """The programme's database, one pool of connections per URL and process."""
        return engine_for(database_url(self.settings))

    def export(self, subject: Subject) -> Iterator[Record]:
        """Yields the subject's memberships, then their points, then their rewards, as it
        reads them.

        Memberships and rewards are found by the address; points by the membership they
        belong to; and records an earlier erasure kept under a legal duty (their address
        cleared) by their keys.
        """
        queries = (
            (MEMBER_KIND, select(members).where(
                _held_or(subject, MEMBERS, email_matches(members.c.email, subject.email)))),
            (POINT_KIND, select(points).where(_held_or(
                subject, POINTS, points.c.member_id.in_(_member_ids(subject.email))))),
            (REWARD_KIND, select(rewards).where(
                _held_or(subject, REWARDS, email_matches(rewards.c.member_email,
                                                         subject.email)))),
        )
        with self.engine().connect() as connection:
            for kind, query in queries:
                rows = connection.execute(
                    query.order_by(kind.table.c.id).execution_options(yield_per=STREAM_BATCH))
                for row in rows.mappings():
                    yield Record(kind.category, str(row["id"]), row_data(row, kind.fields))

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> list[Outcome]:
        """Carries out the planner's decisions, finding each record by its key.

        The subject's address is not used: a record kept under a legal duty no longer holds
        it when its erasure comes due. "erase" deletes a point; clears a reward's address (the
        reward stays in the programme's books); and deletes a membership, or clears its
        address and name while points the plan keeps still belong to it. "minimise" clears
        the personal fields the decision does not keep. A record already deleted or cleared
        is reported "unchanged", so a second run changes nothing. Outcomes come in the
        decisions' order.
        """
        wanted = _by_category(decisions)
        done: dict[tuple[str, str], Outcome] = {}
        with self.engine().begin() as connection:
            # Points first: a membership can go only once no point belongs to it.
            for kind in (POINT_KIND, REWARD_KIND, MEMBER_KIND):
                for outcome in _carry_out(connection, kind, wanted[kind.category]):
                    done[(outcome.category, outcome.key)] = outcome
        return [done[(decision.category, decision.key)] for decision in decisions]

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> list[Change]:
        """Lists, or with apply=True makes, the corrections in the subject's memberships.

        Only a member's name is held here; the other fields of a request are left to the
        systems that hold them. A name that already reads as corrected is no change, so a
        second run changes nothing.
        """
        wanted = {name: value for name, value in corrections.items() if name in CORRECTABLE}
        if not wanted:
            return []
        query = (select(members).where(email_matches(members.c.email, subject.email))
                 .order_by(members.c.id))
        # One transaction: what is listed is what is written.
        with self.engine().begin() as connection:
            changes = [
                Change(MEMBERS, str(row["id"]), name, json_value(row[name]), value)
                for row in connection.execute(query).mappings()
                for name, value in wanted.items()
                if row[name] != value
            ]
            if apply:
                for change in changes:
                    connection.execute(update(members)
                                       .where(members.c.id == int(change.key))
                                       .values({change.field: change.new}))
        return changes


# --- finding the subject's records ----------------------------------------------------------


def email_matches(column: Any, email: str) -> ColumnElement[bool]:
    """The stored address, trimmed and lower-cased in SQL, is the subject's whole address.

    People type addresses with capitals and blanks; the subject's address comes trimmed and
    lower-cased. Only the whole address matches: never "contains" or "starts with", which
    find other people's records. The programme's tables index lower(trim(email)) for it
    (`dsar_loyalty.tables`); without such an index each request reads the whole table.
    """
    address = email.strip().lower()
    if not address:  # a cleared address is nobody's: it must not match cleared records
        return false()
    return func.lower(func.trim(column)) == address


def _member_ids(email: str) -> Select[tuple[int]]:
    """The ids of the memberships under the address, for the points that belong to them."""
    return select(members.c.id).where(email_matches(members.c.email, email))


def _held_or(subject: Subject, category: str, found: ColumnElement[bool]) -> ColumnElement[bool]:
    """Those records, and the subject's records of the category that an erasure kept."""
    held = row_ids_of(subject.held.get(category, ()))
    if not held:
        return found
    return or_(found, KINDS[category].table.c.id.in_(held))


# --- erasing ----------------------------------------------------------------------------------


def _by_category(decisions: Iterable[Decision]) -> dict[str, list[Decision]]:
    """Groups the decisions by category, refusing, before anything is written, any this
    connector cannot carry out.

    Raises:
        ValueError: a category it does not hold, a record decided twice, or a field to keep
            that its records lack.
    """
    grouped: defaultdict[str, list[Decision]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for decision in decisions:
        kind = KINDS.get(decision.category)
        if kind is None:
            raise ValueError(f"no records of category {decision.category!r} here")
        if (decision.category, decision.key) in seen:
            raise ValueError(f"{decision.category} {decision.key!r} is decided twice")
        seen.add((decision.category, decision.key))
        unknown = set(decision.keep_fields) - set(kind.fields)
        if unknown:
            raise ValueError(f"{decision.category} records have no fields "
                             f"{', '.join(sorted(unknown))}")
        grouped[decision.category].append(decision)
    return grouped


def _carry_out(connection: Connection, kind: Kind, decisions: Sequence[Decision]) -> list[Outcome]:
    """Carries out one category's decisions, in the transaction of the whole erasure."""
    if not decisions:
        return []
    table = kind.table
    rows = {
        str(row["id"]): row
        for row in connection.execute(
            select(table).where(table.c.id.in_(row_ids_of(d.key for d in decisions)))
        ).mappings()
    }
    outcomes = []
    for decision in decisions:
        row = rows.get(decision.key)
        if row is None or decision.disposition in LEFT_ALONE:
            outcomes.append(Outcome(kind.category, decision.key, "unchanged"))
            continue
        erasing = decision.disposition is Disposition.ERASE
        if erasing and _deletable(connection, kind, row):
            connection.execute(delete(table).where(table.c.id == row["id"]))
            held = tuple(name for name in kind.personal if row[name] not in (None, ""))
            outcomes.append(Outcome(kind.category, decision.key, "erased", held))
            continue
        cleared = {name: blank for name, blank in kind.personal.items()
                   if (erasing or name not in decision.keep_fields) and row[name] != blank}
        if cleared:
            connection.execute(update(table).where(table.c.id == row["id"]).values(cleared))
        done = ("erased" if erasing else "minimised") if cleared else "unchanged"
        outcomes.append(Outcome(kind.category, decision.key, done, tuple(cleared)))
    return outcomes


def _deletable(connection: Connection, kind: Kind, row: RowMapping) -> bool:
    """Whether an erased record goes altogether: a point does; a reward stays in the books
    without its address; a membership goes once no point belongs to it any more."""
    if kind is POINT_KIND:
        return True
    if kind is REWARD_KIND:
        return False
    remaining = connection.execute(
        select(func.count()).select_from(points).where(points.c.member_id == row["id"])
    ).scalar_one()
    return remaining == 0


# --- the database and its values ------------------------------------------------------------


def database_url(settings: Mapping[str, Any]) -> str:
    """The URL of the programme's database, from the service's settings."""
    url = settings.get(SETTINGS_KEY)
    if not url:
        raise RuntimeError(f"set DSAR_{SETTINGS_KEY} to the URL of the loyalty programme's "
                           "database")
    return str(url)


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL and process, so connections are pooled."""
    # The rows are personal data: keep query values out of error messages and logs.
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def row_ids_of(keys: Iterable[str]) -> list[int]:
    """Keys as row ids; a key that is not a row id was never given by this connector."""
    return [int(key) for key in keys if key.isdigit()]


def json_value(value: Any) -> JSONValue:
    """A column's value as JSON can carry it: a moment as ISO 8601 in UTC, a date as ISO."""
    if isinstance(value, datetime):
        # The programme stores moments in UTC, without a zone.
        moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if value is None:
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def row_data(row: Mapping[Any, Any], fields: Iterable[str]) -> dict[str, JSONValue]:
    """Those fields of a row as JSON values, as they are: text is never escaped or
    stripped here (dsar escapes it wherever it shows it)."""
    return {name: json_value(row[name]) for name in fields}
