"""The requester's status page: reached from the confirmation page and the mails, it shows
where the request stands and what comes next, and reveals nothing without its link."""

from __future__ import annotations

import html
import re

from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus
from dsar.policy.progress import Facts, StepKind, StepState, steps
from dsar.tokens import Purpose, sign
from tests.helpers import csrf_token, link_in, text_of

STATUS_LINK = re.compile(r'href="(/status/[^"]+)"')


def _visible(page: str) -> str:
    """A page's text as a person reads it."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _confirm_in_the_browser_way(client, inbox, run_jobs, email=DEMO_EMAIL, kind="access"):
    """Submits through the API and confirms through the pages; returns the done page."""
    assert client.post("/api/v1/requests",
                       json={"email": email, "type": kind}).status_code == 202
    run_jobs()
    [mail] = inbox.to(email)
    link = link_in(mail)
    page = client.get(link)
    return client.post(link, data={"csrf_token": csrf_token(page.text)})


def test_the_status_page_follows_the_request_from_confirmation_to_answer(
    app, client, inbox, run_jobs, seeded_shop
):
    """Right after confirming: gathering, 0 of 5 systems, refreshing itself. Once answered:
    every step done, no refresh; the answer mail leads to the same page."""
    done = _confirm_in_the_browser_way(client, inbox, run_jobs)
    assert "Follow your request" in done.text
    [status_link] = STATUS_LINK.findall(done.text)

    page = client.get(status_link)
    assert page.status_code == 200
    text = _visible(page.text)
    assert "Done: Received" in text and "Done: Confirmed by you" in text
    assert "Now: Gathering from our 5 systems (0 of 5 done)" in text
    assert "To come: Answer sent to you" in text
    assert '<meta http-equiv="refresh" content="15">' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"

    run_jobs()
    text = _visible(client.get(status_link).text)
    assert "Done: Gathering from our 5 systems" in text
    assert "Done: Answer sent to you" in text
    assert "Your answer was sent to you by e-mail" in text
    assert 'http-equiv="refresh"' not in client.get(status_link).text
    [answer] = [m for m in inbox.to(DEMO_EMAIL) if m["Subject"].startswith("The answer")]
    # Signed anew for the mail, so its token differs; it leads to the same request's page.
    [mailed] = re.findall(r"Where your request stands: http://dsar\.test(/status/\S+)",
                          text_of(answer))
    number = re.search(r"<code>([0-9a-f]{32})</code>", done.text).group(1)
    assert number in client.get(mailed).text


def test_an_erasure_counts_the_systems_it_reaches_not_their_tasks(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Each of the five systems gets an export, then an erasure: the page says five."""
    done = _confirm_in_the_browser_way(client, inbox, run_jobs, kind="erasure")
    [status_link] = STATUS_LINK.findall(done.text)
    run_jobs()
    number = re.search(r"<code>([0-9a-f]{32})</code>", done.text).group(1)
    approved = client.post(f"/api/v1/requests/{number}/approve",
                           headers={"Authorization": f"Bearer {officer_token}"})
    assert approved.status_code == 202, approved.json
    run_jobs()
    with app.app_context():
        assert len(db.session.get(DsarRequest, number).tasks) == 10, "an export and an erasure each"
    text = _visible(client.get(status_link).text)
    assert "Done: Working in our 5 systems" in text, text
    assert "10 systems" not in text


def test_without_its_link_the_page_reveals_nothing(app, client, inbox, run_jobs):
    """A forged token, another purpose's token, or one for no request: the same 404."""
    done = _confirm_in_the_browser_way(client, inbox, run_jobs, "wim@example.org")
    [status_link] = STATUS_LINK.findall(done.text)
    request_id = re.search(r"<code>([0-9a-f]{32})</code>", done.text).group(1)
    with app.app_context():
        others = [sign(Purpose.REPORT, {"r": request_id}), sign(Purpose.STATUS, {"r": "0" * 32})]
    pages = [client.get(f"/status/{token}") for token in [*others, status_link[-10:]]]
    assert {page.status_code for page in pages} == {404}
    assert len({_visible(page.text) for page in pages}) == 1
    assert request_id not in pages[0].text


def test_a_request_waiting_for_the_officer_says_so():
    """An erasure whose plan waits for approval: gathering done, the officer's check now."""
    found = steps(Facts(status=RequestStatus.AWAITING_APPROVAL, systems=5, systems_done=5,
                        needs_officer=True))
    assert [(step.kind, step.state) for step in found] == [
        (StepKind.RECEIVED, StepState.DONE), (StepKind.CONFIRMED, StepState.DONE),
        (StepKind.GATHERING, StepState.DONE), (StepKind.CHECKED, StepState.CURRENT),
        (StepKind.ANSWERED, StepState.TO_COME)]


def test_the_same_request_twice_joins_the_open_one_and_runs_nothing_twice(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Intake answers both alike; confirming the second joins the first (still waiting for
    the officer), says so, leads to the first's status page, and starts no tasks."""
    app.config["REVIEW_ACCESS_REPORTS"] = True  # the first stays open, held for review
    first_done = _confirm_in_the_browser_way(client, inbox, run_jobs)
    run_jobs()
    [first_link] = STATUS_LINK.findall(first_done.text)
    second = client.post("/api/v1/requests", json={"email": DEMO_EMAIL, "type": "access"})
    assert second.status_code == 202 and second.json["status"] == "awaiting_verification"
    run_jobs()
    verify = [m for m in inbox.to(DEMO_EMAIL) if "/verify/" in text_of(m)][-1]
    link = link_in(verify)
    page = client.get(link)
    done = client.post(link, data={"csrf_token": csrf_token(page.text)})
    assert "You already have the same request open with us" in _visible(done.text)
    [joined_link] = STATUS_LINK.findall(done.text)
    first_number = re.search(r"<code>([0-9a-f]{32})</code>", first_done.text).group(1)
    assert first_number in client.get(joined_link).text, "it leads to the open request"
    run_jobs()
    auth = {"Authorization": f"Bearer {officer_token}"}
    joined = client.get(f"/api/v1/requests/{second.json['id']}", headers=auth).json
    assert joined["status"] == "joined" and joined["tasks"] == []
    assert "Now: Checked by our privacy officer" in _visible(client.get(first_link).text)
