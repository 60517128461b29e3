"""Figures, the table and results.json: medians with their spread, targets, the machine.

A `Row` is one line of the table: scenario, measure, median, spread, target, met. A figure
that could not be measured (a timeout, a failed request, an error) prints as such and never
meets its target; nothing is estimated or filled in.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The percentile by linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Figure:
    """A measure over repetitions: the values that were measured and how many were not."""

    values: list[float] = field(default_factory=list)
    #: Repetitions that gave no value (a timeout, a failure), by reason.
    reasons: dict[str, int] = field(default_factory=dict)

    def miss(self, reason: str, count: int = 1) -> None:
        """Counts repetitions that gave no value, and why."""
        self.reasons[reason] = self.reasons.get(reason, 0) + count

    @property
    def missing(self) -> int:
        """How many repetitions gave no value."""
        return sum(self.reasons.values())

    @property
    def why_missing(self) -> str:
        """Why, in a few words."""
        return ", ".join(f"{n} {reason}" for reason, n in self.reasons.items())

    @property
    def median(self) -> float | None:
        """The median of the measured values."""
        return percentile(self.values, 0.5) if self.values else None

    def p(self, fraction: float) -> float | None:
        """A percentile of the measured values."""
        return percentile(self.values, fraction) if self.values else None

    def summary(self) -> dict[str, Any]:
        """Every number, for results.json."""
        data: dict[str, Any] = {"n": len(self.values), "missing": self.missing}
        if self.why_missing:
            data["why_missing"] = self.why_missing
        if self.values:
            data.update(median=self.median, p5=self.p(0.05), p95=self.p(0.95),
                        min=min(self.values), max=max(self.values),
                        values=[round(v, 6) for v in self.values])
        return data


@dataclass
class Row:
    """One line of the table."""

    scenario: str
    measure: str
    unit: str
    median: float | None
    spread: str
    target: str = "-"
    met: bool | None = None  # None: no target, or not judged
    note: str = ""

    def cells(self) -> list[str]:
        """The printed cells."""
        met = {True: "yes", False: "NO", None: "-"}[self.met]
        value = "n/a" if self.median is None else fmt(self.median, self.unit)
        return [self.scenario, self.measure, value, self.spread, self.target, met]


def fmt(value: float, unit: str) -> str:
    """A figure with its unit, to a sensible precision."""
    if unit == "s":
        return fmt(value * 1000, "ms") if value < 1 else f"{value:.2f} s"
    if unit == "ms":
        if value < 10:
            return f"{value:.2f} ms"
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("pages", "requests"):
        return f"{value:,.0f} {unit}"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:,.1f} {unit}"


def spread_of(figure: Figure, unit: str, kind: str = "minmax") -> str:
    """The spread of a figure: min-max or p5-p95, with n and what is missing."""
    if not figure.values:
        return f"not measured: {figure.why_missing or 'nothing ran'}"
    if len(figure.values) == 1:
        text = "1 run"
    elif kind == "p5p95":
        text = (f"p5 {fmt(figure.p(0.05) or 0, unit)} / p95 {fmt(figure.p(0.95) or 0, unit)}"
                f", n={len(figure.values)}")
    else:
        text = (f"{fmt(min(figure.values), unit)} - {fmt(max(figure.values), unit)}"
                f", n={len(figure.values)}")
    if figure.missing:
        text += f"; not measured: {figure.why_missing}"
    return text


def judged(value: float | None, check: Callable[[float], bool], *, complete: bool = True
           ) -> bool | None:
    """Whether a figure meets its target; False when it is missing or incomplete."""
    if value is None or not complete:
        return False
    return bool(check(value))


def print_table(rows: Sequence[Row], out: Callable[[str], None] = print) -> None:
    """Prints the rows as an aligned table."""
    header = ["scenario", "measure", "median", "spread", "target", "met?"]
    table = [header] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    rule = "-+-".join("-" * w for w in widths)
    out(" | ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True)))
    out(rule)
    last = None
    for row, cells in zip(rows, table[1:], strict=True):
        if last is not None and row.scenario.split()[0] != last:
            out(rule)
        last = row.scenario.split()[0]
        out(" | ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)))


def _package_version(name: str) -> str | None:
    """An installed package's version."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine(stack_versions: dict[str, Any]) -> dict[str, Any]:
    """The machine and the software the run measured."""
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "weasyprint": _package_version("weasyprint"),
        "rq": _package_version("rq"),
        "gunicorn": _package_version("gunicorn"),
        "sqlalchemy": _package_version("sqlalchemy"),
        "redis_py": _package_version("redis"),
        "psycopg": _package_version("psycopg"),
        **stack_versions,
        "memory_total_mb": _mem_total_mb(),
        "git": _git(),
    }


def _mem_total_mb() -> int | None:
    """The machine's memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def _git() -> dict[str, Any]:
    """The commit measured, and whether the working tree had changes on top of it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S607
                                text=True, timeout=10, check=False).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT,  # noqa: S607
                                 capture_output=True, text=True, timeout=10,
                                 check=False).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit, "uncommitted_changes": len(changed)}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def write_results(path: Path, payload: dict[str, Any]) -> None:
    """Writes results.json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    """Turns what json cannot into what it can."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return str(value)


def now_iso() -> str:
    """The current moment, UTC, for the results."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def interpreter() -> str:
    """The Python that runs the benchmark."""
    return sys.executable
