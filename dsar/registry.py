"""Finds the connectors installed in this environment through the `dsar.connectors` entry points.

A connector in another installed package is picked up with no change to dsar. A connector
that fails to load is logged and skipped, so one broken plug-in does not take the service down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from flask import current_app

from dsar.connector import Connector

ENTRY_POINT_GROUP = "dsar.connectors"

log = logging.getLogger(__name__)


class ConnectorRegistry:
    """The connector classes this service runs, by name."""

    def __init__(self, classes: Mapping[str, type[Connector]]) -> None:
        """Holds the classes; use `discover` to find the installed ones."""
        self._classes = dict(sorted(classes.items()))

    @classmethod
    def discover(cls, eps: Iterable[EntryPoint] | None = None) -> ConnectorRegistry:
        """Loads every entry point of the group; a broken one is logged and left out."""
        found: dict[str, type[Connector]] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps:
            try:
                loaded = ep.load()
            except Exception:
                log.exception("connector=%s state=broken reason=import-failed", ep.name)
                continue
            if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
                log.error("connector=%s state=broken reason=not-a-connector", ep.name)
                continue
            if ep.name in found:
                log.error("connector=%s state=broken reason=duplicate-name", ep.name)
                continue
            found[ep.name] = loaded
        return cls(found)

    @property
    def names(self) -> list[str]:
        """The names of the connectors, sorted."""
        return list(self._classes)

    def create(self, name: str, settings: Mapping[str, Any]) -> Connector:
        """Returns a connector instance configured with the service's settings."""
        return self._classes[name](settings)

    def get_class(self, name: str) -> type[Connector]:
        """Returns the connector class of that name."""
        return self._classes[name]


def current_registry() -> ConnectorRegistry:
    """The connectors installed in this environment, as the running app discovered them."""
    reg: ConnectorRegistry = current_app.extensions["dsar.connectors"]
    return reg
