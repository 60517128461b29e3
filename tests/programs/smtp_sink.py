"""An SMTP server that keeps what it receives as files: `python -m tests.programs.smtp_sink
PORT FOLDER`.

Each message accepted is written to FOLDER/<n>.eml before the server answers "250 OK".
While a file FOLDER/hang exists, the server accepts a message and then never answers the
client's QUIT: the mail has been taken, but the sender cannot know it yet, which is the
moment a fault test kills the sending worker.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    """Writes every message to a folder; hangs on QUIT while told to."""

    def __init__(self, folder: Path) -> None:
        """Numbers messages on from those already in the folder."""
        self.folder = folder
        self.numbers = itertools.count(len(list(folder.glob("*.eml"))) + 1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keeps the message whole, as it arrived."""
        path = self.folder / f"{next(self.numbers):04d}.eml"
        path.with_suffix(".tmp").write_bytes(envelope.content)
        path.with_suffix(".tmp").rename(path)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Says goodbye, unless told to keep the client waiting."""
        while (self.folder / "hang").exists():
            await asyncio.sleep(0.1)
        return "221 Bye"


def main() -> None:
    """Serves until SIGTERM."""
    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
