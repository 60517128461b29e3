"""The outcome of an erasure, correction, objection or restriction, and its letter.

Concluding a request does what follows from the connectors' work — holds for records kept
under a legal duty, the suppression entry, the notices to recipients (Art. 19) — and builds
the letter that tells the person what was done, what was kept, why and until when, what
was blocked, and who was told. Every step may run again without doing anything twice.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from dsar.answer.wording import FieldWords, category_title, connector_title, translate
from dsar.clock import iso, utcnow
from dsar.models import ConnectorTask, DsarRequest
from dsar.policy.grounds import RESTRICTION_GROUNDS
from dsar.policy.lifecycle import RequestType, TaskStatus
from dsar.policy.planner import reworded
from dsar.policy.rights import COMPLAINT, RIGHTS, worded
from dsar.transitions import record_event
from dsar.work import deferrals, holds, keeping, notices, objections, suppression, verifying
from dsar.work.content import LABELS_UNKNOWN
from dsar.work.notifier import get_notifier

OUTCOME_FORMAT = "cplus-dsar-outcome"
OUTCOME_VERSION = 1

def conclude(request: DsarRequest) -> dict[str, Any]:
    """Does what follows from the finished tasks and returns the outcome letter's data,
    its words in the language in force (`i18n.for_request`)."""
    kind = RequestType(request.type)
    outcome = _letter_frame(request)
    words = FieldWords()
    if kind is RequestType.ERASURE:
        _conclude_erasure(request, outcome, words)
        # Earlier answers are copies of the erased data: they go too, at once.
        keeping.delete_for_erasure(request)
    elif kind is RequestType.RECTIFICATION:
        _conclude_rectification(request, outcome, words)
    elif kind is RequestType.OBJECTION:
        outcome["consent_withdrawn"] = _done(request, "withdraw_consent", {"withdrawn"},
                                             outcome["refused"])
        if objections.erases(request):  # an Art. 21(1) objection upheld
            _conclude_erasure(request, outcome, words)
        outcome["objection"] = objections.conclude(request)
        _done(request, "restrict", {"restricted"}, outcome["refused"])  # refusals only
    elif kind is RequestType.RESTRICTION:
        outcome["restriction"] = {
            "ground": translate(_ground(request)),
            "marked": _done(request, "restrict", {"restricted"}, outcome["refused"]),
        }
    if kind is RequestType.ERASURE or objections.stops_offers(request):
        # Offers stay stopped even if a later import brings the address back.
        suppression.suppress(request.email, reason=str(kind))
        # Said only when no system was left sending them: a refused withdrawal is one.
        outcome["offers_stopped"] = not any(
            task.action == "withdraw_consent" and verifying.refused(task)
            for task in request.tasks)
    outcome["by_hand"] = [
        {"system": connector_title(t.connector), "action": t.action, "note": t.note}
        for t in request.tasks
        if t.note and not verifying.refused(t)
    ]
    outcome["recipients_told"] = _tell_recipients(request)
    if words.missing:
        # The letter names them in words all the same; the system should give them labels.
        record_event(request, LABELS_UNKNOWN, actor="system",
                     note=", ".join(sorted(words.missing)))
    return outcome


def _ground(request: DsarRequest) -> str:
    """The Art. 18(1) ground a restriction rests on, as the person reads it."""
    return RESTRICTION_GROUNDS.get(request.restriction_ground or "") or ""


def _letter_frame(request: DsarRequest) -> dict[str, Any]:
    """What every outcome letter holds, whatever the request type."""
    return {
        "format": OUTCOME_FORMAT,
        "version": OUTCOME_VERSION,
        "generated_at": iso(utcnow()),
        "language": request.language,
        "controller": {
            "name": current_app.config["CONTROLLER_NAME"],
            "contact": current_app.config["CONTROLLER_CONTACT"],
        },
        "request": {
            "id": request.id,
            "type": str(request.type),
            "received_at": iso(request.received_at),
            "due_at": iso(request.due_at),
            "verified_at": iso(request.verified_at),
            "approved_at": iso(request.approved_at),
        },
        "subject": {"email": request.email},
        "erased": [], "minimised": [], "blocked": [], "corrected": [],
        # Parts the officer refused, with reasons (Art. 12(4)): what a system did not carry
        # out and the shop will not do by hand.
        "refused": [],
        "consent_withdrawn": [], "restriction": None, "objection": None,
        "offers_stopped": False,
        "offer_to_end_subscription": False,
        "rights": [worded(right, translate) for right in RIGHTS],
        "complaint": worded(COMPLAINT, translate),
    }


def _conclude_erasure(request: DsarRequest, outcome: dict[str, Any],
                      words: FieldWords) -> None:
    """Sorts the plan into erased, minimised, blocked and refused, and holds what is kept.

    A record is said erased or minimised only when, read again, it showed it, or the
    officer did it by hand (`verifying.standing`).
    """
    acted = {task.connector: task for task in request.tasks if task.action == "erase"}
    for connector, decisions in (request.plan or {}).get("connectors", {}).items():
        for decision in decisions:
            item = {
                "system": connector_title(connector),
                "category": category_title(connector, decision["category"]),
                "key": decision["key"],
            }
            disposition = decision["disposition"]
            if disposition in {"erase", "minimise"}:
                read = _read_back(acted.get(connector), item, decision["category"],
                                  decision["key"], disposition, outcome["refused"])
                if read is None:
                    continue
                item = read
            if disposition == "erase":
                outcome["erased"].append(item)
            elif disposition in {"minimise", "retain"}:
                outcome["minimised"].append({
                    **item,
                    "kept": decision["keep_fields"],
                    "kept_labels": [words(connector, decision["category"], name)
                                    for name in decision["keep_fields"]],
                    "retained_until": decision["retain_until"],
                    "legal_basis": translate(basis) if (basis := decision["legal_basis"]) else None,
                    "reason": reworded(decision["reason"], translate),
                })
                holds.hold(request, connector, decision)
            else:
                # A contract that runs ends one day: the erasure then carries on by itself.
                carries_on = deferrals.defer(request, connector, decision)
                outcome["blocked"].append({**item,
                                           "reason": reworded(decision["reason"], translate),
                                           "carries_on": carries_on})
                if decision["category"] == "subscriptions":
                    # Ending it is the person's own way to have the erasure sooner: say so.
                    outcome["offer_to_end_subscription"] = True


def _conclude_rectification(request: DsarRequest, outcome: dict[str, Any],
                            words: FieldWords) -> None:
    """Lists every correction made, where: those read again and found, or made by hand."""
    for task in request.tasks:
        if task.action != "rectify":
            continue
        for change in (task.result or {}).get("changes", []):
            item = {
                "system": connector_title(task.connector),
                "category": category_title(task.connector, change["category"]),
                "key": change["key"], "field": change["field"],
                "field_label": words(task.connector, change["category"], change["field"]),
            }
            read = _read_back(task, item, change["category"], change["key"], "correct",
                              outcome["refused"], change["field"])
            if read is not None:
                outcome["corrected"].append({**read, "old": change["old"], "new": change["new"]})


def _read_back(task: ConnectorTask | None, item: dict[str, Any], category: str, key: str,
               what: str, refused: list[dict[str, Any]],
               field: str | None = None) -> dict[str, Any] | None:
    """A record's line in the letter as it read back (`verifying.standing`): as it is, or
    with the day the officer did it by hand; None when the officer refused it, which then
    goes to `refused` with the reasons."""
    how, said = verifying.standing(task, category, key, field)
    if how == verifying.REFUSED:
        refused.append({**item, "what": what, "reason": said})
        return None
    return {**item, "by_hand_on": said} if how == verifying.BY_HAND else item


def _done(request: DsarRequest, action: str, done: set[str],
          refused: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records an action changed, per system, as read again or done by hand; those
    whose change the officer refused go to `refused` instead."""
    listed = []
    for task in request.tasks:
        if task.action != action or task.status != TaskStatus.SUCCEEDED:
            continue
        for item in (task.result or {}).get("outcomes", []):
            if item["done"] not in done:
                continue
            record = _read_back(task, {
                "system": connector_title(task.connector),
                "category": category_title(task.connector, item["category"]),
                "key": item["key"]}, item["category"], item["key"], action, refused)
            if record is not None:
                listed.append(record)
    return listed


def _tell_recipients(request: DsarRequest) -> list[str]:
    """Owes each recipient that had changed data one notice (Art. 19); returns their names."""
    owed = notices.owed(request)
    notifier = get_notifier()
    for recipient, listed in sorted(owed.items()):
        notifier.notify(request, recipient, {"items": listed})
    return sorted(owed)
