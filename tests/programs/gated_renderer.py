"""dsar's worker whose answer PDFs wait at a gate the test opens:
`python -m tests.programs.gated_renderer` with DSAR_TEST_GATE set to a folder.

When a PDF starts rendering it writes `started-<pid>` into the folder, so the test knows
which worker to kill mid-render; it renders once a file `open` is there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dsar.work import documents

_render = documents.render_answer


def gated_render(*args: Any, **kwargs: Any) -> bytes:
    """Says it started, waits for the gate, then renders as dsar does."""
    gate = Path(os.environ["DSAR_TEST_GATE"])
    (gate / f"started-{os.getpid()}").write_text("")
    while not (gate / "open").exists():
        time.sleep(0.05)
    return _render(*args, **kwargs)


if __name__ == "__main__":
    documents.render_answer = gated_render  # type: ignore[assignment]
    import worker

    worker.main([])
