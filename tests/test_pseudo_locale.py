"""Nothing a person reads is left in English: every document, page, mail and notice is made
under a pseudo-locale whose catalogue wraps each translated text in ⟦ ⟧, and whatever is
outside the marks must be the shop's data.

The catalogue is built at test time from the Dutch one: each msgstr is its msgid with the
words wrapped and the placeholders (`%(name)s`, `{name}`) and markup left outside, so that a
value put into a translated sentence is checked as well. It serves both languages, so the
notices to recipients that take English are checked too. What is data is what the
connectors returned for the person (every value of report.json, but the codes a category
labels, which must be shown by their labels), the recipients register's names and
countries, the request's own id and address, and what the officer typed.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from pypdf import PdfReader

from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.i18n import LANGUAGES
from dsar.models import DsarRequest, OutgoingMail
from dsar.policy.rights import COMPLAINT
from dsar.registry import current_registry
from dsar.work import mails
from dsar.work.rules import recipients_register
from tests.helpers import ROOT, confirm_request, download, link_in, text_of

OPEN, CLOSE = "⟦", "⟧"
#: What a translated text leaves to be filled in, and markup: kept outside the marks.
_HOLES = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]*>|%%")
_MARKED = re.compile(f"{OPEN}[^{CLOSE}]*{CLOSE}")
_WORD = re.compile(r"[^\W\d_]+")
_LINK = re.compile(r"(?:https?://|mailto:)\S+")
#: A request's id, or its first eight characters: a reference, not words.
_REFERENCE = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,32}\b")
#: Said by an officer in English, and the reason a request was denied: data, not words.
REASON = "Zaandam Kruidvat reasonable"
#: Symbols written the same in Dutch and English: sizes, the time standard, the currency.
SAME_IN_BOTH = {"bytes", "KB", "MB", "GB", "UTC", "EUR"}


def _wrapped(text: str) -> str:
    """A msgid as the pseudo-locale translates it: its words marked, its holes left open."""
    out, last = [], 0
    for hole in _HOLES.finditer(text):
        if text[last:hole.start()].strip():
            out.append(OPEN + text[last:hole.start()] + CLOSE)
        else:
            out.append(text[last:hole.start()])
        out.append(hole.group())
        last = hole.end()
    rest = text[last:]
    out.append(OPEN + rest + CLOSE if rest.strip() else rest)
    return "".join(out)


@pytest.fixture(scope="session")
def pseudo_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A translations folder whose nl and en catalogues mark every text dsar translates."""
    folder = tmp_path_factory.mktemp("pseudo")
    for language in ("nl", "en"):
        with (ROOT / "translations/nl/LC_MESSAGES/messages.po").open("rb") as handle:
            catalogue = read_po(handle, locale="nl")
        for message in catalogue:
            if not message.id:
                continue
            if isinstance(message.id, tuple):
                message.string = (_wrapped(message.id[0]), _wrapped(message.id[1]))
            else:
                message.string = _wrapped(message.id)
            message.flags.discard("fuzzy")
        target = folder / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / "messages.mo").open("wb") as handle:
            write_mo(handle, catalogue)
    return folder


@pytest.fixture
def pseudo_app(app: Flask, pseudo_translations: Path, seeded_shop: Any) -> Flask:
    """The real app, translating through the pseudo-locale."""
    app.extensions["babel"].translation_directories = [str(pseudo_translations)]
    return app


def _words(value: Any) -> Iterator[str]:
    """The words in a value of any JSON shape."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _words(item)
    elif isinstance(value, list):
        for item in value:
            yield from _words(item)
    elif value is not None:
        yield from _WORD.findall(str(value))


def _data(answer: dict[str, Any], app: Flask) -> set[str]:
    """Every word of the data: what the connectors returned (codes a category labels
    excepted), the register's names and countries, the request's id and address, the
    months as the calendar writes them."""
    data = set(_words(answer["request"])) | set(_words(answer["controller"]))
    with app.app_context():
        registry = current_registry()
        coded = {(section["connector"], category["name"]): set(described.values)
                 for section in answer["sections"] for category in section["categories"]
                 for described in registry.get_class(section["connector"]).categories
                 if described.name == category["name"]}
        for recipient in recipients_register().recipients:
            data |= set(_WORD.findall(f"{recipient.name} {recipient.country} "
                                      f"{recipient.transfer or ''}"))
    for section in answer["sections"]:
        for category in section["categories"]:
            skip = coded.get((section["connector"], category["name"]), set())
            for record in category.get("records", []):
                data |= set(_WORD.findall(record["key"]))
                data |= set(_words({k: v for k, v in record["data"].items() if k not in skip}))
    for locale in ("nl_NL", "en_GB"):
        for month in range(1, 13):
            for form in ("MMM", "MMMM", "EEEE"):  # the weekday: January 2024 has seven
                data |= set(_WORD.findall(format_date(date(2024, 1, month), form,
                                                      locale=locale)))
                data |= set(_WORD.findall(format_date(date(2024, month, 1), form,
                                                      locale=locale)))
    # The authority a complaint goes to is named as it is called, and the language switch
    # names each language in itself.
    names = f"{COMPLAINT['authority']} {COMPLAINT['url']} {' '.join(LANGUAGES.values())}"
    return data | set(_WORD.findall(REASON)) | set(_WORD.findall(names)) | SAME_IN_BOTH


def _unmarked(text: str, data: set[str]) -> list[str]:
    """The words outside the marks that are not data."""
    # A link is an address, not words; the marks go, with what they hold.
    bare = _REFERENCE.sub(" ", _MARKED.sub(" ", _LINK.sub(" ", " ".join(text.split()))))
    return sorted({word for word in _WORD.findall(bare) if word not in data})


def _visible(page: str) -> str:
    """A page's text as a person reads it (and its title)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page).replace("&amp;", "&").replace("&#39;", "'") \
        .replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")


def _pdf_text(pdf: bytes) -> str:
    """A PDF's text, read back."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _mail_texts(inbox: Any, address: str) -> Iterable[tuple[str, str]]:
    """Each mail to an address: its subject, and its plain and HTML bodies."""
    for message in inbox.to(address):
        html = message.get_body(preferencelist=("html",))
        yield message["Subject"], text_of(message) + (
            _visible(str(html.get_content())) if html is not None else "")


def _auth(token: str) -> dict[str, str]:
    """The officer's Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def _documents(client: Any, inbox: Any, address: str) -> dict[str, str]:
    """The newest document mailed to an address: the page its link opens, its PDF's text,
    and its JSON."""
    [mail] = [m for m in inbox.to(address) if "/reports/" in text_of(m)][-1:]
    link = link_in(mail)
    page = client.get(link).text
    return {"page": _visible(page),
            "pdf": _pdf_text(download(client, link + "/report.pdf").data),
            "json": download(client, link + "/report.json").data.decode()}


@pytest.fixture
def data_of_the_shop(pseudo_app: Flask, client: Any, inbox: Any, run_jobs: Any) -> dict:
    """An access answer in Dutch under the pseudo-locale: its documents, and the data."""
    confirm_request(client, inbox, run_jobs,
                    {"email": DEMO_EMAIL, "type": "access", "language": "nl"})
    documents = _documents(client, inbox, DEMO_EMAIL)
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if "/reports/" in text_of(m)]
    zipped = download(client, link_in(mail) + "/report-csv.zip").data
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        documents["spreadsheets"] = "\n".join(archive.read(name).decode("utf-8-sig")
                                              for name in archive.namelist())
    answer = json.loads(documents["json"])
    return {"documents": documents, "data": _data(answer, pseudo_app),
            "mails": list(_mail_texts(inbox, DEMO_EMAIL))}


def test_the_access_answer_has_no_word_outside_the_catalogue(data_of_the_shop):
    """The PDF, the page it is fetched from, the spreadsheets and every mail of an access
    request."""
    data = data_of_the_shop["data"]
    documents = data_of_the_shop["documents"]
    assert OPEN in documents["pdf"] and OPEN in documents["page"], "the pseudo-locale is used"
    assert OPEN in documents["spreadsheets"]
    assert _unmarked(documents["pdf"], data) == []
    assert _unmarked(documents["page"], data) == []
    assert _unmarked(documents["spreadsheets"], data) == []
    for subject, body in data_of_the_shop["mails"]:
        assert _unmarked(subject, data) == [], subject
        assert _unmarked(body, data) == [], subject


def _checked(texts: Iterable[tuple[str, str]], data: set[str]) -> None:
    """Fails on a word outside the marks in any of the (what, text) pairs."""
    found = {what: words for what, text in texts if (words := _unmarked(text, data))}
    assert found == {}


def _letter(client: Any, inbox: Any, data: set[str]) -> list[tuple[str, str]]:
    """The newest outcome letter, its page and the mails about it, as (what, text)."""
    documents = _documents(client, inbox, DEMO_EMAIL)
    assert OPEN in documents["pdf"]
    return [("letter", documents["pdf"]), ("page", documents["page"]),
            *(("mail " + subject, subject + " " + body)
              for subject, body in _mail_texts(inbox, DEMO_EMAIL))]


def _decided(client: Any, run_jobs: Any, token: str, request_id: str,
             choices: dict[str, Any] | None = None) -> None:
    """The officer approves, and does by hand what a system cannot, saying so."""
    client.post(f"/api/v1/requests/{request_id}/approve", headers=_auth(token),
                json=choices or {})
    run_jobs()
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(token)).json
    for task in status["tasks"]:
        if task["status"] == "manual":
            client.post(f"/api/v1/requests/{request_id}/tasks/{task['id']}/complete",
                        headers=_auth(token), json={"note": REASON})
    run_jobs()
    final = client.get(f"/api/v1/requests/{request_id}", headers=_auth(token)).json
    assert final["status"] == "completed", final


def _notices(inbox: Any) -> list[tuple[str, str]]:
    """Every notice to a recipient, as (what, text)."""
    notices = [(f"notice to {m['To']}", f"{m['Subject']} {text_of(m)}")
               for m in inbox.messages if str(m["Subject"]).count("Art. 19")
               or str(m["Subject"]).count("Art. 21")]
    return notices


def test_the_erasure_letter_and_its_notices(data_of_the_shop, client, inbox, run_jobs,
                                            officer_token):
    """The erasure's letter, the mails to the person and every recipient's notice."""
    data = data_of_the_shop["data"]
    inbox.clear()
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": DEMO_EMAIL, "type": "erasure", "language": "nl"})
    _decided(client, run_jobs, officer_token, request_id)
    notices = _notices(inbox)
    assert notices, "recipients are told"
    _checked([*_letter(client, inbox, data), *notices], data)


def test_the_correction_letter_and_its_notices(data_of_the_shop, client, inbox, run_jobs,
                                               officer_token):
    """A correction of an address: the letter names the fields by their labels."""
    data = data_of_the_shop["data"] | set(_WORD.findall("Haarlem Zijlweg"))
    inbox.clear()
    request_id = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": "rectification", "language": "nl",
        "corrections": {"street": "Zijlweg 12", "city": "Haarlem"}})
    _decided(client, run_jobs, officer_token, request_id)
    texts = _letter(client, inbox, data)
    assert any("Zijlweg" in text for _, text in texts)
    _checked([*texts, *_notices(inbox)], data)


@pytest.mark.parametrize("payload", [
    {"type": "objection"},
    {"type": "restriction", "ground": "accuracy_contested"},
], ids=["objection", "restriction"])
def test_the_objection_and_restriction_letters(data_of_the_shop, client, inbox, run_jobs,
                                               officer_token, payload):
    """An objection to direct marketing and a restriction: letters, mails and notices."""
    data = data_of_the_shop["data"]
    inbox.clear()
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": DEMO_EMAIL, "language": "nl", **payload})
    _decided(client, run_jobs, officer_token, request_id)
    texts = _letter(client, inbox, data)
    if payload["type"] == "restriction":
        client.post(f"/api/v1/requests/{request_id}/lift-restriction",
                    headers=_auth(officer_token), json={"reason": REASON})
        run_jobs()
        texts += [(f"mail {s}", f"{s} {b}") for s, b in _mail_texts(inbox, DEMO_EMAIL)]
    _checked([*texts, *_notices(inbox)], data)


def test_the_weighed_objection_and_the_refusal(data_of_the_shop, client, inbox, run_jobs,
                                               officer_token):
    """An objection on the person's situation, weighed and upheld, and a request refused:
    the letter and every mail."""
    data = data_of_the_shop["data"]
    inbox.clear()
    weighed = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": "objection", "language": "nl",
        "objection_to": "legitimate_interests", "details": REASON})
    _decided(client, run_jobs, officer_token, weighed,
             {"categories": {"support.support_notes": "erase",
                             "support.contact_messages": "restrict"}})
    texts = _letter(client, inbox, data)
    inbox.clear()
    refused = confirm_request(client, inbox, run_jobs,
                              {"email": DEMO_EMAIL, "type": "erasure", "language": "nl"})
    client.post(f"/api/v1/requests/{refused}/deny", headers=_auth(officer_token),
                json={"reason": REASON})
    run_jobs()
    texts += [(f"mail {s}", f"{s} {b}") for s, b in _mail_texts(inbox, DEMO_EMAIL)]
    assert any(REASON in text for _, text in texts)
    _checked([*texts, *_notices(inbox)], data)


#: The fields of the shop that hold codes: each must be shown by a label, never as stored.
CODED = {("orders", "orders"): {"status", "payment_method"},
         ("accounts", "account"): {"payment_method"},
         ("subscriptions", "subscriptions"): {"status", "payment_method"},
         ("support", "support_notes"): {"channel"},
         ("marketing", "marketing_consents"): {"source"}}


def test_the_shop_s_codes_are_labelled_and_so_not_taken_for_data(pseudo_app):
    """The test above takes every field's value for data but the codes a category labels:
    the shop's connectors label every field that holds codes."""
    with pseudo_app.app_context():
        registry = current_registry()
        for (connector, name), fields in CODED.items():
            [category] = [c for c in registry.get_class(connector).categories
                          if c.name == name]
            assert fields <= set(category.values), (connector, name)


def test_every_mail_to_the_person(data_of_the_shop, pseudo_app, client, inbox, run_jobs,
                                  officer_token):
    """The mails no flow above sends, composed for a real request as the worker does: the
    reminder to confirm, the extension, the delay, the PDF sent after the JSON, the weighed
    objection's, and the follow-up of an erasure that carried on."""
    data = data_of_the_shop["data"]
    inbox.clear()
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": DEMO_EMAIL, "type": "erasure", "language": "nl"})
    _decided(client, run_jobs, officer_token, request_id)
    letter = json.loads(_documents(client, inbox, DEMO_EMAIL)["json"])
    items = [{**item, "done": "minimised", "was_blocked": REASON} for item in
             letter["minimised"]] + [{**item, "done": "erased"} for item in letter["erased"]]
    assert items
    kinds = [mails.MailKind.VERIFY_REMINDER, mails.MailKind.EXTENDED,
             mails.MailKind.DELAYED, mails.MailKind.DOCUMENT_READY,
             mails.MailKind.OBJECTION_WEIGHED, mails.MailKind.RESTRICTION_LIFTING]
    texts = []
    with pseudo_app.app_context():
        request = db.session.get(DsarRequest, request_id)
        request.extension_reason = REASON  # as the officer gives it when extending
        for kind in [*kinds, f"{mails.FOLLOW_UP_PREFIX}now"]:
            owed = OutgoingMail(request_id=request_id, kind=str(kind),
                                payload={"items": items, "reason": REASON})
            message = mails.compose(owed, request)
            texts.append((str(kind), f"{message.subject} {message.body} "
                                     f"{_visible(message.html or '')}"))
            assert OPEN in message.body, kind
    assert {str(kind) for kind in mails.MailKind} <= {
        kind for kind, _ in texts} | SENT_IN_THE_FLOWS
    _checked(texts, data)


#: The mails to the person that the tests above receive from a real flow.
SENT_IN_THE_FLOWS = {"verify", "answer_ready", "denied"}
