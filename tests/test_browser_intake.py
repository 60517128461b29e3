"""A person asks for their data in a real browser: the form, the mailed link, the answer page."""

from __future__ import annotations

import json
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.work import queues
from dsar.work.worker import Worker
from tests.browser import (  # noqa: F401  (fixtures: browser, live_server)
    as_new,
    browser_fixture,
    link_to,
    live_server_fixture,
    screenshot,
    wait_for_heading,
    wait_until,
)
from tests.helpers import text_of


def test_a_person_asks_for_her_data_and_opens_the_answer(
    live_server, browser, inbox, run_jobs, seeded_shop
):
    """Form, confirmation mail, confirm button, answer mail, answer page: all in Chromium."""
    browser.get(live_server + "/")
    assert "Ask about your data" in browser.title
    browser.find_element(By.ID, "email").send_keys(DEMO_EMAIL)
    Select(browser.find_element(By.ID, "type")).select_by_value("access")
    screenshot(browser, "intake-form")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert wait_for_heading(browser, "Check your e-mail") == "Check your e-mail"
    assert browser.current_url == live_server + "/submitted"

    run_jobs()
    [verify_mail] = inbox.to(DEMO_EMAIL)
    assert verify_mail["Subject"] == "Please confirm your privacy request"
    browser.get(link_to(live_server, verify_mail))
    wait_for_heading(browser, "Confirm your request")
    screenshot(browser, "verify-confirm")
    browser.find_element(By.XPATH, "//button[normalize-space()='Confirm my request']").click()
    assert "your request is confirmed" in wait_for_heading(browser, "your request is confirmed")

    run_jobs()
    [answer_mail] = [m for m in inbox.to(DEMO_EMAIL) if m is not verify_mail]
    browser.get(link_to(live_server, answer_mail))
    wait_for_heading(browser, "The answer to your privacy request")
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR,
                                                                             ".downloads a")}
    screenshot(browser, "answer-page")
    assert links == {
        "Your answer as a document (PDF)": browser.current_url + "/report.pdf",
        "Your data as a file (JSON)": browser.current_url + "/report.json",
        "Your data as spreadsheets (CSV files in a ZIP file)":
            browser.current_url + "/report-csv.zip",
    }

    with urllib.request.urlopen(links["Your answer as a document (PDF)"]) as pdf:  # noqa: S310
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.read().startswith(b"%PDF-")
    browser.get(links["Your data as a file (JSON)"])
    report = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    assert report["format"] == "cplus-dsar-report"
    assert report["subject"]["email"] == DEMO_EMAIL
    assert report["summary"]["holds_data"] is True


def test_an_invalid_address_shows_the_error_and_keeps_what_was_typed(
    live_server, browser, inbox, run_jobs
):
    """The form comes back with the error summary, the field marked, and the name still typed."""
    browser.get(live_server + "/")
    browser.find_element(By.ID, "email").send_keys("anna.example.nl")
    browser.find_element(By.ID, "name").send_keys("Anna Bakker")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    wait_for_heading(browser, "Your personal data")
    summary = browser.find_element(By.CSS_SELECTOR, ".summary[role=alert]")
    assert "Please check the form" in summary.text
    assert "Enter an e-mail address such as name@example.nl." in summary.text
    email = browser.find_element(By.ID, "email")
    assert email.get_attribute("aria-invalid") == "true"
    assert email.get_property("value") == "anna.example.nl"
    assert browser.find_element(By.ID, "name").get_property("value") == "Anna Bakker"
    run_jobs()
    assert inbox.messages == []


def test_the_form_shows_only_what_fits_the_request(live_server, browser):
    """The correction fields only for a correction, the grounds only for a restriction; the
    rest of the form is the same for every request."""
    browser.get(live_server + "/")
    corrections = browser.find_element(By.CSS_SELECTOR, "fieldset.only-for.rectification")
    ground = browser.find_element(By.ID, "ground")
    kind = Select(browser.find_element(By.ID, "type"))
    kind.select_by_value("access")
    assert not corrections.is_displayed() and not ground.is_displayed()
    kind.select_by_value("rectification")
    assert corrections.is_displayed() and not ground.is_displayed()
    kind.select_by_value("restriction")
    assert ground.is_displayed() and not corrections.is_displayed()
    assert browser.find_element(By.ID, "email").is_displayed()


#: What only an access answer may say: the words of a person's data handed over.
ACCESS_WORDS = ("everything", "gathering", "Gathering", "another service", "Your data as a file")


def test_an_erasure_reads_as_an_erasure_from_confirmation_to_letter(
    live_server, browser, inbox, run_jobs, seeded_shop, officer_token, client
):
    """The confirm page, the status page and the answer page of an erasure speak of the
    work and the letter about it, never of handing over data; the status page counts five
    systems, not their ten tasks."""
    assert client.post("/api/v1/requests", json={"email": DEMO_EMAIL, "type": "erasure"}
                       ).status_code == 202
    run_jobs()
    [verify_mail] = inbox.to(DEMO_EMAIL)
    browser.get(link_to(live_server, verify_mail))
    wait_for_heading(browser, "Confirm your request")
    confirm = browser.find_element(By.TAG_NAME, "main").text
    assert "our letter about what we did" in confirm
    browser.find_element(By.XPATH, "//button[normalize-space()='Confirm my request']").click()
    wait_for_heading(browser, "your request is confirmed")
    done = browser.find_element(By.TAG_NAME, "main").text
    assert "We are working on your request in our systems now" in done
    status_link = browser.find_element(By.LINK_TEXT, "Follow your request").get_attribute("href")
    number = browser.find_element(By.TAG_NAME, "code").text

    run_jobs()
    approved = client.post(f"/api/v1/requests/{number}/approve",
                           headers={"Authorization": f"Bearer {officer_token}"})
    assert approved.status_code == 202
    run_jobs()
    browser.get(status_link)
    status = browser.find_element(By.TAG_NAME, "main").text
    assert "Working in our 5 systems" in status, status
    [letter_mail] = [m for m in inbox.to(DEMO_EMAIL) if m is not verify_mail]
    assert "our letter about what we did" in " ".join(text_of(letter_mail).split())
    browser.get(link_to(live_server, letter_mail))
    wait_for_heading(browser, "The answer to your privacy request")
    answer = browser.find_element(By.TAG_NAME, "main").text
    assert "Here is our letter about your request" in answer
    assert "Our letter as a document (PDF)" in answer
    assert "The same letter as a file (JSON)" in answer
    for page in (confirm, done, status, answer):
        assert not [words for words in ACCESS_WORDS if words in page], page


def test_the_shared_browser_forgets_the_last_tests_cookies(live_server, browser):
    """One Chromium serves a process's browser tests; between them it keeps no cookie, or an
    officer signed in by one test (cookies do not tell the live servers' ports apart) would
    be signed in for the next."""
    browser.get(live_server + "/")
    browser.add_cookie({"name": "left_behind", "value": "an-officer-s"})
    assert browser.get_cookie("left_behind")
    as_new(browser)
    browser.get(live_server + "/")
    assert browser.get_cookie("left_behind") is None, browser.get_cookies()


def test_the_form_offers_both_objections_and_asks_the_situation_only_for_one(
    live_server, browser
):
    """An objection offers the objection to offers and the one on the person's situation;
    the field for that situation shows only for an objection, once that one is chosen."""
    browser.get(live_server + "/")
    objections = browser.find_element(By.CSS_SELECTOR, "fieldset.only-for.objection")
    situation = browser.find_element(By.ID, "situation")
    kind = Select(browser.find_element(By.ID, "type"))
    kind.select_by_value("access")
    assert not objections.is_displayed() and not situation.is_displayed()
    kind.select_by_value("objection")
    assert objections.is_displayed()
    offers = browser.find_element(By.CSS_SELECTOR, "input[value=direct_marketing]")
    particular = browser.find_element(By.CSS_SELECTOR, "input[value=legitimate_interests]")
    assert offers.is_selected(), "an objection to offers unless the person says otherwise"
    assert "Stop sending me offers" in objections.text
    assert "because of my particular situation (Art. 21(1))" in objections.text
    assert not situation.is_displayed()
    particular.click()
    assert situation.is_displayed()
    kind.select_by_value("erasure")
    assert not situation.is_displayed() and not objections.is_displayed()
    kind.select_by_value("restriction")
    assert not situation.is_displayed()


def test_the_answer_page_shows_the_pdf_being_prepared_then_the_pdf_without_script(
    app, live_server, browser, inbox, redis, run_jobs, seeded_shop
):
    """With scripts switched off: the page first says the PDF is being prepared; once it is
    made, the page (looking again by itself) links it."""
    response = app.test_client().post("/api/v1/requests",
                                      json={"email": DEMO_EMAIL, "type": "access"})
    assert response.status_code == 202
    everything_but_the_pdf = [name for name in queues.ALL_QUEUES if name != queues.DOCUMENTS]

    def work(names):
        Worker(names, connection=redis).work(burst=True)

    work(everything_but_the_pdf)
    [verify_mail] = inbox.to(DEMO_EMAIL)
    token = link_to(live_server, verify_mail).rsplit("/", 1)[1]
    assert app.test_client().post("/api/v1/requests/verify",
                                  json={"token": token}).status_code == 200
    work(everything_but_the_pdf)
    [answer_mail] = [m for m in inbox.to(DEMO_EMAIL) if m is not verify_mail]
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(link_to(live_server, answer_mail))
        wait_for_heading(browser, "The answer to your privacy request")
        pending = browser.find_element(By.CSS_SELECTOR, ".downloads .pending").text
        assert "is being prepared" in pending
        assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".downloads a")] == [
            "Your data as a file (JSON)", "Your data as spreadsheets (CSV files in a ZIP file)"]
        screenshot(browser, "answer-page-preparing")

        run_jobs()  # the PDF is made; nobody touches the browser
        wait_until(browser, lambda driver: driver.find_elements(
            By.LINK_TEXT, "Your answer as a document (PDF)"))
        assert not browser.find_elements(By.CSS_SELECTOR, ".downloads .pending")
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
