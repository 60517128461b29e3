"""The languages a customer reads dsar in: Dutch and English, with Flask-Babel.

The form's visible switch (`?lang=`) and the browser's Accept-Language pick the language of
a page; a request keeps the one it was made in, and every later page and mail about it
follows that (`for_request`), in the web app and in the workers alike. The officer console
stays English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, force_locale, format_date, get_locale

#: The languages dsar speaks, by code, each named in itself.
LANGUAGES = {"nl": "Nederlands", "en": "English"}
#: When nothing says otherwise.
DEFAULT = "en"


def select_locale() -> str:
    """The language of what is rendered now."""
    chosen = g.get("language") if has_request_context() else None
    if chosen in LANGUAGES:
        return str(chosen)
    if has_request_context():
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            session["lang"] = asked
            return str(asked)
        if session.get("lang") in LANGUAGES:
            return str(session["lang"])
        return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT
    return DEFAULT


def use_request_language(language: str | None) -> None:
    """Renders the rest of this web request in the language a stored request was made in."""
    if language in LANGUAGES:
        g.language = language


@contextmanager
def for_request(language: str | None) -> Iterator[None]:
    """Renders in the language a stored request was made in (a worker's mails)."""
    with force_locale(language if language in LANGUAGES else DEFAULT):
        yield


class CatalogueMissing(RuntimeError):
    """A language dsar speaks has no compiled catalogue: it would be answered in English."""


def init_app(app: Flask, translations: str) -> None:
    """Wires Flask-Babel to the catalogues in `translations`.

    Raises:
        CatalogueMissing: a language's catalogue is not compiled. Flask-Babel would fall
            back to English without a word, and a Dutch customer would read every page,
            mail and answer in English; dsar refuses to start instead.
    """
    missing = [language for language in LANGUAGES if language != DEFAULT
               and not (Path(translations) / language / "LC_MESSAGES" / "messages.mo").is_file()]
    if missing:
        raise CatalogueMissing(
            f"the {', '.join(LANGUAGES[m] for m in missing)} catalogue is not compiled in "
            f"{translations}: run `make translations` (or `pybabel compile -d "
            f"{translations}`); without it every page, mail and answer would be in English")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translations
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["day_of_iso"] = day_of_iso


def day(moment: date | datetime) -> str:
    """A day as people write it in the language of the page: "25 December 2026", "25
    december 2026"."""
    return str(format_date(moment, "d MMMM y"))



def day_of_iso(value: str | None) -> str:
    """An ISO 8601 date or date-time, as stored in an answer's JSON, written as a day."""
    return day(date.fromisoformat(value[:10])) if value else ""


def extract_toml(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Mapping[str, str]
) -> Iterator[tuple[int, None, str, list[str]]]:
    """A `pybabel extract` method for the rules files (config/*.toml): the texts a person
    reads in an answer, under the keys babel.cfg names (`keys = purpose safeguard ...`).

    A line-by-line look, as tomllib gives no line numbers: it finds `key = "text"`, also
    inside an inline table, which is how the rules files write their texts.
    """
    keys = "|".join(map(re.escape, options.get("keys", "").split()))
    if not keys:
        return
    pattern = re.compile(rf'(?:^|[{{,\s])(?:{keys})\s*=\s*("(?:[^"\\]|\\.)*")')
    for number, line in enumerate(fileobj.read().decode().splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for match in pattern.finditer(line):
            yield number, None, json.loads(match.group(1)), []
