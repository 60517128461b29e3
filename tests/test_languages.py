"""Dutch and English: the catalogue leaves nothing untranslated, the form speaks the
browser's language or the one chosen, and a request's mails and pages keep its language."""

from __future__ import annotations

import html
import io
import json
import re

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale
from pypdf import PdfReader

from dsar.answer.wording import for_connector, localised
from dsar.connector import Category, Column, Connector
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.tokens import Purpose, sign
from dsar.web.officers import create_officer
from tests.helpers import (
    ROOT,
    confirm_request,
    console_sign_in,
    csrf_token,
    download,
    link_in,
    text_of,
)

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
#: What marks a string for the catalogue, as `make catalogue` extracts it: gettext in the
#: templates and `dsar`, lazy_gettext in forms, and the connectors' and rules' texts.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
            "translatable": None, "translate": None}


def _visible(page: str) -> str:
    """A page's text as a person reads it."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_every_string_marked_for_translation_has_its_dutch():
    """Each customer-facing string the code and templates mark has a Dutch translation
    that is neither empty nor fuzzy: `make test` fails on an untranslated one."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    marked = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map,
            keywords=KEYWORDS)
    }
    with (ROOT / "translations/nl/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = {m.id[0] if isinstance(m.id, tuple) else m.id: m
                     for m in read_po(handle, locale="nl") if m.id}
    assert len(marked) > 50
    missing = sorted(marked - set(catalogue))
    assert not missing, f"not in the Dutch catalogue (run pybabel extract/update): {missing}"

    def translated(message) -> bool:
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(forms) and not message.fuzzy

    untranslated = sorted(i for i in marked if not translated(catalogue[i]))
    assert not untranslated, f"no Dutch yet: {untranslated}"


def test_the_form_speaks_the_browser_s_language_and_the_switch_changes_it(client):
    """Dutch for a Dutch browser, with lang="nl"; the switch to English sticks."""
    page = client.get("/", headers=DUTCH)
    assert '<html lang="nl">' in page.text
    text = _visible(page.text)
    assert "Uw persoonsgegevens bij Cplus" in text and "Verstuur mijn verzoek" in text
    assert "Uw e-mailadres" in text and "Inzien welke gegevens u over mij hebt" in text
    assert '<a href="?lang=en" lang="en" hreflang="en">English</a>' in page.text

    english = client.get("/?lang=en", headers=DUTCH)
    assert '<html lang="en">' in english.text and "Send my request" in english.text
    assert "Send my request" in client.get("/", headers=DUTCH).text, "the choice sticks"


def test_a_request_made_in_dutch_is_mailed_and_confirmed_in_dutch(
    app, client, inbox, run_jobs
):
    """The form in Dutch stores the language; the mail and the confirm pages follow it,
    even opened in a browser that asks for English."""
    page = client.get("/", headers=DUTCH)
    client.post("/", headers=DUTCH, data={"csrf_token": csrf_token(page.text),
                                           "email": "joost@example.nl", "type": "access"})
    with app.app_context():
        stored = db.session.query(DsarRequest).filter_by(email="joost@example.nl").one()
        assert stored.language == "nl"
    run_jobs()
    [mail] = inbox.to("joost@example.nl")
    assert mail["Subject"] == "Bevestig uw privacyverzoek"
    body = " ".join(text_of(mail).split())
    assert body.startswith("Hallo,") and "De link werkt 24 uur en maar één keer." in body

    english_browser = client.application.test_client()
    link = link_in(mail)
    confirm = english_browser.get(link, headers={"Accept-Language": "en"})
    assert '<html lang="nl">' in confirm.text and "Bevestig mijn verzoek" in confirm.text
    assert re.search(r"vóór <strong>\d{1,2} [a-z]+ \d{4}</strong>", confirm.text)
    done = english_browser.post(link, data={"csrf_token": csrf_token(confirm.text)})
    assert "Dank u, uw verzoek is bevestigd" in done.text


def test_the_api_takes_a_language_and_refuses_an_unknown_one(app, client):
    """`language` is stored as given; anything but nl or en names the field."""
    made = client.post("/api/v1/requests", json={"email": "els@example.nl", "type": "access",
                                                 "language": "nl"})
    assert made.status_code == 202
    with app.app_context():
        assert db.session.get(DsarRequest, made.json["id"]).language == "nl"
    with app.app_context():
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
    console_sign_in(client, "olga@cplus.example", "correct horse battery")
    assert '<dd lang="nl">Nederlands' in client.get(
        f"/console/requests/{made.json['id']}").text, "the officer sees the language"
    assert '<td lang="nl">Nederlands</td>' in client.get("/console/").text
    for wrong in ("fr", [], {"nl": 1}, 1):
        refused = client.post("/api/v1/requests", json={"email": "els@example.nl",
                                                        "type": "access", "language": wrong})
        assert refused.status_code == 422, wrong
        assert "language" in refused.json["error"]["fields"]


def test_a_dutch_request_s_status_page_is_in_dutch(app, client, inbox, run_jobs):
    """Steps, the plural of systems, what happens next and the dates: all in Dutch."""
    made = client.post("/api/v1/requests", json={"email": "anouk@example.nl",
                                                 "type": "access", "language": "nl"})
    run_jobs()
    token = link_in(inbox.to("anouk@example.nl")[0]).rsplit("/", 1)[1]
    client.post("/api/v1/requests/verify", json={"token": token})
    with app.app_context():
        link = f"/status/{sign(Purpose.STATUS, {'r': made.json['id']})}"
    text = _visible(client.get(link, headers={"Accept-Language": "en"}).text)
    assert "Nu: Verzamelen uit onze 5 systemen (0 van 5 klaar)" in text
    assert "Klaar: Door u bevestigd" in text and "Wat er nu gebeurt" in text
    assert re.search(r"Ons antwoord komt uiterlijk op \d{1,2} [a-z]+ \d{4}", text)


def test_a_dutch_answer_mail_and_page_are_in_dutch(app, client, inbox, run_jobs, seeded_shop):
    """The answer's mail and page follow the request: Dutch words, dates and decimals."""
    made = client.post("/api/v1/requests", json={"email": "sanne.devries@example.nl",
                                                 "type": "access", "language": "nl"})
    assert made.status_code == 202
    run_jobs()
    token = link_in(inbox.to("sanne.devries@example.nl")[0]).rsplit("/", 1)[1]
    client.post("/api/v1/requests/verify", json={"token": token})
    run_jobs()
    [answer] = [m for m in inbox.to("sanne.devries@example.nl")
                if m["Subject"] == "Het antwoord op uw privacyverzoek is klaar"]
    body = " ".join(text_of(answer).split())
    assert "Open het hier:" in body and "Hoe uw verzoek ervoor staat:" in body
    page = client.get(link_in(answer), headers={"Accept-Language": "en"})
    text = _visible(page.text)
    assert '<html lang="nl">' in page.text
    assert "Uw antwoord als document (PDF)" in text
    assert re.search(r"Deze link werkt tot [a-z]+dag \d{1,2} [a-z]+ \d{4} om \d\d:\d\d UTC", text)
    assert re.search(r"\d+(,\d)? (KB|MB)", text)


def test_a_dutch_erasure_is_answered_with_a_dutch_letter(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """The outcome letter, PDF and JSON, in Dutch: headings, the reasons the plan gives in
    English to the officer, the legal basis of what is kept, the rights."""
    made = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure",
                                                     "language": "nl"})
    plan = client.get(f"/api/v1/requests/{made}/plan",
                      headers={"Authorization": f"Bearer {officer_token}"}).json
    reasons = {d["reason"] for items in plan["connectors"].values() for d in items}
    assert any(reason.startswith("You still have ") for reason in reasons), \
        "the officer reads the plan in English"
    client.post(f"/api/v1/requests/{made}/approve",
                headers={"Authorization": f"Bearer {officer_token}"})
    run_jobs()
    [mail] = [m for m in inbox.to(DEMO_EMAIL)
              if m["Subject"] == "Het antwoord op uw privacyverzoek is klaar"]
    letter = json.loads(download(client, link_in(mail) + "/report.json").data)
    assert letter["language"] == "nl"
    assert [right["title"] for right in letter["rights"]][:2] == ["Inzage", "Rectificatie"]
    assert all("AVG" in item["legal_basis"] for item in letter["minimised"])
    blocked = {item["reason"] for item in letter["blocked"]}
    assert any(reason.startswith("U hebt nog een ") for reason in blocked), blocked
    pdf = download(client, link_in(mail) + "/report.pdf").data
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Wat we hebben gedaan met uw verzoek om uw gegevens te wissen" in text
    assert "Bewaard omdat de wet dat vraagt" in text and "Uw rechten" in text
    assert not re.search(r"What we did|Kept because|Your rights|GDPR", text), text[:400]


def test_a_connector_s_own_catalogue_translates_its_texts(app, tmp_path):
    """A connector from another package names the folder of its own catalogue: its texts
    come out in Dutch from there, dsar's own words from dsar's, and a text no catalogue
    knows stays English rather than leaving a gap."""
    catalogue = Catalog(locale="nl")
    catalogue.add("Your loyalty points", "Uw spaarpunten")
    folder = tmp_path / "nl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalogue)

    class Loyalty(Connector):
        name = "loyalty"
        title = "Cplus loyalty programme"
        translations = str(tmp_path)
        categories = (Category(
            name="points", title="Your loyalty points", fields=("points",),
            purpose="Rewarding your purchases.", legal_basis="Consent",
            recipients=(), retention="Until you leave the programme.", source="You",
            columns=(Column("Received", ("earned_at",)),)),)

        def export(self, subject):
            return iter(())

    with app.app_context(), force_locale("nl"):
        dutch = localised(Loyalty.categories[0], for_connector(Loyalty))
    assert dutch.title == "Uw spaarpunten", "from its own catalogue"
    assert dutch.columns[0].label == "Ontvangen", "a word dsar's catalogue knows"
    assert dutch.purpose == "Rewarding your purchases.", "no catalogue knows it"
    assert dutch.name == "points" and dutch.fields == ("points",), "names stay"


def test_the_console_stays_english_for_a_dutch_officer(app, client):
    """An officer whose browser asks for Dutch still reads the console in English, its
    error pages too (which the customer's pages share)."""
    with app.app_context():
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
    console_sign_in(client, "olga@cplus.example", "correct horse battery")
    missing = client.get("/console/requests/" + "0" * 32, headers=DUTCH)
    assert missing.status_code == 404
    assert '<html lang="en">' in missing.text and "Page not found" in missing.text
    customer = client.get("/status/not-a-token", headers=DUTCH)
    assert '<html lang="nl">' in customer.text, "the customer's pages follow the browser"
