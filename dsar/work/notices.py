"""Art. 19: which recipients hear of an erasure or correction, and what each is told.

Chosen from the recipients register, never from who might have had something: a notice goes
only to a recipient that received the data changed (its category and fields, and for a
record the register's `when`), names each record by the identifiers that recipient knows
it by (a tracking number, a payment reference; never our internal ids), and says which of
the fields it received changed. Telling a recipient about data it never had would itself
disclose it (Art. 5(1)(c)).

A notice's items are kept as names and values (connector, category, fields); they are put
into words when the mail is written, in the recipient's language (`worded`), one line per
identifier the recipient knows records by.

A record whose recipients depend on a value the register does not place (a payment method
no entry handles) is flagged to the officer when its plan is made (`flag_unplaced`).
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
#: The event that tells the officer of records that went to a recipient the register lacks.
RECIPIENTS_UNPLACED = "recipients_unplaced"


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
                "known": {field: str(data[field]).strip() for field in receipt.known_by
                          if data.get(field) not in (None, "")},
            })
    return receivers


def flag_unplaced(request: DsarRequest,
                  records: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> None:
    """Tells the officer, in one event, of the planned records that went to someone the
    register does not name: a value deciding who receives them (a payment method) that no
    entry handles, so that no notice would reach whoever it was.

    Args:
        request: the request whose plan is being made; the caller commits.
        records: (connector, category, key, data) of each record the plan acts on.
    """
    unplaced: dict[str, list[str]] = defaultdict(list)
    register = recipients_register()
    for connector, category, key, data in records:
        for field, value in register.unplaced(f"{connector}.{category}", data):
            unplaced[f"{connector}.{category} with {field.replace('_', ' ')} {value!r}"].append(
                key)
    if unplaced:
        record_event(request, RECIPIENTS_UNPLACED, actor="system", note="; ".join(
            f"{what} ({', '.join(keys)})" for what, keys in unplaced.items()))


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
                    item = planned.get((task.connector, change["category"], change["key"]), {})
                    _corrected(notices, request, task.connector, change, item)
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
        told: list[str] | None
        if changed is None:
            # The whole record went: all it received, listed should a line it shares with
            # a record that lost only some fields need them.
            told = None if "*" in receiver["fields"] else list(receiver["fields"])
        elif "*" in receiver["fields"]:
            told = changed
        else:
            told = [f for f in changed if f in receiver["fields"]]
            if not told:
                continue  # only fields it never received were cleared: nothing to tell
        notices[receiver["name"]].append({**about, "known": dict(receiver["known"]),
                                          "fields": told, "whole": changed is None})


def worded(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """A notice's items as the lines the recipient reads, in the language in force.

    Each line names records the way the recipient knows them (an order number, a tracking
    number, a payment reference) and says which of the fields it received changed:
    "order CP-2022-000149: e-mail address, payment method erased". Records it knows by the
    same identifiers share one line, so a recipient that knows the person by e-mail address
    reads that address once. Each connector's categories are put into words once, however
    many of its records the notice lists.
    """
    categories: dict[str, Any] = {}
    lines: dict[tuple[Any, ...], _Line] = {}
    for item in items:
        if "what" in item:  # owed before items were worded at sending: words as they were
            lines[("as worded", len(lines))] = _Line(_as_worded(item))
            continue
        if item["connector"] not in categories:
            categories[item["connector"]] = _categories(item["connector"])
        category = categories[item["connector"]](item["category"])
        labels = labels_of(category) if category else {}
        identity, record = _identified(item, labels)
        line = lines.setdefault(identity, _Line(record))
        fields = item["fields"]
        if "new" in item:
            for field in fields:
                values = line.corrected.setdefault(field_label(labels, field), {})
                values.setdefault(str(item["new"]))
            continue
        whole = item.get("whole", fields is None)
        line.partly = line.partly or not whole
        if fields is None:
            line.unlisted = True
        for field in fields or ():
            line.erased.setdefault(field, field_label(labels, field))
    return [line.text() for line in lines.values()]


class _Line:
    """One line of a notice: records as the recipient knows them, and what changed in them."""

    def __init__(self, record: str) -> None:
        self.record = record
        self.erased: dict[str, str] = {}  # field → label, in the order first met
        self.corrected: dict[str, dict[str, None]] = {}  # label → its fields' new values
        self.partly = False  # some record lost only some of its fields
        self.unlisted = False  # some record went whole, its fields not listed

    def text(self) -> str:
        """The line in words."""
        if self.corrected:
            changes = [gettext("%(field)s corrected to %(value)s", field=label,
                               value=", ".join(values))
                       for label, values in self.corrected.items()]
            return gettext("%(record)s: %(changes)s", record=self.record,
                           changes="; ".join(changes))
        if self.unlisted or (self.erased and not self.partly):
            return gettext("%(record)s: erased entirely", record=self.record)
        if self.erased:
            return gettext("%(record)s: %(fields)s erased", record=self.record,
                           fields=", ".join(dict.fromkeys(self.erased.values())))
        return self.record  # an Art. 21 notice: the record is named, nothing was changed


def _identified(item: Mapping[str, Any], labels: Mapping[str, str]
                ) -> tuple[tuple[Any, ...], str]:
    """How the recipient knows an item's record: a key that is the same for every record it
    knows by the same identifiers, whatever their case and spacing, and that in words."""
    if item.get("email"):
        address = str(item["email"]).strip()
        return (("email", address.casefold()),), gettext("e-mail address %(address)s",
                                                         address=address)
    known = item["known"]
    if not known:  # a plan made before the register: our key is all there is
        return (item["connector"], item["category"], item.get("key")), str(item.get("key", ""))
    identity = tuple((field, str(value).strip().casefold()) for field, value in known.items())
    return identity, ", ".join(f"{field_label(labels, field)} {str(value).strip()}"
                               for field, value in known.items())


def _as_worded(item: Mapping[str, Any]) -> str:
    """An item worded before notices were written per identifier, as it was worded then."""
    text = str(item["what"]) + (f", {item['known']}" if item.get("known") else "")
    if item.get("fields"):
        text += ": " + ", ".join(item["fields"])
    if item.get("new"):
        text += " (" + gettext("now: %(value)s", value=item["new"]) + ")"
    return text


def _corrected(notices: Notices, request: DsarRequest, connector: str,
               change: Mapping[str, Any], item: Mapping[str, Any]) -> None:
    """Adds a corrected field to the notices of the recipients that received it.

    The plan's `receivers` of the record (`item`), settled from the record as it stood
    (`Change.record`), say who had it and how they know it. A connector that does not give
    the record leaves a receipt that depends on it (`when`, such as the payment method)
    unsettled: the officer is asked to decide rather than the data being sent where it may
    never have gone.
    """
    receivers = item.get("receivers")
    if receivers is not None:
        for receiver in receivers:
            if "*" in receiver["fields"] or change["field"] in receiver["fields"]:
                notices[receiver["name"]].append({
                    "connector": connector, "category": change["category"],
                    "known": dict(receiver["known"]), "fields": [change["field"]],
                    "new": change["new"]})
        return
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
