"""The suite's own rules: no test waits a fixed time for something to happen.

A fixed sleep is either too short on a loaded machine (the test fails for nothing) or too long
on a quiet one (the suite crawls). A test waits for the condition it needs instead, polling
with a deadline (`tests.faults.wait_for`), or moves the clock (time-machine) when what it
needs is time to pass. A sleep is accepted only as the pause of such a polling loop: inside a
`while`.
"""

from __future__ import annotations

import ast

from tests.helpers import ROOT

#: The test code the rule covers: dsar's suite and the example connector package's.
SUITES = (ROOT / "tests", ROOT / "examples" / "dsar-loyalty" / "tests")
#: Timing belongs to the benchmarks, which measure rather than wait.
NOT_TESTS = (ROOT / "tests" / "bench",)
#: Fixed sleeps allowed where a test checks a delay itself, as "path:function", each with why.
ALLOWED: dict[str, str] = {}


def fixed_sleeps(source: str) -> list[tuple[int, str]]:
    """The sleeps in `source` that are not the pause of a polling loop, as (line, function)."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str, in_loop: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function, in_loop = node.name, False
        elif isinstance(node, ast.While):
            in_loop = True
        elif isinstance(node, ast.Call) and _is_sleep(node.func) and not in_loop:
            found.append((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function, in_loop)

    visit(ast.parse(source), "<module>", False)
    return found


def _is_sleep(func: ast.expr) -> bool:
    """Whether a call is to `sleep` (time.sleep, asyncio.sleep, or a bare imported sleep)."""
    return (isinstance(func, ast.Attribute) and func.attr == "sleep") or (
        isinstance(func, ast.Name) and func.id == "sleep")


def test_the_rule_tells_a_fixed_wait_from_a_polling_pause():
    """The detector itself: a sleep to let something happen is found, a poll's pause is not."""
    waits = "import time\ndef test_x():\n    start()\n    time.sleep(4)\n    check()\n"
    polls = ("import time\ndef test_y():\n    while not done():\n        time.sleep(0.2)\n")
    awaits = "import asyncio\nasync def f():\n    await asyncio.sleep(1)\n"
    assert fixed_sleeps(waits) == [(4, "test_x")]
    assert fixed_sleeps(polls) == []
    assert fixed_sleeps(awaits) == [(3, "f")]


def test_no_test_waits_a_fixed_time():
    """Every sleep in the suites is the pause of a polling loop, or allowed by name."""
    offences = []
    for suite in SUITES:
        for path in sorted(suite.rglob("*.py")):
            if any(path.is_relative_to(folder) for folder in NOT_TESTS):
                continue
            place = path.relative_to(ROOT)
            for line, function in fixed_sleeps(path.read_text()):
                if f"{place}:{function}" not in ALLOWED:
                    offences.append(f"{place}:{line} in {function}()")
    assert not offences, (
        "these wait a fixed time; poll for the condition with tests.faults.wait_for, or move "
        "the clock with time_machine:\n" + "\n".join(offences))
