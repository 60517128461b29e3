"""What every answer tells the person about their rights and where to complain (Art. 12-22)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from dsar.connector import translatable

RIGHTS: tuple[dict[str, str], ...] = (
    {
        "article": "15",
        "title": translatable("Access"),
        "text": translatable(
            "You may ask which personal data we hold about you, why, and whom we give it to."),
    },
    {
        "article": "16",
        "title": translatable("Rectification"),
        "text": translatable("You may have incorrect or incomplete data about you corrected."),
    },
    {
        "article": "17",
        "title": translatable("Erasure"),
        "text": translatable(
            "You may have your data erased, except what the law obliges us to keep."),
    },
    {
        "article": "18",
        "title": translatable("Restriction"),
        "text": translatable("You may ask us to keep your data but not otherwise use it, for "
                             "example while a correction is being checked."),
    },
    {
        "article": "20",
        "title": translatable("Data portability"),
        "text": translatable(
            "You may receive the data you gave us in a structured, machine-readable form."),
    },
    {
        "article": "21",
        "title": translatable("Objection"),
        "text": translatable("You may object to the use of your data for direct marketing at "
                             "any time; we then stop at once."),
    },
    {
        "article": "7(3)",
        "title": translatable("Withdrawing consent"),
        "text": translatable("Where we rely on your consent, you may withdraw it at any time."),
    },
)

COMPLAINT: dict[str, str] = {
    "authority": "Autoriteit Persoonsgegevens",
    "url": "https://autoriteitpersoonsgegevens.nl",
    "address": translatable("Postbus 93374, 2509 AJ Den Haag, the Netherlands"),
    "text": translatable(
        "If you think we have not handled your request properly, you may complain to the "
        "Dutch Data Protection Authority (Autoriteit Persoonsgegevens), and you may go to "
        "court."),
}
#: The texts of RIGHTS and COMPLAINT that a person reads, put through the catalogue.
_WORDED = ("title", "text", "address")


#: A legal basis that rests on legitimate interests, as connectors state it, in English or
#: in Dutch ("gerechtvaardigd belang", "art. 6 lid 1 onder f AVG").
LEGITIMATE_INTERESTS = re.compile(
    r"6\(1\)\(f\)|6 lid 1 (onder|sub) f|legitimate interests?|gerechtvaardigde? belang",
    re.IGNORECASE)


def _same(text: str) -> str:
    """No translation: the English text."""
    return text


def rights_for(
    found: Iterable[tuple[str, str]], translate: Callable[[str], str] = _same
) -> list[dict[str, str]]:
    """The rights to state in an answer, given the (title, legal basis) of what was found.

    Where the answer rests anything on legitimate interests, the general right to object
    (Art. 21(1)) applies to it and is stated, naming what it covers; the right to object
    to direct marketing (Art. 21(2)) applies always. `translate` puts the texts into the
    language of the answer.
    """
    covered = sorted({title for title, basis in found if LEGITIMATE_INTERESTS.search(basis)})
    rights = [worded(right, translate) for right in RIGHTS]
    if covered:
        objection = next(right for right in rights if right["article"] == "21")
        objection["text"] = translate(
            "Where we rely on our legitimate interests (Art. 6(1)(f) GDPR), as for "
            "{categories}, you may object at any time on grounds relating to your "
            "particular situation; we then stop, unless we show compelling legitimate "
            "grounds that override your interests, rights and freedoms, or need the data "
            "for legal claims (Art. 21(1)). {marketing} (Art. 21(2) and (3))."
        ).format(categories=_listed(covered, translate),
                 marketing=objection["text"].rstrip("."))
    return rights


def worded(text: dict[str, str], translate: Callable[[str], str]) -> dict[str, str]:
    """A right or the complaint route with its words in the language of the answer."""
    return {key: translate(value) if key in _WORDED else value for key, value in text.items()}


def _listed(titles: list[str], translate: Callable[[str], str]) -> str:
    """Titles in running text: "a", "a and b", "a, b and c", each in quotes."""
    quoted = [f"\u201c{title}\u201d" for title in titles]
    if len(quoted) == 1:
        return quoted[0]
    return translate("{some} and {last}").format(some=", ".join(quoted[:-1]), last=quoted[-1])
