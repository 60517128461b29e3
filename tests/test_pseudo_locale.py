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

from connectors.shop.seed import DEMO_EMAIL
from dsar.app import ROOT
from dsar.i18n import LANGUAGES
from dsar.policy.rights import COMPLAINT
from dsar.registry import current_registry
from dsar.work.rules import recipients_register
from tests.helpers import confirm_request, download, link_in, text_of

OPEN, CLOSE = "⟦", "⟧"
#: What a translated text leaves to be filled in, and markup: kept outside the marks.
_HOLES = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]*>|%%")
_MARKED = re.compile(f"{OPEN}[^{CLOSE}]*{CLOSE}")
_WORD = re.compile(r"[^\W\d_]+")
_LINK = re.compile(r"(?:https?://|mailto:)\S+")
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
    bare = _MARKED.sub(" ", _LINK.sub(" ", " ".join(text.split())))
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
    answer = json.loads(documents["json"])
    return {"documents": documents, "data": _data(answer, pseudo_app),
            "mails": list(_mail_texts(inbox, DEMO_EMAIL))}


def test_the_access_answer_has_no_word_outside_the_catalogue(data_of_the_shop):
    """The PDF, the page it is fetched from and every mail of an access request."""
    data = data_of_the_shop["data"]
    documents = data_of_the_shop["documents"]
    assert OPEN in documents["pdf"] and OPEN in documents["page"], "the pseudo-locale is used"
    assert _unmarked(documents["pdf"], data) == []
    assert _unmarked(documents["page"], data) == []
    for subject, body in data_of_the_shop["mails"]:
        assert _unmarked(subject, data) == [], subject
        assert _unmarked(body, data) == [], subject
