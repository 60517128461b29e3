"""The access report: a versioned JSON structure built from the connectors' task results.

Format "cplus-dsar-report", version 1 (documented in README): one section per connector,
one entry per category with its records and what Art. 15(1) asks of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from dsar.answer.readable import period_of
from dsar.clock import iso
from dsar.connector import Category
from dsar.policy.rights import COMPLAINT, RIGHTS

REPORT_FORMAT = "cplus-dsar-report"
REPORT_VERSION = 1


def build_report(
    *,
    request: Mapping[str, Any],
    sections: Iterable[tuple[str, str, tuple[Category, ...], Mapping[str, Any]]],
    controller: Mapping[str, str],
    generated_at: datetime,
) -> dict[str, Any]:
    """Builds the report from plain data.

    Args:
        request: id, type, email, received_at, due_at and verified_at of the request.
        sections: per connector its name, title, categories and task result
            ({"categories": {name: [records]}}).
        controller: the shop's name and privacy contact.
        generated_at: when the report is made.

    Returns:
        The report as JSON-ready data.
    """
    built_sections = []
    summary = []
    for connector, title, categories, result in sections:
        found = result.get("categories", {})
        entries = []
        for category in categories:
            records = found.get(category.name, [])
            entries.append(
                {
                    "name": category.name,
                    "title": category.title,
                    "purpose": category.purpose,
                    "legal_basis": category.legal_basis,
                    "recipients": list(category.recipients),
                    "retention": category.retention,
                    "source": category.source,
                    "fields": list(category.fields),
                    "records": records,
                }
            )
            if records:
                summary.append(
                    {"connector": connector, "category": category.name,
                     "title": category.title, "count": len(records),
                     "period": period_of(records, category)}
                )
        built_sections.append({"connector": connector, "title": title, "categories": entries})
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "generated_at": iso(generated_at),
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
        "sections": built_sections,
        "rights": [dict(right) for right in RIGHTS],
        "complaint": dict(COMPLAINT),
    }
