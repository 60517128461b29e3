"""Connectors made of configuration: a TOML file declares how a SQL database holds
personal data, and dsar builds the connector from it.

- `spec`: the file, parsed and checked into a pure `ConnectorSpec` (no database).
- `connector`: the `Connector` class built from a spec (SQLAlchemy Core, reflected tables).
- `loading`: every `*.toml` of the `CONNECTORS_DIR` folder as connector classes.
- `inspection`: what `dsar connector check` finds in the live database (tables, columns,
  indexes), read only.
- `scratch`: a scratch copy of the declared tables in a temporary SQLite file, seeded with
  made-up people, for the conformance kit; the live database is never written.

The file's format is described in `examples/loyalty/README.md`.
"""

from __future__ import annotations

from dsar.declarative.connector import DeclaredConnector, connector_class
from dsar.declarative.loading import load_folder
from dsar.declarative.spec import CategorySpec, ConnectorSpec, Match, SpecError, load_spec

__all__ = [
    "CategorySpec",
    "ConnectorSpec",
    "DeclaredConnector",
    "Match",
    "SpecError",
    "connector_class",
    "load_folder",
    "load_spec",
]
