"""This run against the committed one: which rows got slower beyond the committed spread.

Only on the same machine (its cores, memory and Python: the platform string also names the
virtual machine's build, which changes under the same hardware) and only rows whose
committed spread is known (p5-p95 or min-max of several values): one run says nothing about
its noise, so such rows are counted rather than judged. "Committed" is the file as the last
commit has it, not a run made since and not yet committed.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.bench.report import ROOT, Row

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


def _committed(path: Path) -> str:
    """The file as the last commit has it."""
    relative = path.resolve().relative_to(ROOT)
    return subprocess.run(["git", "show", f"HEAD:{relative}"], cwd=ROOT, check=True,  # noqa: S603,S607
                          capture_output=True, text=True).stdout


def slower_than_committed(previous_path: Path, machine: Mapping[str, Any],
                          rows: Sequence[Row]) -> list[str]:
    """Lines naming the rows measured worse than the committed run beyond its spread."""
    try:
        previous = json.loads(_committed(previous_path))
    except (OSError, ValueError, subprocess.CalledProcessError):
        return [f"no committed run to compare with ({previous_path.name})"]
    then = previous.get("machine", {})
    same = ("cores", "memory_total_mb", "python")
    if [then.get(key) for key in same] != [machine.get(key) for key in same]:
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
