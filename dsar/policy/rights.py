"""What every answer tells the person about their rights and where to complain (Art. 12-22)."""

from __future__ import annotations

import re
from collections.abc import Iterable

RIGHTS: tuple[dict[str, str], ...] = (
    {
        "article": "15",
        "title": "Access",
        "text": "You may ask which personal data we hold about you, why, and whom we give it to.",
    },
    {
        "article": "16",
        "title": "Rectification",
        "text": "You may have incorrect or incomplete data about you corrected.",
    },
    {
        "article": "17",
        "title": "Erasure",
        "text": "You may have your data erased, except what the law obliges us to keep.",
    },
    {
        "article": "18",
        "title": "Restriction",
        "text": "You may ask us to keep your data but not otherwise use it, for example "
        "while a correction is being checked.",
    },
    {
        "article": "20",
        "title": "Data portability",
        "text": "You may receive the data you gave us in a structured, machine-readable form.",
    },
    {
        "article": "21",
        "title": "Objection",
        "text": "You may object to the use of your data for direct marketing at any time; "
        "we then stop at once.",
    },
    {
        "article": "7(3)",
        "title": "Withdrawing consent",
        "text": "Where we rely on your consent, you may withdraw it at any time.",
    },
)

COMPLAINT: dict[str, str] = {
    "authority": "Autoriteit Persoonsgegevens",
    "url": "https://autoriteitpersoonsgegevens.nl",
    "address": "Postbus 93374, 2509 AJ Den Haag, the Netherlands",
    "text": "If you think we have not handled your request properly, you may complain to the "
    "Dutch Data Protection Authority (Autoriteit Persoonsgegevens), and you may go to court.",
}


#: A legal basis that rests on legitimate interests, as connectors state it.
LEGITIMATE_INTERESTS = re.compile(r"6\(1\)\(f\)|legitimate interests?", re.IGNORECASE)


def rights_for(found: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """The rights to state in an answer, given the (title, legal basis) of what was found.

    Where the answer rests anything on legitimate interests, the general right to object
    (Art. 21(1)) applies to it and is stated, naming what it covers; the right to object
    to direct marketing (Art. 21(2)) applies always.
    """
    covered = sorted({title for title, basis in found if LEGITIMATE_INTERESTS.search(basis)})
    rights = [dict(right) for right in RIGHTS]
    if covered:
        objection = next(right for right in rights if right["article"] == "21")
        objection["text"] = (
            "Where we rely on our legitimate interests (Art. 6(1)(f) GDPR), as for "
            f"{_listed(covered)}, you may object at any time on grounds relating to your "
            "particular situation; we then stop, unless we show compelling legitimate "
            "grounds that override your interests, rights and freedoms, or need the data "
            "for legal claims (Art. 21(1)). "
            + objection["text"].rstrip(".") + " (Art. 21(2) and (3))."
        )
    return rights


def _listed(titles: list[str]) -> str:
    """Titles in running text: "a", "a and b", "a, b and c", each in quotes."""
    quoted = [f"\u201c{title}\u201d" for title in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
