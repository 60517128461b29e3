"""This run against the committed one: which rows got slower beyond the committed spread.

Only on the same machine (cores and platform) and only rows whose committed spread is known
(p5-p95 or min-max of several values): one run says nothing about its noise, so such rows
are named as not compared rather than judged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.bench.report import Row

#: An amount as report.fmt writes it, and its unit.
_AMOUNT = r"([\d.,]+) ?(ms|s|MB|pages|requests|x|/min|/s|req/s)"
_LOW_HIGH = re.compile(rf"(?:p5 )?{_AMOUNT}(?: / p95 | - ){_AMOUNT}")
#: To seconds, so "900 ms" and "1.10 s" compare.
_SCALE = {"ms": 0.001, "s": 1.0}
#: Units of which more is better (rates); for the rest, less is better.
_MORE_IS_BETTER = ("/min", "/s", "req/s")


def _value(number: str, unit: str) -> float:
    """A printed amount as a number, times in seconds."""
    return float(number.replace(",", "")) * _SCALE.get(unit, 1.0)


def bounds(spread: str) -> tuple[float, float] | None:
    """The low and high end of a printed spread, None when it has none (one run)."""
    found = _LOW_HIGH.search(spread)
    if found is None:
        return None
    return _value(found.group(1), found.group(2)), _value(found.group(3), found.group(4))


def slower_than_committed(previous_path: Path, machine: Mapping[str, Any],
                          rows: Sequence[Row]) -> list[str]:
    """Lines naming the rows measured worse than the committed run beyond its spread."""
    try:
        previous = json.loads(previous_path.read_text())
    except (OSError, ValueError):
        return [f"no committed run to compare with ({previous_path.name})"]
    then = previous.get("machine", {})
    if (then.get("cores"), then.get("platform")) != (machine.get("cores"),
                                                      machine.get("platform")):
        return ["the committed run was on another machine: not compared"]
    committed = {(r["scenario"], r["measure"]): r for r in previous.get("rows", [])}
    lines, unjudged = [], 0
    for row in rows:
        old = committed.get((row.scenario, row.measure))
        if old is None or row.median is None or old.get("median") is None:
            continue
        spread = bounds(str(old.get("spread", "")))
        if spread is None:
            unjudged += 1
            continue
        low, high = spread
        median = row.median if row.unit not in _SCALE else row.median * (
            1.0 if row.unit == "s" else 0.001)
        worse = median < low if row.unit.endswith(_MORE_IS_BETTER) else median > high
        if worse:
            lines.append(f"slower than the committed run: {row.scenario} / {row.measure}: "
                         f"{row.median:g} {row.unit}, committed {old['median']:g} "
                         f"(spread {old['spread']})")
    if unjudged:
        lines.append(f"{unjudged} rows of one committed run not compared (no spread to judge)")
    return lines or ["no row slower than the committed run beyond its spread"]
