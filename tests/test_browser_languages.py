"""A customer's whole way in a real browser, once in Dutch and once in English: the form,
the mailed link, the status page before and after the work, the answer page and its PDF."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from dataclasses import dataclass

import pypdfium2
import pytest
from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from dsar.connectors.shop.seed import DEMO_EMAIL
from tests.browser import (  # noqa: F401  (fixtures: browser, live_server)
    SCREENSHOTS,
    browser_fixture,
    link_to,
    live_server_fixture,
    screenshot,
    wait_for_heading,
    wait_until,
)


@dataclass(frozen=True)
class Words:
    """What a customer reads along the way in one language."""

    code: str
    #: Click the form's language switch: the browser itself asks for English.
    switch: bool
    form_heading: str
    submit: str
    submitted: str
    verify_subject: str
    confirm_heading: str
    confirm_button: str
    confirmed: str
    follow: str
    status_heading: str
    #: The current step right after confirming, before any worker ran.
    gathering: str
    #: The status page once the answer is out: the last step, and what happens next.
    answered: str
    answered_next: str
    answer_subject: str
    answer_heading: str
    pdf_link: str
    expiry: str
    #: In the PDF: words, patterns (dates, money), and words that must not be there.
    pdf_words: tuple[str, ...]
    pdf_patterns: tuple[str, ...]
    pdf_absent: tuple[str, ...]
    #: The title of the first right in report.json: its human texts follow the language.
    json_right: str


DUTCH = Words(
    code="nl",
    switch=True,
    form_heading="Uw persoonsgegevens bij Cplus",
    submit="Verstuur mijn verzoek",
    submitted="Kijk in uw e-mail",
    verify_subject="Bevestig uw privacyverzoek",
    confirm_heading="Bevestig uw verzoek",
    confirm_button="Bevestig mijn verzoek",
    confirmed="Dank u, uw verzoek is bevestigd",
    follow="Volg uw verzoek",
    status_heading="Uw privacyverzoek",
    gathering=r"Nu: Verzamelen uit onze \d+ systemen \(0 van \d+ klaar\)",
    answered="Klaar: Antwoord naar u verstuurd",
    answered_next="Uw antwoord is u per e-mail gestuurd; de link laat zien tot wanneer hij werkt.",
    answer_subject="Het antwoord op uw privacyverzoek is klaar",
    answer_heading="Het antwoord op uw privacyverzoek",
    pdf_link="Uw antwoord als document (PDF)",
    expiry="Deze link werkt tot",
    pdf_words=("Uw persoonsgegevens bij Cplus", "Wie we zijn", "Uw bestellingen",
               "Waarom we het bewaren", "Rechtsgrond", "Bewaard tot", "Uw rechten",
               "art. 15 AVG"),
    pdf_patterns=(r"\d{1,2} (jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec)\.? \d{4}",
                  r"€\s\d+,\d\d"),
    # Not one English heading, label or legal reference left in the Dutch answer.
    pdf_absent=("Your personal data at", "Who we are", "Your orders", "Why we keep it",
                "Legal basis", "Kept until", "Your rights", "GDPR", " items"),
    json_right="Inzage",
)

ENGLISH = Words(
    code="en",
    switch=False,
    form_heading="Your personal data at Cplus",
    submit="Send my request",
    submitted="Check your e-mail",
    verify_subject="Please confirm your privacy request",
    confirm_heading="Confirm your request",
    confirm_button="Confirm my request",
    confirmed="Thank you, your request is confirmed",
    follow="Follow your request",
    status_heading="Your privacy request",
    gathering=r"Now: Gathering from our \d+ systems \(0 of \d+ done\)",
    answered="Done: Answer sent to you",
    answered_next="Your answer was sent to you by e-mail; its link shows until when it works.",
    answer_subject="The answer to your privacy request is ready",
    answer_heading="The answer to your privacy request",
    pdf_link="Your answer as a document (PDF)",
    expiry="This link works until",
    pdf_words=("Your personal data at Cplus", "Who we are", "Your orders", "Why we keep it",
               "Legal basis", "Kept until", "Your rights", "Art. 15 GDPR"),
    pdf_patterns=(r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}",
                  r"€\d+\.\d\d"),
    pdf_absent=("Uw ", "AVG"),
    json_right="Access",
)


def _page_text(browser) -> str:
    """The page's text as the browser shows it."""
    return str(browser.find_element(By.TAG_NAME, "body").text)


def _language(browser) -> str:
    """The page's `<html lang>`."""
    return str(browser.find_element(By.TAG_NAME, "html").get_attribute("lang"))


def _fetched(url: str, kind: str) -> bytes:
    """A file of the answer, fetched from the live server."""
    with urllib.request.urlopen(url) as response:  # noqa: S310  (the loopback live server)
        assert response.headers["Content-Type"].startswith(kind)
        return bytes(response.read())


def _pdf_text(data: bytes) -> str:
    """The answer's PDF read back as text."""
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _pdf_picture(data: bytes, name: str) -> None:
    """The PDF's first page as a picture, beside the pages' screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(data)
    document[0].render(scale=1.4).to_pil().save(SCREENSHOTS / f"{name}.png")
    document.close()


@pytest.mark.parametrize("words", [DUTCH, ENGLISH], ids=lambda words: words.code)
def test_a_customer_goes_the_whole_way_in_her_language(
    live_server, browser, inbox, run_jobs, seeded_shop, words
):
    """In Dutch (chosen with the switch, in a browser that asks for English) or in English,
    every page, mail and the PDF speak that language, from the form to the answer."""
    # 1. The form, in the chosen language.
    browser.get(live_server + "/")
    assert _language(browser) == "en", "the browser asks for English"
    if words.switch:
        switch = browser.find_element(By.CSS_SELECTOR, f"a[hreflang={words.code}]")
        assert switch.is_displayed() and switch.text == "Nederlands"
        switch.click()
        wait_until(browser, lambda driver: _language(driver) == words.code)
    else:
        assert browser.find_element(By.CSS_SELECTOR, "a[hreflang=nl]").text == "Nederlands"
        assert browser.find_element(By.CSS_SELECTOR, "[aria-current=true]").text == "English"
    assert wait_for_heading(browser, words.form_heading) == words.form_heading
    submit = browser.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    assert submit.text == words.submit
    browser.find_element(By.ID, "email").send_keys(DEMO_EMAIL)
    Select(browser.find_element(By.ID, "type")).select_by_value("access")
    screenshot(browser, f"{words.code}-intake-form")
    submit.click()
    assert wait_for_heading(browser, words.submitted) == words.submitted
    assert _language(browser) == words.code

    # 2. The confirmation mail and its page.
    run_jobs()
    [verify_mail] = inbox.to(DEMO_EMAIL)
    assert verify_mail["Subject"] == words.verify_subject
    browser.get(link_to(live_server, verify_mail))
    wait_for_heading(browser, words.confirm_heading)
    assert _language(browser) == words.code
    screenshot(browser, f"{words.code}-verify-confirm")
    browser.find_element(
        By.XPATH, f"//button[normalize-space()='{words.confirm_button}']").click()
    assert wait_for_heading(browser, words.confirmed) == words.confirmed

    # 3. The status page, before any worker ran: gathering, nothing done yet.
    browser.find_element(By.LINK_TEXT, words.follow).click()
    wait_for_heading(browser, words.status_heading)
    assert _language(browser) == words.code
    current = browser.find_element(By.CSS_SELECTOR, "li[aria-current=step]").text
    assert re.fullmatch(words.gathering, " ".join(current.split())), current
    screenshot(browser, f"{words.code}-status-page")

    # 4. The work done, the same page says the answer is out.
    run_jobs()
    browser.refresh()
    wait_until(browser, lambda driver: words.answered_next in _page_text(driver))
    assert words.answered in _page_text(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "li[aria-current=step]") == []

    # 5. The answer mail and its page.
    [answer_mail] = [m for m in inbox.to(DEMO_EMAIL) if m is not verify_mail]
    assert answer_mail["Subject"] == words.answer_subject
    browser.get(link_to(live_server, answer_mail))
    wait_for_heading(browser, words.answer_heading)
    assert _language(browser) == words.code
    page = _page_text(browser)
    assert words.pdf_link in page and words.expiry in page
    screenshot(browser, f"{words.code}-answer-page")

    # 6. The PDF, read back.
    pdf_url = browser.find_element(By.LINK_TEXT, words.pdf_link).get_attribute("href")
    assert pdf_url == browser.current_url + "/report.pdf"
    pdf = _fetched(pdf_url, "application/pdf")
    _pdf_picture(pdf, f"{words.code}-answer-pdf")
    text = " ".join(_pdf_text(pdf).split())
    wrong = [f"missing {word!r}" for word in words.pdf_words if word not in text]
    wrong += [f"no match for {pattern!r}" for pattern in words.pdf_patterns
              if not re.search(pattern, text)]
    wrong += [f"still has {word!r}" for word in words.pdf_absent if word in text]
    assert not wrong, f"the {words.code} PDF: {wrong}; it begins: {text[:300]!r}"

    # 7. The JSON beside it: the same keys in every language, its human texts in hers.
    report = json.loads(_fetched(browser.current_url + "/report.json", "application/json"))
    assert report["language"] == words.code
    assert report["rights"][0]["title"] == words.json_right
    assert report["sections"][0]["categories"][0]["name"] == "account"
