"""Reads the rules kept as data in config/: the retention rules, derived from the privacy
policy, and the recipients register."""

from __future__ import annotations

import os
import tomllib
from functools import cache, lru_cache
from pathlib import Path

from dsar import resources
from dsar.policy.recipients import Register, parse_register
from dsar.policy.retention import RetentionRule, parse_rules
from dsar.registry import ConnectorRegistry, current_registry


def config_dir() -> Path:
    """The folder the retention rules and the recipients register are read from: the
    default files shipped with dsar, or DSAR_CONFIG_DIR, a folder of the shop's own (with
    both files in it)."""
    return Path(os.environ.get("DSAR_CONFIG_DIR") or resources.folder("config"))


@cache
def load_rules(path: Path | None = None) -> dict[str, RetentionRule]:
    """Reads and checks the rules file, once per process."""
    with (path or config_dir() / "retention.toml").open("rb") as handle:
        return parse_rules(tomllib.load(handle))


def retention_rules() -> dict[str, RetentionRule]:
    """The rules the planner decides by: the shop's file, and for categories it has no
    rule for, those the installed connectors declare (`Connector.retention_rules`)."""
    return _with_declared(current_registry())


@lru_cache(maxsize=8)
def _with_declared(registry: ConnectorRegistry) -> dict[str, RetentionRule]:
    """The shop's rules and the registry's connectors' own, once per registry: every answer
    reads them for each category."""
    rules = dict(load_rules())
    for name in registry.names:
        declared = registry.get_class(name).retention_rules
        extra = {category: dict(rule) for category, rule in declared.items()
                 if category not in rules}
        if extra:
            rules.update(parse_rules(extra))
    return rules


@cache
def recipients_register(path: Path | None = None) -> Register:
    """Reads and checks the recipients register, once per process."""
    with (path or config_dir() / "recipients.toml").open("rb") as handle:
        return parse_register(tomllib.load(handle))
