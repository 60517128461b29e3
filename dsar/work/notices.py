"""Art. 19: which recipients hear of an erasure or correction, and what each is told.

Chosen from the recipients register, never from who might have had something: a notice goes
only to a recipient that received the data changed (its category and fields, and for a
record the register's `when`), names each record by the identifiers that recipient knows
it by (a tracking number, a payment reference; never our internal ids), and says which of
the fields it received changed. Telling a recipient about data it never had would itself
disclose it (Art. 5(1)(c)).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from dsar.answer.readable import field_label, labels_of
from dsar.connector import Category, Outcome, Record
from dsar.models import DsarRequest
from dsar.policy.recipients import Receipt
from dsar.registry import current_registry
from dsar.transitions import record_event
from dsar.work.rules import recipients_register

#: A notice's items, per recipient's name.
Notices = dict[str, list[dict[str, Any]]]


def receivers_of(connector: str, category: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """For a record planned for erasure: the recipients that received it and can be told,
    with the fields each received and the identifiers each knows it by. Kept in the plan,
    because the record itself is gone by the time the notices go."""
    receivers = []
    for recipient, receipt in recipients_register().of_category(f"{connector}.{category}"):
        if recipient.notices_to and receipt.covers(data):
            receivers.append({
                "name": recipient.name,
                "fields": list(receipt.fields),
                "known": {field: str(data[field]) for field in receipt.known_by
                          if data.get(field) not in (None, "")},
            })
    return receivers


def for_records(done: list[tuple[str, Record, Outcome]]) -> Notices:
    """The notices owed for records erased or minimised apart from a plan (an erasure that
    carried on once a contract ended), each given with what it held before."""
    notices: Notices = defaultdict(list)
    for connector, record, outcome in done:
        if outcome.done not in {"erased", "minimised"}:
            continue
        item = {"receivers": receivers_of(connector, record.category, record.data)}
        changed = None if outcome.done == "erased" else list(outcome.fields)
        category = _categories(connector)(record.category)
        _erased(notices, category, item, asdict(outcome), changed)
    return dict(notices)


def owed(request: DsarRequest) -> Notices:
    """The notices a concluded erasure or correction owes, per recipient."""
    notices: Notices = defaultdict(list)
    planned = {
        (connector, item.get("category"), item.get("key")): item
        for connector, items in (request.plan or {}).get("connectors", {}).items()
        for item in items
    }
    for task in request.tasks:
        result = task.result or {}
        category_of = _categories(task.connector)
        for outcome in result.get("outcomes", []):
            if outcome["done"] not in {"erased", "minimised"}:
                continue
            item = planned.get((task.connector, outcome["category"], outcome["key"]), {})
            changed = None if outcome["done"] == "erased" else list(outcome.get("fields", []))
            _erased(notices, category_of(outcome["category"]), item, outcome, changed)
        if task.action == "rectify":
            for change in result.get("changes", []):
                _corrected(notices, request, task.connector, category_of(change["category"]),
                           change)
    return dict(notices)


def _erased(notices: Notices, category: Category | None, item: Mapping[str, Any],
            outcome: Mapping[str, Any], changed: list[str] | None) -> None:
    """Adds an erased or minimised record to the notices of the recipients that had it.

    `changed` is the fields cleared, or None when the whole record went.
    """
    labels = labels_of(category) if category else {}
    title = category.title if category else outcome["category"]
    receivers = item.get("receivers")
    if receivers is None:  # a plan made before the register: the connector's own word
        for name in outcome.get("recipients", []):
            notices[name].append({"what": title, "known": outcome["key"],
                                  "fields": [field_label(labels, f) for f in changed or []]})
        return
    for receiver in receivers:
        if changed is None:  # the whole record went
            told = ["all of it"]
        elif "*" in receiver["fields"]:
            told = [field_label(labels, f) for f in changed]
        else:
            told = [field_label(labels, f) for f in changed if f in receiver["fields"]]
            if not told:
                continue  # only fields it never received were cleared: nothing to tell
        notices[receiver["name"]].append({
            "what": title,
            "known": ", ".join(f"{field_label(labels, f)} {value}"
                               for f, value in receiver["known"].items()),
            "fields": list(dict.fromkeys(told)),
        })


def _corrected(notices: Notices, request: DsarRequest, connector: str,
               category: Category | None, change: Mapping[str, Any]) -> None:
    """Adds a corrected field to the notices of the recipients that received it.

    A correction does not carry the record, so a receipt that depends on it (`when`, such
    as the payment method) cannot be settled here: the officer is asked to decide rather
    than the data being sent where it may never have gone.
    """
    labels = labels_of(category) if category else {}
    title = category.title if category else change["category"]
    key = f"{connector}.{change['category']}"
    receipts: list[tuple[str, Receipt]] = [
        (recipient.name, receipt)
        for recipient, receipt in recipients_register().of_category(key)
        if recipient.notices_to and ("*" in receipt.fields or change["field"] in receipt.fields)
    ]
    for name, receipt in receipts:
        if receipt.when is not None:
            record_event(request, "notice_for_officer", actor="system",
                         note=f"{name} may have received {title} {change['key']} "
                              f"({receipt.condition}): check, and tell them of the correction "
                              "if they did")
            continue
        # A recipient that knows the person by e-mail address is told that, not our key.
        known = (f"e-mail address {request.email}"
                 if any("email" in field for field in receipt.known_by) else change["key"])
        notices[name].append({"what": title, "known": known,
                              "fields": [field_label(labels, change["field"])],
                              "new": change["new"]})


def _categories(connector: str) -> Any:
    """A function giving a connector's category by name (None when it is not installed)."""
    try:
        declared = {c.name: c for c in current_registry().get_class(connector).categories}
    except KeyError:
        declared = {}
    return declared.get
