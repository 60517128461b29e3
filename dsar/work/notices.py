"""Art. 19: which recipients hear of an erasure or correction, and what each is told.

Chosen from the recipients register, never from who might have had something: a notice goes
only to a recipient that received the data changed (its category and fields, and for a
record the register's `when`), names each record by the identifiers that recipient knows
it by (a tracking number, a payment reference; never our internal ids), and says which of
the fields it received changed. Telling a recipient about data it never had would itself
disclose it (Art. 5(1)(c)).

A notice's items are kept as names and values (connector, category, fields); they are put
into words when the mail is written, in the recipient's language (`worded`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from flask_babel import gettext

from dsar.answer.readable import field_label, labels_of
from dsar.answer.wording import for_connector, localised
from dsar.connector import Outcome, Record
from dsar.models import DsarRequest
from dsar.policy.recipients import Receipt
from dsar.registry import current_registry
from dsar.transitions import record_event
from dsar.work import verifying
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
        _erased(notices, connector, item, asdict(outcome), changed)
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
        for outcome in result.get("outcomes", []):
            if outcome["done"] not in {"erased", "minimised"} or verifying.standing(
                    task, outcome["category"], outcome["key"])[0] == verifying.REFUSED:
                continue  # nothing changed that a recipient must hear of
            item = planned.get((task.connector, outcome["category"], outcome["key"]), {})
            changed = None if outcome["done"] == "erased" else list(outcome.get("fields", []))
            _erased(notices, task.connector, item, outcome, changed)
        if task.action == "rectify":
            for change in result.get("changes", []):
                if verifying.standing(task, change["category"], change["key"],
                                      change["field"])[0] != verifying.REFUSED:
                    _corrected(notices, request, task.connector, change)
    return dict(notices)


def _erased(notices: Notices, connector: str, item: Mapping[str, Any],
            outcome: Mapping[str, Any], changed: list[str] | None) -> None:
    """Adds an erased or minimised record to the notices of the recipients that had it.

    `changed` is the fields cleared, or None when the whole record went.
    """
    about = {"connector": connector, "category": outcome["category"]}
    receivers = item.get("receivers")
    if receivers is None:  # a plan made before the register: the connector's own word
        for name in outcome.get("recipients", []):
            notices[name].append({**about, "key": outcome["key"], "known": {},
                                  "fields": changed or []})
        return
    for receiver in receivers:
        if changed is None or "*" in receiver["fields"]:
            told = changed
        else:
            told = [f for f in changed if f in receiver["fields"]]
            if not told:
                continue  # only fields it never received were cleared: nothing to tell
        # None: the whole record went.
        notices[receiver["name"]].append({**about, "known": dict(receiver["known"]),
                                          "fields": told})


def worded(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A notice's items in words, in the language in force: what each record is, how the
    recipient knows it, which of its fields changed. Each connector's categories are put
    into words once, however many of its records the notice lists."""
    categories: dict[str, Any] = {}
    words = []
    for item in items:
        if "what" in item:  # owed before items were worded at sending: words as they were
            words.append(dict(item))
            continue
        if item["connector"] not in categories:
            categories[item["connector"]] = _categories(item["connector"])
        words.append(_worded(item, categories[item["connector"]]))
    return words


def _worded(item: Mapping[str, Any], category_of: Any) -> dict[str, Any]:
    """One item in words, its connector's categories found by `category_of`."""
    category = category_of(item["category"])
    labels = labels_of(category) if category else {}
    if item.get("email"):
        known = gettext("e-mail address %(address)s", address=item["email"])
    else:
        known = ", ".join(f"{field_label(labels, field)} {value}"
                          for field, value in item["known"].items()) or item.get("key", "")
    fields = item["fields"]
    return {
        "what": category.title if category else item["category"],
        "known": known,
        "fields": [gettext("all of it")] if fields is None else list(dict.fromkeys(
            field_label(labels, field) for field in fields)),
        "new": item.get("new"),
    }


def _corrected(notices: Notices, request: DsarRequest, connector: str,
               change: Mapping[str, Any]) -> None:
    """Adds a corrected field to the notices of the recipients that received it.

    A correction does not carry the record, so a receipt that depends on it (`when`, such
    as the payment method) cannot be settled here: the officer is asked to decide rather
    than the data being sent where it may never have gone.
    """
    key = f"{connector}.{change['category']}"
    receipts: list[tuple[str, Receipt]] = [
        (recipient.name, receipt)
        for recipient, receipt in recipients_register().of_category(key)
        if recipient.notices_to and ("*" in receipt.fields or change["field"] in receipt.fields)
    ]
    for name, receipt in receipts:
        if receipt.when is not None:
            record_event(request, "notice_for_officer", actor="system",
                         note=f"{name} may have received {key} {change['key']} "
                              f"({receipt.condition}): check, and tell them of the correction "
                              "if they did")
            continue
        # A recipient that knows the person by e-mail address is told that, not our key.
        by_address = any("email" in field for field in receipt.known_by)
        notices[name].append({"connector": connector, "category": change["category"],
                              "key": change["key"], "known": {},
                              "email": request.email if by_address else None,
                              "fields": [change["field"]], "new": change["new"]})


def _categories(connector: str) -> Any:
    """A function giving a connector's category by name, described in the language in
    force (None when it is not installed)."""
    try:
        cls = current_registry().get_class(connector)
    except KeyError:
        return {}.get
    words = for_connector(cls)
    return {c.name: localised(c, words) for c in cls.categories}.get
