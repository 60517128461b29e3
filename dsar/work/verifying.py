"""Whether a connector did what it said: its records read again after it acted.

A connector's report is a claim, and a letter in the shop's name may say only what
happened. So after every action on a person's records dsar reads the records the action was
about again, through the connector (`Connector.verify`), and compares them with what was to
happen: `Decision.left_in` for an erasure or minimisation, `Change.made_in` for a
correction, `Category.stopped_field` for a withdrawal or restriction. A record that does
not match is "not carried out": its task waits for the privacy officer, who has it tried
again, does it by hand, or refuses that part with reasons (`resolved`). The letter is
written only from what passed, or from what the officer did by hand (`standing`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsar.clock import iso, utcnow
from dsar.connector import Change, Connector, Decision, Disposition, Record, Subject, is_cleared
from dsar.models import ConnectorTask

#: The actions whose proof is a field they set; erase and rectify are read back against
#: the plan, and the others (export, preview) only look.
STOPPING = frozenset({"withdraw_consent", "restrict"})

#: How the officer settled a record that was not carried out (`resolved`).
BY_HAND = "by_hand"
REFUSED = "refused"


@dataclass(frozen=True)
class Shortfall:
    """What an action left undone, found by reading its records again.

    Attributes:
        items: each record not carried out: its category and key, and what remains (the
            fields still holding data, or the field a correction did not reach).
        unprovable: the connector cannot show a withdrawal or restriction (none of its
            categories has a `stopped_field`): the officer must confirm it.
    """

    items: list[dict[str, Any]] = field(default_factory=list)
    unprovable: bool = False

    def __bool__(self) -> bool:
        return bool(self.items) or self.unprovable

    def said(self, title: str) -> str:
        """The task's message to the officer: what to look at, where."""
        if self.unprovable:
            listed = ", ".join(f"{item['category']} {item['key']}" for item in self.items[:10])
            return (f"{title} reported this done ({listed}) but cannot show it: check it "
                    "there, by hand, then complete this task, or refuse it with reasons")
        listed = "; ".join(_item_said(item) for item in self.items[:10])
        more = f"; and {len(self.items) - 10} more" if len(self.items) > 10 else ""
        return (f"not carried out in {title}, read again after it reported done: {listed}{more}."
                " Try it again, do it by hand, or refuse it with reasons")


def _item_said(item: Mapping[str, Any]) -> str:
    """One record not carried out, in the officer's words."""
    if "field" in item:
        return f"{item['category']} {item['key']} does not hold the new {item['field']}"
    if "unset" in item:
        return f"{item['category']} {item['key']} has no {item['unset']}"
    return f"{item['category']} {item['key']} still holds {', '.join(item['fields'])}"


def check(connector: Connector, action: str, subject: Subject, plan: Sequence[Any],
          result: Mapping[str, Any]) -> Shortfall:
    """Reads the records an action was about again, and says what it left undone.

    Args:
        connector: the connector that acted.
        action: the task's action; export and preview only look and need no check.
        subject: the person, as the action was given them.
        plan: the task's part of the approved plan: an erasure's `Decision`s, a
            correction's `Change`s. What was approved is checked, not what the connector
            reported: a correction it left out is as undone as one it got wrong.
        result: what the connector reported (a withdrawal's outcomes).
    """
    if action == "erase":
        return Shortfall(erasure_left(connector, subject, plan))
    if action == "rectify":
        return Shortfall(corrections_missing(connector, subject, plan))
    if action in STOPPING:
        return _not_stopped(connector, subject, result.get("outcomes", []))
    return Shortfall()


def erasure_left(connector: Connector, subject: Subject,
                 decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """The records an erasure or minimisation left holding what it was to clear."""
    acting = [d for d in decisions if d.disposition in (Disposition.ERASE, Disposition.MINIMISE)]
    if not acting:
        return []
    found = _read(connector, subject, [(d.category, d.key) for d in acting])
    left = []
    for decision in acting:
        fields = decision.left_in(found.get((decision.category, decision.key)))
        if fields:
            left.append({"category": decision.category, "key": decision.key,
                         "fields": list(fields)})
    return left


def corrections_missing(connector: Connector, subject: Subject,
                        changes: Sequence[Change]) -> list[dict[str, Any]]:
    """The corrections the connector reported made that its records do not hold."""
    if not changes:
        return []
    found = _read(connector, subject, [(c.category, c.key) for c in changes])
    return [{"category": c.category, "key": c.key, "field": c.field}
            for c in changes if not c.made_in(found.get((c.category, c.key)))]


def _not_stopped(connector: Connector, subject: Subject,
                 outcomes: Sequence[Mapping[str, Any]]) -> Shortfall:
    """The person's records in categories that show a withdrawal, still not showing it.

    A connector that cannot show it leaves each record it reported changed for the officer
    to confirm (or refuse); one that changed nothing has nothing to confirm.
    """
    proof = {c.name: c.stopped_field for c in connector.categories if c.stopped_field}
    if not proof:
        changed = [{"category": o["category"], "key": o["key"], "fields": []}
                   for o in outcomes if o["done"] in ("withdrawn", "restricted")]
        return Shortfall(changed, unprovable=bool(changed))
    left = [{"category": record.category, "key": record.key, "unset": proof[record.category]}
            for record in connector.verify(subject)
            if record.category in proof and is_cleared(record.data.get(proof[record.category]))]
    return Shortfall(left)


def _read(connector: Connector, subject: Subject,
          keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Record]:
    """The connector's records of the subject, and those with the given keys, by identity."""
    held: dict[str, list[str]] = defaultdict(list)
    for category, found in subject.held.items():
        held[category].extend(found)
    for category, key in keys:
        held[category].append(key)
    looked_up = Subject(email=subject.email, name=subject.name,
                        held={category: tuple(dict.fromkeys(found))
                              for category, found in held.items()})
    return {(record.category, record.key): record for record in connector.verify(looked_up)}


def resolved(task: ConnectorTask, *, how: str, actor: str, reason: str) -> dict[str, Any]:
    """The task's result with how the officer settled its records that were not carried
    out: done by hand (they say what they did) or refused (the reasons the person reads)."""
    return {**(task.result or {}),
            "resolution": {"how": how, "by": actor, "at": iso(utcnow()), "reason": reason}}


def fell_short(task: ConnectorTask) -> bool:
    """Whether the task's records did not read back as done: the officer may have it tried
    again, do it by hand, or refuse it."""
    return (task.result or {}).get("not_carried_out") is not None


def refused(task: ConnectorTask) -> bool:
    """Whether the officer refused the part of the task a connector did not carry out."""
    return ((task.result or {}).get("resolution") or {}).get("how") == REFUSED


def standing(task: ConnectorTask | None, category: str, key: str,
             field_name: str | None = None) -> tuple[str, str | None]:
    """How one record of a task stands for the letter: "done" (read again and found as it
    should be), "by_hand" (the officer did it), "refused", with the date or reasons, or
    "pending" while the officer has not settled it (no letter is written then)."""
    result = (task.result or {}) if task is not None else {}
    short = any(item["category"] == category and item["key"] == key
                and item.get("field", field_name) == field_name
                for item in result.get("not_carried_out", []))
    resolution = result.get("resolution")
    if not short:
        return "done", None
    if resolution is None:
        return "pending", None
    if resolution["how"] == REFUSED:
        return REFUSED, str(resolution["reason"])
    return BY_HAND, str(resolution["at"])[:10]
