"""What the kit leaves to this connector, checked here: what an erasure does to each kind
of record when the plan keeps some, what "minimise" clears, what a correction touches, and
that its texts are in Dutch. The kit's own checks are in test_conformance.py.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from dsar.connector import Change, Decision, Disposition, Outcome, Record, Subject
from dsar.policy.retention import parse_rules
from sqlalchemy import Engine, insert, select

from dsar_loyalty.connector import MEMBERS, POINTS, REWARDS, TRANSLATIONS, LoyaltyConnector
from dsar_loyalty.tables import members, points, rewards

ADDRESS = "mira.example@example.org"
PACKAGE = Path(__file__).resolve().parents[1] / "dsar_loyalty"
CATALOGUE = TRANSLATIONS / "nl" / "LC_MESSAGES"


@pytest.fixture
def connector(database: Engine, database_url: str) -> LoyaltyConnector:
    """The connector on an example database holding one member with a point and a reward,
    and a member with another address."""
    with database.begin() as connection:
        mira = connection.execute(insert(members).values(
            email=f" {ADDRESS.title()}", name="Mira Example",
            joined_at=datetime(2023, 5, 1, 12, 0), tier="silver").returning(members.c.id)
        ).scalar_one()
        connection.execute(insert(points).values(
            member_id=mira, earned_at=datetime(2023, 6, 2, 9, 0), amount=120,
            reason="Order CP-100231"))
        connection.execute(insert(rewards).values(
            member_email=ADDRESS.upper(), reward="Free shipping voucher",
            redeemed_at=datetime(2023, 9, 9, 10, 10)))
        connection.execute(insert(members).values(
            email="other.example@example.org", name="Otto Example",
            joined_at=datetime(2022, 1, 3, 8, 0)))
    return LoyaltyConnector({"LOYALTY_DATABASE_URL": database_url})


def _found(connector: LoyaltyConnector, **held: tuple[str, ...]) -> dict[str, Record]:
    """Mira's records by category (one of each here), with the keys an erasure kept."""
    return {record.category: record
            for record in connector.export(Subject(ADDRESS, held=dict(held)))}


def test_a_member_s_records_are_found_by_address_and_through_the_membership(
    connector: LoyaltyConnector,
) -> None:
    found = _found(connector)

    assert sorted(found) == [MEMBERS, POINTS, REWARDS]
    assert found[MEMBERS].data["tier"] == "silver"
    assert found[POINTS].data == {"id": int(found[POINTS].key),
                                  "member_id": int(found[MEMBERS].key),
                                  "earned_at": "2023-06-02T09:00:00+00:00", "amount": 120,
                                  "reason": "Order CP-100231"}
    assert found[REWARDS].data["reward"] == "Free shipping voucher"


def test_a_membership_whose_points_are_kept_loses_its_address_and_name_only(
    connector: LoyaltyConnector, database: Engine,
) -> None:
    found = _found(connector)
    erase_member = Decision(MEMBERS, found[MEMBERS].key, Disposition.ERASE)
    keep_points = Decision(POINTS, found[POINTS].key, Disposition.RETAIN)

    outcomes = connector.erase(Subject(""), [erase_member, keep_points])

    assert outcomes == [Outcome(MEMBERS, found[MEMBERS].key, "erased", ("email", "name")),
                        Outcome(POINTS, found[POINTS].key, "unchanged")]
    kept = _found(connector, members=(found[MEMBERS].key,), points=(found[POINTS].key,))
    assert kept[MEMBERS].data["email"] == "" and kept[MEMBERS].data["name"] == ""
    assert kept[POINTS].data == found[POINTS].data
    # Run again, it changes nothing; once the points go too, so does the membership.
    assert connector.erase(Subject(""), [erase_member]) == [
        Outcome(MEMBERS, found[MEMBERS].key, "unchanged")]
    erase_points = Decision(POINTS, found[POINTS].key, Disposition.ERASE)
    assert [o.done for o in connector.erase(Subject(""), [erase_points, erase_member])] == [
        "erased", "erased"]
    with database.connect() as connection:
        assert connection.execute(select(members.c.name)).scalars().all() == ["Otto Example"]


def test_an_erased_reward_stays_in_the_books_without_the_address(
    connector: LoyaltyConnector,
) -> None:
    reward = _found(connector)[REWARDS]
    decision = Decision(REWARDS, reward.key, Disposition.ERASE)

    assert connector.erase(Subject(""), [decision]) == [
        Outcome(REWARDS, reward.key, "erased", ("member_email",))]
    kept = _found(connector, rewards=(reward.key,))[REWARDS]
    assert kept.data == {**reward.data, "member_email": None}
    assert connector.erase(Subject(""), [decision]) == [Outcome(REWARDS, reward.key, "unchanged")]


def test_a_minimised_membership_keeps_only_what_the_decision_keeps(
    connector: LoyaltyConnector,
) -> None:
    member = _found(connector)[MEMBERS]
    decision = Decision(MEMBERS, member.key, Disposition.MINIMISE, keep_fields=("name",))

    assert connector.erase(Subject(""), [decision]) == [
        Outcome(MEMBERS, member.key, "minimised", ("email",))]
    assert MEMBERS not in _found(connector)
    kept = _found(connector, members=(member.key,))[MEMBERS]
    assert kept.data["email"] == "" and kept.data["name"] == "Mira Example"


def test_a_plan_it_cannot_carry_out_changes_nothing(
    connector: LoyaltyConnector, database: Engine,
) -> None:
    found = _found(connector)
    erase_all = [Decision(r.category, r.key, Disposition.ERASE) for r in found.values()]

    for wrong in ([*erase_all, Decision("orders", "1", Disposition.ERASE)],
                  [*erase_all, erase_all[0]],
                  [Decision(MEMBERS, found[MEMBERS].key, Disposition.MINIMISE,
                            keep_fields=("phone",))]):
        with pytest.raises(ValueError):
            connector.erase(Subject(ADDRESS), wrong)
    assert _found(connector) == found


def test_a_correction_changes_the_name_and_leaves_the_rest_to_other_systems(
    connector: LoyaltyConnector,
) -> None:
    member = _found(connector)[MEMBERS]
    corrections = {"name": "Mira Example-de Vries", "city": "Utrecht"}

    expected = [Change(MEMBERS, member.key, "name", "Mira Example", "Mira Example-de Vries")]
    assert connector.rectify(Subject(ADDRESS), corrections, apply=False) == expected
    assert connector.rectify(Subject(ADDRESS), corrections, apply=True) == expected
    assert _found(connector)[MEMBERS].data["name"] == "Mira Example-de Vries"
    assert connector.rectify(Subject(ADDRESS), corrections, apply=True) == []


def test_every_category_has_a_retention_rule_dsar_accepts() -> None:
    """The rules the connector declares are in config/retention.toml's format, one per
    category: without one, every erasure of that data waits for the privacy officer."""
    rules = parse_rules(LoyaltyConnector.retention_rules)

    assert sorted(rules) == sorted(c.name for c in LoyaltyConnector.categories)
    assert rules[POINTS].follows == (MEMBERS, "member_id")


def test_every_text_a_person_reads_has_its_dutch() -> None:
    """Each text marked `translatable` has a Dutch translation in the package's catalogue."""
    marked = {message for _, _, message, _, _ in extract_from_dir(
        str(PACKAGE), [("**.py", "python")], keywords={"translatable": None})}
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    untranslated = sorted(text for text in marked
                          if not (text in catalogue and catalogue[text].string))
    assert marked and not untranslated, untranslated


def test_the_compiled_catalogue_is_the_one_dsar_reads() -> None:
    """The .mo next to the .po is compiled from it (`pybabel compile -d
    dsar_loyalty/translations`), and dsar finds it where the connector says it is."""
    compiled = CATALOGUE / "messages.mo"
    assert compiled.exists(), "compile it: pybabel compile -d dsar_loyalty/translations"
    with (CATALOGUE / "messages.po").open("rb") as po, compiled.open("rb") as mo:
        written, read = read_po(po), read_mo(mo)
    assert {m.id: m.string for m in written if m.id} == {m.id: m.string for m in read if m.id}, (
        "the .mo is older than the .po: pybabel compile -d dsar_loyalty/translations")
    dutch = Translations.load(LoyaltyConnector.translations, ["nl"])
    assert dutch.gettext(LoyaltyConnector.title) == "Cplus-spaarprogramma"
