"""A requester who has not confirmed is reminded once before the link lapses; nobody else."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from dsar.work import jobs
from tests.helpers import csrf_token, link_in, text_of

REMINDER = "Reminder: please confirm your privacy request"


def _subjects(inbox, email):
    """The subjects of the mails one address received, oldest first."""
    return [str(m["Subject"]) for m in inbox.to(email)]


def _sweep(app):
    """One run of the periodic sweep."""
    with app.app_context():
        jobs.sweep()


def test_an_unconfirmed_request_is_reminded_once_and_the_reminder_confirms_it(
    app, client, inbox, run_jobs
):
    """One reminder, with a link that works and the moment the request lapses; never two."""
    app.config["VERIFY_REMINDER_AFTER"] = 60
    client.post("/api/v1/requests", json={"email": "rosa@example.org", "type": "access"})
    run_jobs()
    _sweep(app)
    run_jobs()
    assert _subjects(inbox, "rosa@example.org") == ["Please confirm your privacy request"]

    with time_machine.travel(timedelta(seconds=61)):  # the reminder's minute has passed
        _sweep(app)
        run_jobs()
        _sweep(app)
        run_jobs()
        assert _subjects(inbox, "rosa@example.org") == [
            "Please confirm your privacy request", REMINDER]
        reminder = inbox.to("rosa@example.org")[1]
        assert "the request lapses on" in text_of(reminder)
        link = link_in(reminder)
        page = client.get(link)
        assert client.post(link, data={"csrf_token": csrf_token(page.text)}).status_code == 200


def test_no_reminder_once_confirmed_or_when_the_first_mail_was_withheld(
    app, client, inbox, run_jobs
):
    """A confirmed request gets none; a submission whose mail the daily cap withheld gets
    none either, so reminders cannot flood an inbox."""
    app.config["VERIFY_REMINDER_AFTER"] = 60
    app.config["VERIFY_MAILS_PER_ADDRESS"] = 1
    for _ in range(3):
        client.post("/api/v1/requests", json={"email": "sem@example.org", "type": "access"})
    run_jobs()
    [verify] = inbox.to("sem@example.org")
    link = link_in(verify)
    page = client.get(link)
    client.post(link, data={"csrf_token": csrf_token(page.text)})
    run_jobs()
    with time_machine.travel(timedelta(seconds=61)):  # a reminder would be due by now
        _sweep(app)
        run_jobs()
    assert REMINDER not in _subjects(inbox, "sem@example.org")
