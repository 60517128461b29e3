"""`dsar db upgrade` one at a time: a deployment may start it on several machines at once, and
two runs of the same migration would fight over the same tables.

PostgreSQL: a session advisory lock on a connection of its own, held while the migrations
run; the others wait for it, then find nothing left to do. PostgreSQL lets it go by itself
if the process dies. SQLite: an exclusive file lock beside the database file. A SQLite
database lives on one machine (its locking does not hold over a network file system), so
only processes of that machine can meet there, and a file lock reaches all of them. An
in-memory database is one process's alone and needs none.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from dsar.extensions import db

#: The advisory lock's key: "dsar" in ASCII, so it is recognisable in pg_locks.
ADVISORY_KEY = 0x64736172


@contextmanager
def upgrade_lock() -> Iterator[None]:
    """Holds the database's upgrade lock for the duration of the block (in an app context),
    waiting for as long as another process holds it."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            # The lock belongs to the session, not the transaction: ending the transaction
            # leaves no idle transaction open for as long as the migrations take.
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": ADVISORY_KEY})
                connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        lock_file = Path(database).with_name(Path(database).name + ".upgrade-lock")
        with lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    yield
