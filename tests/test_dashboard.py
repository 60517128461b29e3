"""The dashboard's figures and page, and the officers' digest of due and overdue requests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.web.figures import bar_heights, median_days, weekly_counts
from dsar.web.officers import create_officer
from dsar.work import reminders
from tests.helpers import csrf_token, text_of


def test_median_days_to_answer():
    """The median of the spans from receipt to answer, in days."""
    start = datetime(2026, 1, 1)
    spans = [(start, start + timedelta(days=d)) for d in (2, 10, 30)]
    assert median_days(spans) == 10.0
    assert median_days([]) is None


def test_weekly_counts_start_on_monday_and_include_empty_weeks():
    """Each of the last weeks gets its count, empty weeks included, oldest first."""
    today = date(2026, 11, 25)  # a Wednesday
    received = [datetime(2026, 11, 23, 9), datetime(2026, 11, 24, 9), datetime(2026, 11, 9, 9)]
    weeks = weekly_counts(received, 3, today)
    assert weeks == [(date(2026, 11, 9), 1), (date(2026, 11, 16), 0), (date(2026, 11, 23), 2)]
    assert bar_heights(weeks, 100) == [50, 0, 100]


def _request(email, due_in_days, status="in_progress"):
    """A stored request due in that many days."""
    now = utcnow()
    row = DsarRequest(type="access", email=email, status=status, received_at=now,
                      due_at=now + timedelta(days=due_in_days))
    db.session.add(row)
    return row


def test_dashboard_shows_what_is_overdue_and_due(app, client):
    """The tiles count overdue and due-this-week requests; the chart has a bar per week."""
    with app.app_context():
        create_officer("olga@cplus.example", "correct horse battery")
        _request("late@example.org", -2)
        _request("soon@example.org", 3)
        _request("later@example.org", 20)
        _request("done@example.org", -5, status="completed")
        db.session.commit()
    token = csrf_token(client.get("/console/sign-in").text)
    client.post("/console/sign-in", data={"csrf_token": token, "email": "olga@cplus.example",
                                          "password": "correct horse battery"})
    page = client.get("/console/dashboard").text
    assert '<span class="n">1</span> overdue' in page
    assert '<span class="n">1</span> due within 7 days' in page
    assert '<span class="n">3</span> open' in page
    assert page.count("<rect ") == 12


def test_digest_tells_every_officer_what_is_due(app, inbox):
    """The daily digest lists overdue and soon-due requests, with links, to each officer."""
    with app.app_context():
        create_officer("olga@cplus.example", "correct horse battery")
        create_officer("adam@cplus.example", "correct horse battery", role="admin")
        late = _request("late@example.org", -2)
        _request("soon@example.org", 3)
        _request("later@example.org", 20)
        db.session.commit()
        assert reminders.send_digest() == 2
        assert reminders.send_digest() == 0, "one digest a day"
        late_id = late.id
    [mail] = inbox.to("olga@cplus.example")
    assert mail["Subject"] == "Privacy requests: 1 overdue, 1 due within 7 days"
    body = text_of(mail)
    assert "late@example.org" in body and "soon@example.org" in body
    assert "later@example.org" not in body
    assert f"http://dsar.test/console/requests/{late_id}" in body
    assert len(inbox.to("adam@cplus.example")) == 1
