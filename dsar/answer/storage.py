"""Where answers are kept: a folder per request under REPORTS_DIR.

With the web app and workers on several machines, REPORTS_DIR is a volume they share.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

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
    with open_atomically(path, binary=True) as handle:
        handle.write(content)


@contextmanager
def open_atomically(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file to write that appears whole at `path` when the block ends, or not at all.

    Only this service's user may read it: it holds personal data.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as handle:
            yield handle
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
