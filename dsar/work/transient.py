"""Which failures may pass on their own: a system down, a timeout, a lock held too long.

Those are worth waiting out, for hours if need be; any other failure (a bug, a refused
query, bad data) will not go away by waiting and is tried only a few times.
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

from dsar.connector import TemporaryFailure

#: OS errors of a network or server that is away, not of a request that is wrong.
_PASSING_ERRNOS = frozenset({
    errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
    errno.ENETUNREACH, errno.ENETDOWN, errno.ETIMEDOUT, errno.EPIPE, errno.EAGAIN,
})

#: Database errors that SQLite and drivers report as "operational" but that waiting
#: never mends: the query itself is wrong.
_LASTING_WORDS = ("no such table", "no such column", "syntax error", "does not exist")


def is_temporary(exc: BaseException) -> bool:
    """Whether a failure, or any failure that caused it, looks like one that may pass."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _passes(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _passes(exc: BaseException) -> bool:
    """Whether this one failure, taken alone, may pass."""
    if isinstance(exc, TemporaryFailure | TimeoutError | ConnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError):
            message = str(exc.orig).lower()
            return not any(word in message for word in _LASTING_WORDS)
        return False
    return isinstance(exc, OSError) and exc.errno in _PASSING_ERRNOS
