"""How long to wait before trying again: doubling from a first delay up to a cap.

Mails and connector tasks that fail for a reason that may pass (a server down, a timeout)
are tried again and again, further apart each time but never more than the cap, so that an
outage of hours is ridden out without hammering the other side, and the first try after it
ends is never more than one cap away.
"""

from __future__ import annotations

#: Never less than this, so a zero setting cannot turn a retry into a busy loop.
MIN_DELAY = 1


def retry_delay(attempt: int, first: int, cap: int) -> int:
    """Seconds to wait after the `attempt`-th failed try (1 for the first failure).

    >>> [retry_delay(n, 30, 600) for n in range(1, 8)]
    [30, 60, 120, 240, 480, 600, 600]
    """
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    # Past 2**32 the cap has long been reached; stop the exponent before it grows huge.
    delay = first * 2 ** min(attempt - 1, 32)
    return max(MIN_DELAY, min(delay, cap))
