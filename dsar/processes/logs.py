"""Logging for dsar's processes: key=value lines on standard output, for a service manager
or a container runtime to collect."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def to_stdout() -> None:
    """Sends this process's log records, from INFO up, to standard output."""
    logging.basicConfig(level=logging.INFO, format=FORMAT, stream=sys.stdout)
