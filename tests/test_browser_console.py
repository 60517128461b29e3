"""The privacy officer's console in a real browser: sign-in, queue, approve, deny, extend, redact.

Each test drives headless Chromium against the live app and checks the outcome three ways:
the request in the database, the mails the SMTP server received, and the audit trail (the
officer as the actor, and the hash chain intact at the end).
"""

from __future__ import annotations

import json
from datetime import timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from dsar import audit
from dsar.answer import findings, storage
from dsar.clock import utcnow
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent
from dsar.policy.deadlines import add_months
from dsar.web.officers import create_officer
from tests.browser import (  # noqa: F401  (fixtures: browser, live_server)
    browser_fixture,
    live_server_fixture,
    screenshot,
    wait_for_heading,
    wait_until,
)
from tests.helpers import confirm_request, text_of

OFFICER_EMAIL = "olga@cplus.example"
PASSWORD = "correct horse battery"


# --- helpers -----------------------------------------------------------------------------


def _sign_in(app, live_server, browser):
    """Creates the officer, signs in through the form, and lands on the queue."""
    with app.app_context():
        create_officer(OFFICER_EMAIL, PASSWORD)
        db.session.commit()
    browser.get(live_server + "/console/")
    wait_for_heading(browser, "Sign in")
    assert "Please sign in to see the console." in browser.find_element(By.ID, "main").text
    browser.find_element(By.ID, "email").send_keys(OFFICER_EMAIL)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.XPATH, "//main//button[normalize-space()='Sign in']").click()
    wait_for_heading(browser, "Requests")
    assert browser.current_url == live_server + "/console/"
    assert f"{OFFICER_EMAIL} (officer)" in browser.find_element(By.CSS_SELECTOR, ".who").text


def _confirm(app, client, inbox, run_jobs, payload):
    """confirm_request, while mailed links name http://dsar.test, the host it reads them for.

    The live server points BASE_URL at itself; confirm_request finds the verification link by
    that test host, so it is put back for as long as the request is made and confirmed.
    """
    live = app.config["BASE_URL"]
    app.config["BASE_URL"] = "http://dsar.test"
    try:
        return confirm_request(client, inbox, run_jobs, payload)
    finally:
        app.config["BASE_URL"] = live


def _open_request(browser, live_server, request_id):
    """Opens a request's page in the console."""
    browser.get(f"{live_server}/console/requests/{request_id}")
    wait_for_heading(browser, request_id[:8])


def _press(browser, label, within=None):
    """Clicks the button with that label (in `within`, else the page's first) and waits for
    the page the form leads back to.

    Returns:
        The flash message the new page shows.
    """
    button = (within or browser).find_element(By.XPATH, f".//button[normalize-space()='{label}']")
    button.click()
    wait_until(browser, expected_conditions.staleness_of(button))
    return wait_until(browser, _flash_text)


def _flash_text(browser):
    """The flash message once the new page shows one; False while the page is still loading."""
    if browser.execute_script("return document.readyState") != "complete":
        return False
    found = browser.find_elements(By.CSS_SELECTOR, "p.flash")
    return found[0].text if found and found[0].is_displayed() else False


def _request(app, request_id):
    """The request as stored now, detached: a fresh read in its own app context."""
    with app.app_context():
        found = db.session.get(DsarRequest, request_id)
        db.session.expunge(found)
        return found


def _events(app, request_id):
    """The request's audit trail as (kind, actor, to_status, note) tuples, in order."""
    with app.app_context():
        rows = db.session.scalars(select(RequestEvent).where(
            RequestEvent.request_id == request_id).order_by(RequestEvent.id)).all()
        return [(e.kind, e.actor, e.to_status, e.note) for e in rows]


def _audit_intact(app):
    """The whole hash-chained trail verifies, and the officer's sign-in is in it."""
    with app.app_context():
        assert audit.verify() == []
        sign_ins = db.session.scalars(select(RequestEvent.actor).where(
            RequestEvent.request_id.is_(None), RequestEvent.kind == "sign_in")).all()
    assert sign_ins == [OFFICER_EMAIL]


def _mails(inbox, address, subject_part):
    """The mails to an address whose subject contains `subject_part`."""
    return [m for m in inbox.to(address) if subject_part in str(m["Subject"])]


# --- the tests ---------------------------------------------------------------------------


def test_officer_signs_in_finds_a_request_and_opens_it(app, client, live_server, browser, inbox,
                                                       run_jobs):
    """The queue lists requests of several types, overdue first; the search finds one by address."""
    late = _confirm(app, client, inbox, run_jobs, {"email": "late@example.org", "type": "access"})
    wanted = _confirm(app, client, inbox, run_jobs,
                      {"email": "mila.jansen@example.org", "type": "erasure"})
    for payload in ({"email": "new@example.org", "type": "objection"},
                    {"email": "piet@example.org", "type": "portability"},
                    {"email": "ruud@example.org", "type": "restriction",
                     "ground": "accuracy_contested"}):
        assert client.post("/api/v1/requests", json=payload).status_code == 202
    run_jobs()  # their confirmation mails go out
    with app.app_context():
        overdue = db.session.get(DsarRequest, late)
        overdue.due_at = utcnow() - timedelta(days=3)
        overdue.status = "in_progress"
        db.session.commit()

    _sign_in(app, live_server, browser)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    assert len(rows) == 5
    assert "late@example.org" in rows[0].text and "overdue by 3 days" in rows[0].text
    assert rows[0].get_attribute("class") == "overdue"
    assert "1 open request overdue." in browser.find_element(By.CSS_SELECTOR,
                                                             "p.flash.error").text
    types = {row.find_elements(By.TAG_NAME, "td")[2].text for row in rows}
    assert types == {"access", "erasure", "objection", "portability", "restriction"}
    screenshot(browser, "console-queue")

    search = browser.find_element(By.CSS_SELECTOR, "input[type=search][name=q]")
    search.send_keys("  Mila.Jansen@Example.org ")
    search.submit()
    wait_until(browser, lambda b: "q=" in b.current_url)
    [row] = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    assert "mila.jansen@example.org" in row.text and "erasure" in row.text
    assert browser.find_element(By.CSS_SELECTOR, "input[name=q]").get_property("value") \
        == "  Mila.Jansen@Example.org "
    row.find_element(By.LINK_TEXT, wanted[:8]).click()

    assert wait_for_heading(browser, wanted[:8]) == f"Erasure request {wanted[:8]}"
    facts = browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert "mila.jansen@example.org" in facts
    assert _request(app, wanted).status.replace("_", " ") in facts
    timeline = browser.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert "status → verified · requester" in timeline
    screenshot(browser, "console-request")

    # Looking is not deciding: nothing about the request changed, no mail went out.
    assert [kind for kind, actor, *_ in _events(app, wanted) if actor == OFFICER_EMAIL] == []
    before = len(inbox.messages)
    run_jobs()
    assert len(inbox.messages) == before
    _audit_intact(app)


def test_officer_approves_an_erasure_plan(app, client, live_server, browser, inbox, run_jobs,
                                          seeded_shop):
    """The plan is shown; approving it carries it out and the person gets the outcome letter."""
    request_id = _confirm(app, client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    assert _request(app, request_id).status == "awaiting_approval"

    _sign_in(app, live_server, browser)
    _open_request(browser, live_server, request_id)
    plan = browser.find_element(By.XPATH, "//section[h2='Plan']")
    plan_rows = plan.find_elements(By.CSS_SELECTOR, "tbody tr")
    stored_plan = _request(app, request_id).plan
    assert len(plan_rows) == sum(len(items) for items in stored_plan["connectors"].values())
    decisions = {row.find_elements(By.TAG_NAME, "td")[2].text.split(" ")[0] for row in plan_rows}
    assert {"erase", "minimise"} <= decisions
    browser.execute_script("arguments[0].scrollIntoView()", plan)
    screenshot(browser, "console-plan")

    assert _press(browser, "Approve the plan") == "Done: approve."
    assert not browser.find_elements(By.XPATH, "//button[normalize-space()='Approve the plan']")
    run_jobs()

    done = _request(app, request_id)
    assert done.status == "completed"
    assert done.approved_by == OFFICER_EMAIL
    [letter] = _mails(inbox, DEMO_EMAIL, "The answer to your privacy request is ready")
    assert f"{live_server}/reports/" in text_of(letter)
    events = _events(app, request_id)
    assert ("status", OFFICER_EMAIL, "in_progress", "plan approved") in events
    assert events[-1][0] == "mail_sent" or ("status", "system", "completed", None) in events
    browser.refresh()
    wait_for_heading(browser, request_id[:8])
    assert "completed" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    _audit_intact(app)


def test_officer_denies_a_request_with_reasons(app, client, live_server, browser, inbox,
                                               run_jobs):
    """The reasons typed reach the person with the complaint route, and the trail says who."""
    request_id = _confirm(app, client, inbox, run_jobs,
                          {"email": "dora@example.org", "type": "erasure"})
    reasons = ("Manifestly unfounded: it's the 31st request this month & each asks the same "
               "<erasure>.")

    _sign_in(app, live_server, browser)
    _open_request(browser, live_server, request_id)
    browser.find_element(By.ID, "deny-reason").send_keys(reasons)
    assert _press(browser, "Deny the request") == "Done: deny."
    assert reasons in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert not browser.find_elements(By.ID, "deny-reason")
    run_jobs()

    denied = _request(app, request_id)
    assert denied.status == "denied"
    assert denied.denial_reason == reasons
    [mail] = _mails(inbox, "dora@example.org", "We cannot act on your privacy request")
    body = text_of(mail)
    assert reasons in body and "Autoriteit Persoonsgegevens" in body
    html = str(mail.get_body(preferencelist=("html",)).get_content())
    assert "&lt;erasure&gt;" in html and "<erasure>" not in html
    events = _events(app, request_id)
    assert [e for e in events if e[0] == "status" and e[2] == "denied"] == [
        ("status", OFFICER_EMAIL, "denied", reasons)]
    _audit_intact(app)


def test_officer_extends_the_deadline_by_two_months(app, client, live_server, browser, inbox,
                                                    run_jobs):
    """Two calendar months more, the reason told to the person, and no second extension offered."""
    request_id = _confirm(app, client, inbox, run_jobs,
                          {"email": "eli@example.org", "type": "erasure"})
    before = _request(app, request_id).due_at
    reason = "Many systems to search, among them the shop's old archive & its \"backups\"."

    _sign_in(app, live_server, browser)
    _open_request(browser, live_server, request_id)
    Select(browser.find_element(By.ID, "extend-months")).select_by_visible_text("by 2 months")
    browser.find_element(By.ID, "extend-reason").send_keys(reason)
    assert _press(browser, "Extend") == "Done: extend."
    assert not browser.find_elements(By.ID, "extend-months")
    assert not browser.find_elements(By.XPATH, "//button[normalize-space()='Extend']")
    assert f"extended: {reason}" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    run_jobs()

    extended = _request(app, request_id)
    assert extended.due_at == add_months(before, 2)
    assert (extended.due_at.year * 12 + extended.due_at.month) \
        - (before.year * 12 + before.month) == 2
    assert extended.extension_reason == reason
    [mail] = _mails(inbox, "eli@example.org", "We need more time")
    body = text_of(mail)
    assert reason in body
    assert extended.due_at.strftime("%-d %B %Y") in body
    assert ("extended", OFFICER_EMAIL, None,
            f"{before.date()} -> {extended.due_at.date()}: {reason}") in _events(app, request_id)
    _audit_intact(app)


def test_officer_withholds_a_passage_and_releases_the_access_answer(
    app, client, live_server, browser, inbox, run_jobs, seeded_shop
):
    """A passage withheld in the review is gone from the released answer, replaced by the reason."""
    app.config["REVIEW_ACCESS_REPORTS"] = True
    request_id = _confirm(app, client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    held = _request(app, request_id)
    assert held.status == "awaiting_approval"

    _sign_in(app, live_server, browser)
    _open_request(browser, live_server, request_id)
    review = browser.find_element(By.CSS_SELECTOR, "section.review")
    assert "Review before release" in review.text
    flagged = browser.find_element(By.XPATH, "//div[contains(@class, 'flagged')][.//input"
                                   "[@name='category' and @value='support_notes']]")
    assert "third parties" in flagged.find_element(By.TAG_NAME, "h3").text
    form = flagged.find_element(By.CSS_SELECTOR, "form.redact")
    key = form.find_element(By.NAME, "key").get_attribute("value")
    field = form.find_element(By.NAME, "field").get_attribute("value")
    with app.app_context():
        stored = db.session.get(DsarRequest, request_id)
        found = [r for t in stored.tasks for category in findings.counts(t.result)
                 for r in findings.records(request_id, t.id, category)]
        results = json.dumps(found, ensure_ascii=False)
        text = next(r["data"][field] for t in stored.tasks if t.connector == "support"
                    for r in findings.records(request_id, t.id, "support_notes")
                    if r["key"] == key)
    passage = text.rsplit("; ", 1)[1].rstrip(".")
    assert results.count(passage) == 1, "the passage must be this note's alone"
    assert passage in flagged.text
    browser.execute_script("arguments[0].scrollIntoView()", review)
    screenshot(browser, "console-review")

    form.find_element(By.NAME, "passage").send_keys(passage)
    reason = form.find_element(By.NAME, "reason").get_attribute("value")
    assert reason == "Concerns another person (Art. 15(4))"
    assert _press(browser, "Withhold", within=form) == "Done: redact."
    withheld = browser.find_element(By.XPATH, "//h3[.='Withheld so far']/following-sibling::ul")
    assert withheld.text == f"support_notes {key} {field}: “{passage}” — {reason}"
    # The review now shows the record as it will go out.
    assert passage not in browser.find_element(By.CSS_SELECTOR, "section.review div.flagged").text

    assert _press(browser, "Release the answer") == "Done: approve."
    run_jobs()

    released = _request(app, request_id)
    assert released.status == "completed"
    assert released.released_by == OFFICER_EMAIL
    _open_request(browser, live_server, request_id)
    browser.find_element(By.LINK_TEXT, "JSON").click()
    wait_until(browser, lambda b: b.current_url.endswith("/report.json"))
    downloaded = browser.find_element(By.TAG_NAME, "body").text
    with app.app_context():
        on_disk = storage.read(request_id, "report.json").decode()
    assert json.loads(downloaded) == json.loads(on_disk)
    assert passage not in on_disk
    assert f"[withheld: {reason}]" in on_disk
    note = next(r for s in json.loads(on_disk)["sections"] for c in s["categories"]
                if c["name"] == "support_notes" for r in c["records"] if r["key"] == key)
    assert note["data"][field] == text.replace(passage, f"[withheld: {reason}]")
    assert "withheld_by_officer" in note["flags"]

    [mail] = _mails(inbox, DEMO_EMAIL, "The answer to your privacy request is ready")
    assert f"{live_server}/reports/" in text_of(mail)
    events = _events(app, request_id)
    assert ("redacted", OFFICER_EMAIL, None,
            f"support/support_notes/{key}/{field}: {reason}") in events
    assert ("status", OFFICER_EMAIL, "in_progress", "answer released") in events
    assert ("answer_downloaded", OFFICER_EMAIL, None, "report.json") in events
    _audit_intact(app)


def test_a_passage_that_is_not_in_the_record_is_refused(
    app, client, live_server, browser, inbox, run_jobs, seeded_shop
):
    """A mistyped passage withholds nothing, so the console must say so rather than list it."""
    app.config["REVIEW_ACCESS_REPORTS"] = True
    request_id = _confirm(app, client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})

    _sign_in(app, live_server, browser)
    _open_request(browser, live_server, request_id)
    flagged = browser.find_element(By.XPATH, "//div[contains(@class, 'flagged')][.//input"
                                   "[@name='category' and @value='support_notes']]")
    shown = flagged.find_element(By.TAG_NAME, "p").text
    passage = shown.rsplit("; ", 1)[1].rstrip(".").replace("carrier", "Carrier")
    assert passage not in shown
    form = flagged.find_element(By.CSS_SELECTOR, "form.redact")
    form.find_element(By.NAME, "passage").send_keys(passage)
    flash = _press(browser, "Withhold", within=form)

    assert _request(app, request_id).redactions in (None, [])
    assert not browser.find_elements(By.XPATH, "//h3[.='Withheld so far']")
    assert "error" in browser.find_element(By.CSS_SELECTOR, "p.flash").get_attribute("class"), flash
    assert "not in the text" in flash
    _audit_intact(app)
