"""Finds the connectors installed in this environment through the `dsar.connectors` entry points,
and the connectors declared by the TOML files of the `CONNECTORS_DIR` folder.

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
from dsar.declarative import SpecError, load_folder

ENTRY_POINT_GROUP = "dsar.connectors"

log = logging.getLogger(__name__)


class ConnectorRegistry:
    """The connector classes this service runs, by name."""

    def __init__(self, classes: Mapping[str, type[Connector]]) -> None:
        """Holds the classes; use `discover` to find the installed ones."""
        self._classes = dict(sorted(classes.items()))

    @classmethod
    def discover(
        cls, eps: Iterable[EntryPoint] | None = None, *, declared: str | None = None
    ) -> ConnectorRegistry:
        """Loads every entry point of the group, and the connectors declared in the folder
        `declared` when given; a broken one is logged and left out."""
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
            if _shares_a_category(loaded, found):
                continue
            found[ep.name] = loaded
        return cls(found).with_declared(declared) if declared else cls(found)

    def with_declared(self, folder: str) -> ConnectorRegistry:
        """This registry and the connectors declared in the folder's `*.toml` files.

        A file that declares something wrong, or a name already taken, is logged and left
        out, as a broken entry point is.
        """
        found = dict(self._classes)
        try:
            declared = list(load_folder(folder))
        except NotADirectoryError:
            log.error("connectors_dir=%s state=broken reason=not-a-folder", folder)
            declared = []
        for path, loaded in declared:
            if isinstance(loaded, SpecError):
                log.error("connector=%s state=broken reason=invalid-declaration problem=%s",
                          path.name, loaded)
                continue
            if loaded.name in found:
                log.error("connector=%s state=broken reason=duplicate-name file=%s",
                          loaded.name, path.name)
                continue
            if _shares_a_category(loaded, found):
                continue
            found[loaded.name] = loaded
        return ConnectorRegistry(found)

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


def _shares_a_category(candidate: type[Connector], found: Mapping[str, type[Connector]]) -> bool:
    """Whether a connector declares a category name another one already has; it is then
    logged and left out. Retention rules, holds and a plan's decisions are keyed by the
    category's name: a second "orders" would be erased by the shop's orders rule, and its
    records mistaken for the shop's."""
    names = {category.name for category in candidate.categories}
    for other, cls in found.items():
        shared = names & {category.name for category in cls.categories}
        if shared:
            log.error("connector=%s state=broken reason=category-name-taken categories=%s "
                      "by=%s", candidate.name, ",".join(sorted(shared)), other)
            return True
    return False


def current_registry() -> ConnectorRegistry:
    """The connectors installed in this environment, and those declared in the
    `CONNECTORS_DIR` folder, as the running app found them at start-up."""
    reg: ConnectorRegistry = current_app.extensions["dsar.connectors"]
    return reg
