"""What every answer tells the person about their rights and where to complain (Art. 12-22)."""

from __future__ import annotations

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
