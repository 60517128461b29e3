"""Pure policy on plain data: deadlines, the lifecycle, the settings and the secret key."""

from __future__ import annotations

from datetime import datetime

import pytest

from dsar.answer.sealing import new_key
from dsar.app import create_app
from dsar.policy.deadlines import add_months, days_left, due_at
from dsar.policy.lifecycle import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    InvalidTransition,
    RequestStatus,
    check_transition,
)
from dsar.settings import UNSET_SECRET
from dsar.settings import load as load_settings

S = RequestStatus

# --- deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        pytest.param(datetime(2025, 1, 31, 9, 30), datetime(2025, 2, 28, 9, 30), id="31-jan"),
        pytest.param(datetime(2024, 1, 31, 9, 30), datetime(2024, 2, 29, 9, 30), id="leap-year"),
        pytest.param(datetime(2024, 1, 29, 23, 59, 59), datetime(2024, 2, 29, 23, 59, 59),
                     id="29-jan-leap"),
        pytest.param(datetime(2025, 3, 31, 12, 0), datetime(2025, 4, 30, 12, 0), id="31-mar"),
        pytest.param(datetime(2025, 12, 15, 8, 0), datetime(2026, 1, 15, 8, 0), id="december"),
        pytest.param(datetime(2025, 12, 31, 8, 0), datetime(2026, 1, 31, 8, 0), id="31-dec"),
        pytest.param(datetime(2025, 4, 30, 0, 0, 1, 500), datetime(2025, 5, 30, 0, 0, 1, 500),
                     id="30-apr"),
        pytest.param(datetime(2025, 2, 28, 17, 0), datetime(2025, 3, 28, 17, 0), id="28-feb"),
    ],
)
def test_due_at_is_one_calendar_month_later_clamped_to_month_end(received, expected):
    """The deadline keeps day and time one month on, never spilling into the month after."""
    assert due_at(received) == expected


def test_add_months_crosses_years_both_ways():
    """Adding 12, 14 or a negative number of months lands in the right year."""
    assert add_months(datetime(2025, 11, 30), 14) == datetime(2027, 1, 30)
    assert add_months(datetime(2024, 2, 29), 12) == datetime(2025, 2, 28)
    assert add_months(datetime(2025, 1, 31), -2) == datetime(2024, 11, 30)
    assert add_months(datetime(2025, 1, 31), 3) == datetime(2025, 4, 30), "the extension"


def test_days_left_counts_calendar_days():
    """Days left counts whole calendar days to the deadline, whatever the hour."""
    due = datetime(2025, 3, 10, 9, 0)
    assert days_left(due, datetime(2025, 3, 1, 23, 0)) == 9
    assert days_left(due, datetime(2025, 3, 10, 23, 0)) == 0


def test_days_left_is_negative_when_overdue():
    """Once the deadline has passed, days left is negative by the days overdue."""
    due = datetime(2025, 2, 28, 9, 0)
    assert days_left(due, datetime(2025, 3, 3, 8, 0)) == -3
    assert days_left(due, datetime(2026, 2, 28, 9, 0)) == -365


# --- lifecycle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.AWAITING_VERIFICATION, S.VERIFIED),
        (S.AWAITING_VERIFICATION, S.EXPIRED),
        (S.VERIFIED, S.IN_PROGRESS),
        (S.VERIFIED, S.AWAITING_APPROVAL),
        (S.VERIFIED, S.DENIED),
        (S.AWAITING_APPROVAL, S.IN_PROGRESS),
        (S.AWAITING_APPROVAL, S.DENIED),
        (S.IN_PROGRESS, S.COMPLETED),
        (S.IN_PROGRESS, S.FAILED),
        (S.FAILED, S.IN_PROGRESS),
    ],
)
def test_allowed_transitions(current, target):
    """The designed path and its side exits are allowed."""
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.AWAITING_VERIFICATION, S.IN_PROGRESS),
        (S.AWAITING_VERIFICATION, S.COMPLETED),
        (S.AWAITING_VERIFICATION, S.DENIED),
        (S.VERIFIED, S.COMPLETED),
        (S.VERIFIED, S.AWAITING_VERIFICATION),
        (S.AWAITING_APPROVAL, S.COMPLETED),
        (S.IN_PROGRESS, S.VERIFIED),
        (S.IN_PROGRESS, S.EXPIRED),
        (S.COMPLETED, S.IN_PROGRESS),
        (S.COMPLETED, S.FAILED),
        (S.DENIED, S.IN_PROGRESS),
        (S.EXPIRED, S.VERIFIED),
        (S.FAILED, S.COMPLETED),
        (S.COMPLETED, S.COMPLETED),
    ],
)
def test_refused_transitions(current, target):
    """Skipping verification, leaving an end, or going back is refused with both names."""
    with pytest.raises(InvalidTransition) as raised:
        check_transition(current, target)
    assert str(current) in str(raised.value) and str(target) in str(raised.value)


def test_closed_statuses_are_the_ends():
    """Completed, denied, expired and joined are ends; a failed request still needs the
    officer."""
    assert {S.COMPLETED, S.DENIED, S.EXPIRED, S.JOINED} == CLOSED_STATUSES
    assert {S.AWAITING_VERIFICATION, S.VERIFIED, S.AWAITING_APPROVAL,
                             S.IN_PROGRESS, S.FAILED} == OPEN_STATUSES


def test_no_status_leads_out_of_an_end_but_failed():
    """Completed, denied and expired allow no move at all; failed only a retry."""
    for end in (S.COMPLETED, S.DENIED, S.EXPIRED):
        for target in S:
            with pytest.raises(InvalidTransition):
                check_transition(end, target)
    allowed = set()
    for target in S:
        try:
            check_transition(S.FAILED, target)
        except InvalidTransition:
            continue
        allowed.add(target)
    assert allowed == {S.IN_PROGRESS}


# --- settings ----------------------------------------------------------------------------


def test_load_defaults_to_development():
    """With no DSAR_ variables the development settings apply."""
    settings = load_settings({})
    assert settings["ENV"] == "development"
    assert settings["VERIFY_MAX_AGE"] == 86400
    assert settings["MAIL_USE_TLS"] is False


def test_load_picks_the_environment():
    """DSAR_ENV chooses the environment's own defaults."""
    assert load_settings({"DSAR_ENV": "production"})["MAIL_USE_TLS"] is True
    assert load_settings({"DSAR_ENV": "testing"})["TASK_RETRY_DELAY"] == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("Yes", True), (" on ", True),
     ("false", False), ("0", False), ("no", False), ("OFF", False), ("", False)],
)
def test_load_coerces_bools(raw, expected):
    """A DSAR_ override of a true/false setting becomes a bool."""
    settings = load_settings({"DSAR_MAIL_USE_TLS": raw})
    assert settings["MAIL_USE_TLS"] is expected


def test_load_coerces_ints_and_keeps_strings():
    """Whole-number settings become ints; text settings stay text."""
    settings = load_settings({
        "DSAR_MAIL_PORT": "2525",
        "DSAR_VERIFY_MAX_AGE": "3600",
        "DSAR_BASE_URL": "https://privacy.cplus.example",
        "DSAR_MAIL_SERVER": "smtp.cplus.example",
    })
    assert settings["MAIL_PORT"] == 2525
    assert settings["VERIFY_MAX_AGE"] == 3600
    assert settings["BASE_URL"] == "https://privacy.cplus.example"
    assert settings["MAIL_SERVER"] == "smtp.cplus.example"


def test_load_ignores_variables_without_the_prefix_and_passes_a_connector_s_own():
    """Only DSAR_ variables count; one dsar does not know is a connector's own setting (its
    database URL, say) and reaches it as text."""
    settings = load_settings({"MAIL_PORT": "2525", "LOYALTY_DATABASE_URL": "sqlite://",
                            "DSAR_LOYALTY_DATABASE_URL": "postgresql://reader@loyalty/db"})
    assert settings["MAIL_PORT"] == 25
    assert settings["LOYALTY_DATABASE_URL"] == "postgresql://reader@loyalty/db"


@pytest.mark.parametrize("raw", ["twenty", "25.5", ""])
def test_load_refuses_a_bad_int_clearly(raw):
    """A bad whole number names the variable and the value."""
    with pytest.raises(ValueError, match="DSAR_MAIL_PORT must be a whole number"):
        load_settings({"DSAR_MAIL_PORT": raw})


def test_load_refuses_a_bad_bool_clearly():
    """A value that is neither true nor false names the variable."""
    with pytest.raises(ValueError, match="DSAR_MAIL_USE_TLS must be true or false, not 'maybe'"):
        load_settings({"DSAR_MAIL_USE_TLS": "maybe"})


def test_load_refuses_an_unknown_environment():
    """An unknown DSAR_ENV is refused, naming the ones that exist."""
    with pytest.raises(ValueError, match="DSAR_ENV must be one of") as raised:
        load_settings({"DSAR_ENV": "staging"})
    assert "production" in str(raised.value) and "'staging'" in str(raised.value)


# --- the secret key in production --------------------------------------------------------


@pytest.fixture
def production(monkeypatch, tmp_path):
    """Settings as production would read them, on a throw-away database."""
    monkeypatch.setenv("DSAR_ENV", "production")
    monkeypatch.delenv("DSAR_SECRET_KEY", raising=False)
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'dsar.db'}"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({}, "set DSAR_SECRET_KEY", id="default"),
        pytest.param({"SECRET_KEY": ""}, "set DSAR_SECRET_KEY", id="empty"),
        pytest.param({"SECRET_KEY": UNSET_SECRET}, "set DSAR_SECRET_KEY", id="change-me"),
        pytest.param({"SECRET_KEY": "s" * 31}, "at least 32 characters", id="short"),
    ],
)
def test_production_refuses_a_missing_default_or_short_secret(production, overrides, message):
    """Production will not start without a long secret of its own."""
    with pytest.raises(RuntimeError, match=message):
        create_app({**production, **overrides})


def test_production_refuses_a_short_secret_from_the_environment(production, monkeypatch):
    """A short DSAR_SECRET_KEY in the environment is refused too."""
    monkeypatch.setenv("DSAR_SECRET_KEY", "too-short")
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        create_app(production)


def test_production_starts_with_a_long_secret(production):
    """A secret of 32 characters or more is accepted and used."""
    secret = "p" * 32
    app = create_app({**production, "SECRET_KEY": secret, "SUPPRESSION_KEY": "s" * 32,
                      "STORAGE_KEY": new_key()})
    assert app.config["ENV"] == "production"
    assert app.config["SECRET_KEY"] == secret
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_storage_key_or_with_a_bad_one(production):
    """Answers are sealed with a key of their own in production, never one derived."""
    settings = {**production, "SECRET_KEY": "p" * 32, "SUPPRESSION_KEY": "s" * 32}
    with pytest.raises(RuntimeError, match="set DSAR_STORAGE_KEY"):
        create_app(settings)
    with pytest.raises(ValueError, match="key 2 is not 32 bytes") as refused:
        create_app({**settings, "STORAGE_KEY": f"{new_key()},c2hvcnQ="})
    assert "c2hvcnQ" not in str(refused.value), "the message never quotes a key"


def test_production_refuses_to_start_without_a_suppression_key(production):
    """Without its own key, rotating SECRET_KEY would silently empty the suppression list."""
    with pytest.raises(RuntimeError, match="DSAR_SUPPRESSION_KEY"):
        create_app({**production, "SECRET_KEY": "p" * 32})

