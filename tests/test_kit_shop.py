"""The conformance kit run against the built-in shop connectors, and against broken ones.

Each built-in connector passes every check. Two connectors broken on purpose, each with a
mistake a connector author could make, are caught with a message that names the mistake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import ColumnElement, func

from dsar.connector import Connector
from dsar.connectors.shop import accounts as accounts_module
from dsar.connectors.shop.accounts import AccountsConnector
from dsar.connectors.shop.marketing import MarketingConnector
from dsar.connectors.shop.orders import OrdersConnector
from dsar.connectors.shop.subscriptions import SubscriptionsConnector
from dsar.connectors.shop.support import SupportConnector
from dsar.kit import PEOPLE, Conformance, run_checks
from dsar.kit.checks import ConnectorFactory, Seed, SeedMany
from tests.kit_shop import CORRECTIONS, KitShop


@pytest.fixture
def shop(tmp_path: Path) -> KitShop:
    """An empty shop of the kit's own in a fresh SQLite file."""
    return KitShop(tmp_path / "kit-shop.db")


class ShopConformance(Conformance):
    """The kit's checks for one shop connector (not collected: its name has no "Test")."""

    connector: ClassVar[type[Connector]]

    @pytest.fixture
    def make_connector(self, shop: KitShop) -> ConnectorFactory:
        """Fresh connectors on the kit's shop."""
        return lambda: self.connector(shop.settings)

    @pytest.fixture
    def seed(self, shop: KitShop) -> Seed:
        """The shop's seed of the kit's people."""
        return shop.seed

    @pytest.fixture
    def corrections(self) -> Mapping[str, str] | None:
        """Corrections that change the subject's open account, order and subscription."""
        return CORRECTIONS

    @pytest.fixture
    def seed_many(self, shop: KitShop) -> SeedMany | None:
        """Adds records of this connector's main table."""
        return shop.seed_many(self.connector.name)


class TestAccounts(ShopConformance):
    """The accounts connector."""

    connector = AccountsConnector


class TestOrders(ShopConformance):
    """The orders connector, with lines and shipments."""

    connector = OrdersConnector


class TestSubscriptions(ShopConformance):
    """The subscriptions connector."""

    connector = SubscriptionsConnector


class TestSupport(ShopConformance):
    """The contact messages and support notes connector."""

    connector = SupportConnector

    @pytest.fixture
    def corrections(self) -> Mapping[str, str] | None:
        """None: messages and notes record what was said then, and nothing in them is
        corrected; the kit skips its correction check."""
        return None


class TestMarketing(ShopConformance):
    """The marketing consents connector."""

    connector = MarketingConnector

    @pytest.fixture
    def corrections(self) -> Mapping[str, str] | None:
        """None: a consent holds only an address, which no correction changes; the kit
        skips its correction check."""
        return None

    @pytest.fixture
    def minimise_keeps(self) -> Mapping[str, Sequence[str]] | None:
        """When and where a consent was given, and its withdrawal: what a minimised record
        of consent keeps (the kit's seed writes its markup in "source", which is no reason
        to clear it)."""
        return {"marketing_consents": ("consented_at", "source", "withdrawn_at")}


def test_run_checks_passes_a_conforming_connector(shop: KitShop) -> None:
    """The command-line entry finds nothing wrong with a connector that passes the suite."""
    failures = run_checks(lambda: OrdersConnector(shop.settings), shop.seed,
                          corrections=CORRECTIONS, seed_many=shop.seed_many("orders"))

    assert failures == []


def test_a_case_sensitive_match_is_caught(shop: KitShop, monkeypatch: pytest.MonkeyPatch) -> None:
    """An accounts connector that compares the stored address as typed fails the spelling
    check, with a message naming the spelling it missed and what the person loses."""

    def as_typed(column: Any, email: str) -> ColumnElement[bool]:
        """The mistake: the address must be stored exactly as the request carries it."""
        return column == email

    monkeypatch.setattr(accounts_module, "email_matches", as_typed)

    failures = dict(run_checks(lambda: AccountsConnector(shop.settings), shop.seed))

    message = failures["every_spelling_of_the_address_is_found"]
    assert "' Anna.Kit@Example.NL '" in message
    assert "'ANNA.KIT@EXAMPLE.NL'" in message
    assert "capitals or blanks around it" in message
    assert "incomplete answer (Art. 15)" in message


def test_a_match_on_part_of_the_address_is_caught(
    shop: KitShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An accounts connector that finds an address anywhere inside the stored one (to cope
    with blanks) fails the check on other people's records, naming the look-alike."""

    def contains(column: Any, email: str) -> ColumnElement[bool]:
        """The mistake: LIKE '%anna.kit@example.nl%' also finds xanna.kit@example.nl."""
        return func.lower(column).contains(email.strip().lower(), autoescape=True)

    monkeypatch.setattr(accounts_module, "email_matches", contains)

    failures = dict(run_checks(lambda: AccountsConnector(shop.settings), shop.seed))

    message = failures["no_other_subjects_records"]
    assert f"the exports for {PEOPLE.anna.email!r} and for 'xanna.kit@example.nl'" in message
    assert "'anna.kit@example.nl.evil.example'" in message
    assert "one person's answer gives away another's data" in message
    # The spellings are still all found: the check that fails is the one about other people.
    assert "every_spelling_of_the_address_is_found" not in failures
