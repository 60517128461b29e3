"""Retention rules as data, checked as they are parsed (the file is read by dsar.work.rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_KEYS = {
    "policy", "on_erasure", "anchor", "retain_years", "pending", "keep", "legal_basis",
    "follows", "needs_no_contract", "contract",
}


@dataclass(frozen=True)
class RetentionRule:
    """What an erasure does to one category, and how long a legal duty keeps it."""

    category: str
    policy: str
    on_erasure: str
    anchor: str | None = None
    retain_years: int | None = None
    pending: str | None = None
    contract: str | None = None
    keep: tuple[str, ...] = ()
    legal_basis: str | None = None
    follows: tuple[str, str] | None = None  # (category, linking field)
    # For an account: the field by which contract records name it; blocked while one runs.
    needs_no_contract: str | None = None


class RetentionRulesError(ValueError):
    """The rules file says something the planner cannot act on."""


def parse_rules(data: Mapping[str, object]) -> dict[str, RetentionRule]:
    """Turns the parsed TOML into rules, refusing unknown keys and incomplete duties."""
    rules = {}
    for category, raw in data.items():
        if not isinstance(raw, dict):
            raise RetentionRulesError(f"[{category}] must be a table")
        unknown = set(raw) - _KEYS
        if unknown:
            names = ", ".join(sorted(unknown))
            raise RetentionRulesError(f"[{category}] has unknown keys: {names}")
        if raw.get("on_erasure") not in {"erase", "minimise"}:
            raise RetentionRulesError(f"[{category}] on_erasure must be 'erase' or 'minimise'")
        if raw["on_erasure"] == "minimise" and not (
            raw.get("anchor") and raw.get("retain_years") and raw.get("keep")
            and raw.get("legal_basis")
        ):
            raise RetentionRulesError(
                f"[{category}] a minimised category needs anchor, retain_years, keep "
                "and legal_basis"
            )
        follows = raw.get("follows")
        rules[category] = RetentionRule(
            category=category,
            policy=str(raw.get("policy", "")),
            on_erasure=raw["on_erasure"],
            anchor=raw.get("anchor"),
            retain_years=raw.get("retain_years"),
            pending=raw.get("pending"),
            contract=raw.get("contract"),
            keep=tuple(raw.get("keep", ())),
            legal_basis=raw.get("legal_basis"),
            follows=(follows["category"], follows["by"]) if follows else None,
            needs_no_contract=raw.get("needs_no_contract"),
        )
    return rules

