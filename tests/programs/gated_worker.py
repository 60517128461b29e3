"""dsar's worker with one connector, "gate", whose export waits at a gate the test opens:
`python -m tests.programs.gated_worker` with DSAR_TEST_GATE set to a folder.

When the export starts it writes `started-<pid>` into the folder, so the test knows which
worker to kill; it finishes once a file `open` is there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from dsar.connector import Category, Connector, Record, Subject
from dsar.registry import ConnectorRegistry

NOTES = Category(
    name="notes", title="Notes", fields=("text",), purpose="testing", legal_basis="none",
    recipients=(), retention="none", source="tests",
)


class GateConnector(Connector):
    """A system that answers only when the test lets it."""

    name = "gate"
    title = "Gated system"
    categories = (NOTES,)

    def export(self, subject: Subject) -> Iterator[Record]:
        """Says it started, waits for the gate, then finds one note."""
        gate = Path(os.environ["DSAR_TEST_GATE"])
        (gate / f"started-{os.getpid()}").write_text("")
        while not (gate / "open").exists():
            time.sleep(0.05)
        yield Record(category="notes", key="1", data={"text": "through the gate"})


def registry(*_args: object, **_kwargs: object) -> ConnectorRegistry:
    """The gate alone, in place of the installed connectors (and of any declared ones)."""
    return ConnectorRegistry({"gate": GateConnector})


if __name__ == "__main__":
    ConnectorRegistry.discover = staticmethod(registry)  # type: ignore[assignment,method-assign]
    import worker

    worker.main([])
