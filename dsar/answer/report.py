"""The access report: a versioned JSON structure of what the connectors found.

Format "cplus-dsar-report", version 1 (documented in README, schema in static/schemas):
one section per connector, one entry per category with its records and what Art. 15(1)
asks of it. The report is written as the records stream in from the findings, so a long
history never sits in memory whole; the PDF reads the same sections.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from dsar.answer.wording import translate
from dsar.clock import iso
from dsar.connector import Category, translatable
from dsar.policy.rights import COMPLAINT, rights_for, worded

REPORT_FORMAT = "cplus-dsar-report"
REPORT_VERSION = 1
#: The flag of a record kept past the end its retention rule gives it.
PAST_RETENTION = "kept_past_its_retention_period"
#: The flag of a record an earlier erasure kept because the law requires it.
KEPT_BY_LAW = "kept_under_a_legal_duty"
#: The flag of a record erased, as past its period, after the request came in (its answer
#: still lists what was held then).
ERASED_PAST_PERIOD = "erased_past_its_retention_period"
#: A record flagged with one of these had other people's data removed (Art. 15(4)).
REDACTION_FLAGS = frozenset({"third_party_redacted", "withheld_by_officer"})


@dataclass(frozen=True)
class Found:
    """One category of one connector: what it is, how much was found, and the records.

    Attributes:
        category: the connector's description of the category.
        count: how many records were found.
        first: the first day the records are dated (ISO), if any.
        last: the last day, if any.
        records: reads the records anew on each call, one at a time.
    """

    category: Category
    count: int
    first: str | None
    last: str | None
    records: Callable[[], Iterator[dict[str, Any]]]
    # Who receives it, from the recipients register; None when the register does not know
    # the category (the answer then says so, and the officer is told).
    recipients: tuple[Mapping[str, Any], ...] | None = None
    # Filled as the records are read: those kept past the end their retention rule gives.
    past_end: list[dict[str, str]] = field(default_factory=list)
    # Filled as the records are read: codes the category gives no label ("status 'x'").
    unlabelled_values: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Section:
    """One connector's part of the answer: every category it declares, found or not."""

    connector: str
    title: str
    found: Sequence[Found]


def report_head(
    *,
    request: Mapping[str, Any],
    sections: Sequence[Section],
    controller: Mapping[str, str],
    generated_at: datetime,
    automated_decisions: str,
    language: str,
) -> dict[str, Any]:
    """Everything in the report but its sections: who, what, when, the summary, the rights.

    Its human texts are in the language in force (`i18n.for_request`); the keys, names
    and values that programs read are the same in every language.

    Args:
        request: id, type, email, received_at, due_at and verified_at of the request.
        sections: what each connector found.
        controller: the shop's name and privacy contact.
        generated_at: when the report is made.
        automated_decisions: the shop's statement on automated decisions (Art. 15(1)(h)).
        language: the language of the report's texts ("nl", "en").

    Returns:
        The report's JSON-ready data, without "sections".
    """
    summary = [
        {"connector": section.connector, "category": found.category.name,
         "title": found.category.title, "count": found.count,
         "period": {"first": found.first, "last": found.last}}
        for section in sections for found in section.found if found.count
    ]
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "generated_at": iso(generated_at),
        "language": language,
        "controller": dict(controller),
        "request": {
            "id": request["id"],
            "type": str(request["type"]),
            "received_at": iso(request["received_at"]),
            "due_at": iso(request["due_at"]),
            "verified_at": iso(request["verified_at"]),
        },
        "subject": {"email": request["email"]},
        "summary": {
            "holds_data": bool(summary),
            "record_count": sum(entry["count"] for entry in summary),
            "categories": summary,
        },
        "automated_decisions": {"article": "15(1)(h)", "text": automated_decisions},
        "recipients": _recipients(sections),
        "transfers": _transfers(sections),
        "transfers_unknown": [found.category.title for section in sections
                              for found in section.found
                              if found.count and found.recipients is None],
        "rights": rights_for(((found.category.title, found.category.legal_basis)
                              for section in sections for found in section.found
                              if found.count), translate),
        "complaint": worded(COMPLAINT, translate),
    }


def _recipients(sections: Sequence[Section]) -> list[dict[str, Any]]:
    """Every recipient of the categories found, once each, with what it receives: the
    readable answer's list of who receives the data (Art. 15(1)(c))."""
    named: dict[str, dict[str, Any]] = {}
    for section in sections:
        for found in section.found:
            for recipient in (found.recipients or ()) if found.count else ():
                entry = named.setdefault(recipient["name"], {
                    key: recipient[key] for key in
                    ("name", "role", "purpose", "country", "outside_eea", "safeguard")})
                entry.setdefault("categories", []).append(_with_condition(found, recipient))
    return list(named.values())


def _with_condition(found: Found, recipient: Mapping[str, Any]) -> str:
    """A category's title, with the condition under which its records go to a recipient."""
    condition = recipient.get("condition")
    return found.category.title + (
        translate(" (for {condition})").format(condition=condition) if condition else "")


def _transfers(sections: Sequence[Section]) -> list[dict[str, Any]]:
    """Art. 15(2): each recipient through whom the person's data leaves the EEA, where to,
    on what safeguard, and which of the categories found it receives."""
    reached: dict[str, dict[str, Any]] = {}
    for section in sections:
        for found in section.found:
            for recipient in (found.recipients or ()) if found.count else ():
                if not recipient["outside_eea"]:
                    continue
                entry = reached.setdefault(recipient["name"], {
                    "recipient": recipient["name"], "country": recipient["outside_eea"],
                    "safeguard": recipient["safeguard"], "categories": []})
                entry["categories"].append(_with_condition(found, recipient))
    return list(reached.values())


#: What an answer says of a category the recipients register does not know.
RECIPIENTS_UNKNOWN = translatable(
    "Not yet established: our privacy officer has been asked to find out who receives this "
    "data, and will tell you.")


def recipient_names(found: Found) -> list[str]:
    """The recipients of a category by name and country, as the readable answer lists them
    beside the category (each is described once, with the rights); the plain statement
    when they are not established."""
    if found.recipients is not None:
        return [f"{recipient['name']} ({recipient['country']})"
                for recipient in found.recipients]
    return recipient_texts(found)


def recipient_texts(found: Found) -> list[str]:
    """The recipients of a category in words: from the register, or what the connector
    says followed by the plain statement that it is not established."""
    if found.recipients is not None:
        return [str(recipient["text"]) for recipient in found.recipients]
    return [*found.category.recipients, translate(RECIPIENTS_UNKNOWN)]


def category_entry(found: Found) -> dict[str, Any]:
    """A category's description in the report, without its records."""
    category = found.category
    return {
        "name": category.name,
        "title": category.title,
        "purpose": category.purpose,
        "legal_basis": category.legal_basis,
        "basis": [str(ground) for ground in category.basis],
        "recipients": recipient_texts(found),
        "recipients_known": found.recipients is not None,
        "recipient_details": [dict(recipient) for recipient in found.recipients or ()],
        "retention": category.retention,
        "source": category.source,
        "fields": list(category.fields),
    }


def write_report(out: IO[str], head: Mapping[str, Any], sections: Sequence[Section]) -> None:
    """Writes the report, its records streamed one by one."""
    before = {key: value for key, value in head.items() if key not in ("rights", "complaint")}
    after = {key: head[key] for key in ("rights", "complaint")}
    out.write(_open_object(before) + ',\n "sections": [')
    for index, section in enumerate(sections):
        out.write(("," if index else "") + "\n  " + _open_object(
            {"connector": section.connector, "title": section.title}) + ', "categories": [')
        for number, found in enumerate(section.found):
            entry = _open_object(category_entry(found))
            out.write(("," if number else "") + "\n   " + entry + ', "records": [')
            _write_records(out, found.records())
            out.write("]}")
        out.write("]}")
    out.write("\n ],\n " + _dumps(after)[1:] + "\n")


def _write_records(out: IO[str], records: Iterator[dict[str, Any]]) -> None:
    """Writes records as a JSON array's items, one per line."""
    for index, record in enumerate(records):
        out.write(("," if index else "") + "\n    " + _dumps(record))


def _open_object(data: Mapping[str, Any]) -> str:
    """A JSON object without its closing brace, so that more members can follow."""
    return _dumps(data)[:-1]


def _dumps(data: Any) -> str:
    """Compact JSON that keeps every character as it is."""
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
