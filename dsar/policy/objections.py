"""What a person may object to (Art. 21 GDPR), and what the officer may do with an objection
on grounds of their particular situation. Pure policy: no Flask, no database."""

from __future__ import annotations

from enum import StrEnum

from dsar.connector import translatable


class ObjectionTo(StrEnum):
    """The processing an objection is aimed at."""

    # Art. 21(2)-(3), with the withdrawal of consent (Art. 7(3)): stopped without weighing.
    DIRECT_MARKETING = "direct_marketing"
    # Art. 21(1): processing on legitimate interests, weighed against the person's situation.
    LEGITIMATE_INTERESTS = "legitimate_interests"


#: What each objection is, as the person reads it.
OBJECTION_TARGETS = {
    ObjectionTo.DIRECT_MARKETING: translatable(
        "Stop sending me offers and using my data for direct marketing (Art. 21(2))."),
    ObjectionTo.LEGITIMATE_INTERESTS: translatable(
        "Stop using my data where you rely on your legitimate interests, because of my "
        "particular situation (Art. 21(1))."),
}


class Stop(StrEnum):
    """How an upheld Art. 21(1) objection stops the processing of one category."""

    ERASE = "erase"  # through the retention planner: minimised where a legal duty applies
    RESTRICT = "restrict"  # kept, stored only (Art. 18)


def choice_problem(listed: set[str], choices: object) -> str | None:
    """Why the officer's choices for upholding an objection cannot be carried out, or None.

    Args:
        listed: the categories ("connector.category") the objection concerns.
        choices: per category, "erase" or "restrict", as the officer gave them.
    """
    if not isinstance(choices, dict):
        return "Give, per category, erase or restrict."
    stray = sorted(set(choices) - listed)
    if stray:
        return "Not among the categories this objection concerns: " + ", ".join(stray) + "."
    wrong = sorted(name for name, how in choices.items() if how not in set(Stop))
    if wrong:
        return "Say erase or restrict for: " + ", ".join(wrong) + "."
    missing = sorted(listed - set(choices))
    if missing:
        return "Choose erase or restrict for each category: " + ", ".join(missing) + "."
    return None
