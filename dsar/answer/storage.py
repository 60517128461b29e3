"""Where answers are kept: a folder per request under REPORTS_DIR.

With the web app and workers on several machines, REPORTS_DIR is a volume they share.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import current_app

ANSWER_FILES = ("report.pdf", "report.json")


def answer_dir(request_id: str) -> Path:
    """The folder of one request's answer files."""
    if not request_id.isalnum():
        raise ValueError("request ids are alphanumeric")
    return Path(current_app.config["REPORTS_DIR"]) / request_id


def answer_path(request_id: str, filename: str) -> Path:
    """The path of one of a request's answer files."""
    if filename not in ANSWER_FILES:
        raise ValueError(f"no answer file called {filename!r}")
    return answer_dir(request_id) / filename


def write_atomically(path: Path, content: bytes) -> None:
    """Writes a file whole or not at all, so a crash never leaves half an answer behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
