"""The answer's words in the language of the request.

Connectors, the rules files and the recipients register describe the shop's data in
English, each text marked for the gettext catalogue (`dsar.connector.translatable`, the
extractor in `dsar.answer.extraction`). An answer is written inside `i18n.for_request`;
the functions here put those texts through the catalogue of that language: a connector's
own catalogue first when it ships one, then dsar's. A text no catalogue knows stays as it
is, in English, rather than leaving a gap in the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from babel.support import NullTranslations, Translations
from flask_babel import get_locale, gettext

from dsar.answer.readable import field_label, labels_of
from dsar.connector import Category, Connector
from dsar.registry import current_registry

#: Puts one English text into the language of the answer.
Translate = Callable[[str], str]


def translate(text: str) -> str:
    """A text through dsar's own catalogue, in the language of the answer."""
    return gettext(text) if text else text


def for_connector(connector: type[Connector]) -> Translate:
    """How a connector's texts are put into the language of the answer."""
    if not connector.translations:
        return translate
    own = _catalogue(connector.translations, str(get_locale()))

    def through_own(text: str) -> str:
        mine = own.gettext(text) if text else text
        return mine if mine != text else translate(text)

    return through_own


def localised(category: Category, words: Translate) -> Category:
    """A category described in the language of the answer; its name and fields, which
    programs read, stay as they are."""
    return replace(
        category,
        title=words(category.title),
        purpose=words(category.purpose),
        legal_basis=words(category.legal_basis),
        recipients=tuple(words(text) for text in category.recipients),
        retention=words(category.retention),
        source=words(category.source),
        columns=tuple(replace(column, label=words(column.label))
                      for column in category.columns),
        labels={field: words(label) for field, label in category.labels.items()},
        values={field: {code: words(label) for code, label in labelled.items()}
                for field, labelled in category.values.items()},
    )


def connector_title(connector: str) -> str:
    """What a customer calls a system, in the language of the answer; its name when it is
    no longer installed."""
    try:
        cls = current_registry().get_class(connector)
    except KeyError:
        return connector
    return for_connector(cls)(cls.title)


def described(connector: str, name: str) -> Category | None:
    """One of a connector's categories, described in the language of the answer; None
    when the connector does not hold it or is no longer installed."""
    try:
        cls = current_registry().get_class(connector)
    except KeyError:
        return None
    declared = next((c for c in cls.categories if c.name == name), None)
    return localised(declared, for_connector(cls)) if declared else None


def category_title(connector: str, name: str) -> str:
    """What a customer calls one of a connector's categories, in the language of the
    answer; its name when the connector does not hold it or is no longer installed."""
    try:
        cls = current_registry().get_class(connector)
    except KeyError:
        return name
    return for_connector(cls)(cls.category_title(name))


class FieldWords:
    """Fields named in a letter or a notice as a person reads them, in the language of
    the answer; it notes each field whose connector gives it no label (`missing`,
    "orders.orders: ship_city"), for the privacy officer."""

    def __init__(self) -> None:
        """Starts with no category looked up and nothing missing."""
        self.missing: set[str] = set()
        self._categories: dict[tuple[str, str], Category | None] = {}

    def __call__(self, connector: str, category: str, field: str) -> str:
        """One field of a connector's category, as a label."""
        if (connector, category) not in self._categories:
            self._categories[connector, category] = described(connector, category)
        found = self._categories[connector, category]
        if found is None or not found.labels.get(field):
            self.missing.add(f"{connector}.{category}: {field}")
        return field_label(labels_of(found) if found else {}, field)


@lru_cache(maxsize=32)
def _catalogue(folder: str, locale: str) -> NullTranslations:
    """A connector's compiled catalogue for one language (an empty one when it has none)."""
    return Translations.load(folder, [locale])
