"""Reads the retention rules from config/retention.toml, derived from the privacy policy."""

from __future__ import annotations

import tomllib
from pathlib import Path

from dsar.policy.retention import RetentionRule, parse_rules

RULES_FILE = Path(__file__).resolve().parents[2] / "config" / "retention.toml"


def load_rules(path: Path = RULES_FILE) -> dict[str, RetentionRule]:
    """Reads and checks the rules file."""
    with path.open("rb") as handle:
        return parse_rules(tomllib.load(handle))
