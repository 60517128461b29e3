"""The retention planner on plain data: every rule of the policy, and the date edges."""

from __future__ import annotations

from datetime import date

import pytest

from dsar.connector import Disposition, Record
from dsar.policy.planner import plan_erasure
from dsar.policy.retention import RetentionRulesError, parse_rules
from dsar.work.rules import load_rules

TODAY = date(2026, 11, 24)
RULES = load_rules()


def _plan(*records):
    """Plans with the shop's real rules file, today being TODAY."""
    return {(d.category, d.key): d for d in plan_erasure(records, RULES, TODAY)}


def _order(key, completed_at, status="delivered", customer_number="C100001"):
    """An exported order record, placed on an account unless customer_number is None."""
    return Record("orders", key, {"order_number": key, "status": status,
                                  "customer_number": customer_number,
                                  "completed_at": completed_at, "email": "x@example.nl"})


def test_completed_order_within_seven_years_is_minimised_until_its_end():
    """A delivered order keeps its fiscal fields until completed + 7 years."""
    decision = _plan(_order("O1", "2022-03-15T10:00:00+00:00"))[("orders", "O1")]
    assert decision.disposition is Disposition.MINIMISE
    assert decision.retain_until == date(2029, 3, 15)
    assert "17(3)(b)" in decision.legal_basis
    assert set(decision.keep_fields) >= {"order_number", "total_cents", "billing_street",
                                        "payment_reference", "name"}
    assert not {"email", "phone", "ip_address", "ship_street"} & set(decision.keep_fields)


def test_order_completed_exactly_seven_years_ago_is_erased():
    """On the seventh anniversary the duty has ended."""
    decision = _plan(_order("O1", "2019-11-24T08:00:00+00:00"))[("orders", "O1")]
    assert decision.disposition is Disposition.ERASE


def test_order_completed_seven_years_ago_tomorrow_is_still_kept():
    """One day short of seven years the order is still minimised, until tomorrow."""
    decision = _plan(_order("O1", "2019-11-25T08:00:00+00:00"))[("orders", "O1")]
    assert decision.disposition is Disposition.MINIMISE
    assert decision.retain_until == date(2026, 11, 25)


def test_order_completed_on_a_leap_day_ends_on_the_last_day_of_february():
    """29 February plus seven years is 28 February."""
    decision = _plan(_order("O1", "2024-02-29T12:00:00+00:00"))[("orders", "O1")]
    assert decision.retain_until == date(2031, 2, 28)


def test_order_in_progress_is_blocked_with_its_shipments_and_the_account():
    """An order not yet completed is still needed: it, its shipments and the account stay."""
    plan = _plan(
        _order("O1", None, status="paid"),
        Record("shipments", "9", {"order_number": "O1", "carrier": "PostNL"}),
        Record("account", "C100001", {"customer_number": "C100001"}),
    )
    assert plan[("orders", "O1")].disposition is Disposition.BLOCKED
    assert "still being processed" in plan[("orders", "O1")].reason
    assert plan[("shipments", "9")].disposition is Disposition.BLOCKED
    assert plan[("account", "C100001")].disposition is Disposition.BLOCKED
    assert "an order in progress" in plan[("account", "C100001")].reason


def test_guest_order_follows_the_same_rule():
    """A guest order (no account) is kept for the fiscal duty like any other."""
    record = Record("orders", "G1", {"order_number": "G1", "customer_number": None,
                                     "completed_at": "2025-01-02T00:00:00+00:00"})
    assert _plan(record)[("orders", "G1")].disposition is Disposition.MINIMISE


def test_shipments_of_a_completed_order_are_erased():
    """The carrier's copy of the address is not a fiscal record."""
    plan = _plan(_order("O1", "2024-01-01T00:00:00+00:00"),
                 Record("shipments", "3", {"order_number": "O1"}))
    assert plan[("shipments", "3")].disposition is Disposition.ERASE


def test_active_subscription_is_blocked_and_keeps_the_account():
    """An active subscription is a running contract."""
    plan = _plan(
        Record("subscriptions", "1", {"status": "active", "terminated_at": None,
                                      "customer_number": "C1"}),
        Record("account", "C1", {}),
    )
    assert plan[("subscriptions", "1")].disposition is Disposition.BLOCKED
    assert "an active subscription" in plan[("account", "C1")].reason


def test_a_closed_account_is_erased_though_the_new_one_has_a_contract():
    """Only the account a running contract is on stays; the person's old account goes."""
    plan = _plan(
        Record("subscriptions", "1", {"status": "active", "terminated_at": None,
                                      "customer_number": "C2"}),
        _order("O1", None, status="paid", customer_number="C2"),
        Record("account", "C1", {"closed_at": "2023-01-01T00:00:00+00:00"}),
        Record("account", "C2", {}),
    )
    assert plan[("account", "C1")].disposition is Disposition.ERASE
    assert plan[("account", "C2")].disposition is Disposition.BLOCKED
    assert "an active subscription and an order in progress" in plan[("account", "C2")].reason


def test_a_guest_order_in_progress_holds_back_no_account():
    """A guest order names no account, so it blocks itself and nothing else."""
    plan = _plan(_order("G1", None, status="paid", customer_number=None),
                 Record("account", "C1", {}))
    assert plan[("orders", "G1")].disposition is Disposition.BLOCKED
    assert plan[("account", "C1")].disposition is Disposition.ERASE


def test_cancelled_subscription_keeps_billing_for_seven_years():
    """A cancelled subscription's billing record stays until termination + 7 years."""
    decision = _plan(Record("subscriptions", "1", {
        "status": "cancelled", "terminated_at": "2025-06-30T00:00:00+00:00"}))[
        ("subscriptions", "1")]
    assert decision.disposition is Disposition.MINIMISE
    assert decision.retain_until == date(2032, 6, 30)
    assert "billing_email" not in decision.keep_fields
    assert "payment_details" not in decision.keep_fields


def test_subscription_cancelled_over_seven_years_ago_is_erased():
    """Past its duty a billing record goes too."""
    decision = _plan(Record("subscriptions", "1", {
        "status": "cancelled", "terminated_at": "2018-01-01T00:00:00+00:00"}))[
        ("subscriptions", "1")]
    assert decision.disposition is Disposition.ERASE


@pytest.mark.parametrize("resolved_at", [None, "2026-11-01T00:00:00+00:00", "2020-01-01T00:00:00"])
def test_contact_messages_are_erased_resolved_or_not(resolved_at):
    """No law keeps a contact message: resolved, recent or unresolved, it goes on request."""
    record = Record("contact_messages", "5", {"resolved_at": resolved_at})
    assert _plan(record)[("contact_messages", "5")].disposition is Disposition.ERASE


@pytest.mark.parametrize("category", ["support_notes", "marketing_consents", "account"])
def test_data_under_no_duty_is_erased(category):
    """Notes, consents and an account without running contracts are erased."""
    assert _plan(Record(category, "k", {}))[(category, "k")].disposition is Disposition.ERASE


def test_a_category_without_a_rule_is_left_for_the_officer():
    """Data from a plug-in connector with no rule is blocked, not silently erased or kept."""
    decision = _plan(Record("crm_contacts", "7", {}))[("crm_contacts", "7")]
    assert decision.disposition is Disposition.BLOCKED
    assert "privacy officer" in decision.reason


def test_a_period_is_configuration():
    """Changing retain_years in the rules changes the plan, with no code change."""
    rules = parse_rules({
        "orders": {"on_erasure": "minimise", "anchor": "completed_at", "retain_years": 10,
                   "keep": ["order_number"], "legal_basis": "a longer duty"},
    })
    [decision] = plan_erasure([_order("O1", "2017-01-01T00:00:00+00:00")], rules, TODAY)
    assert decision.retain_until == date(2027, 1, 1)


@pytest.mark.parametrize("raw", [
    {"orders": {"on_erasure": "shred"}},
    {"orders": {"on_erasure": "minimise", "anchor": "completed_at"}},
    {"orders": {"on_erasure": "erase", "retain_yeras": 7}},
])
def test_a_broken_rules_file_is_refused(raw):
    """Typos and incomplete duties are errors when the rules are read, not at erasure time."""
    with pytest.raises(RetentionRulesError):
        parse_rules(raw)
