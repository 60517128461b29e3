"""`python -m tests.bench [--scenarios A,B,C,D,E] [--quick] [--workers 2] [--seed N]`.

Runs the scenarios, prints the table (scenario, measure, median, spread, target, met?) with
notes and D's findings, and writes every figure and the machine to bench/results.json
(bench/results-quick.json for --quick, so a check never overwrites a full run's figures).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench import scenarios, workers
from tests.bench.compare import slower_than_committed
from tests.bench.report import (
    ROOT,
    Row,
    load_average,
    machine,
    now_iso,
    print_table,
    write_results,
)
from tests.bench.services import PG_SCHEMA, REDIS_DB, Stack
from tests.bench.shops import HEAVY_ORDERS, MAX_CUSTOMERS, default_subjects

ALL_SCENARIOS = ("A", "B", "C", "D", "E")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Times dsar end to end through real workers and prints a table.")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS),
                        help="which of A,B,C,D,E to run (A includes the floor A'); default all")
    parser.add_argument("--quick", action="store_true",
                        help="small counts: a whole run in a few minutes, to check it works")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="the shops' seed (default 1)")
    parser.add_argument("--worker-args", default="",
                        help="extra arguments for every `python worker.py`, e.g. "
                             "--worker-args=--max-jobs=0 (default: none, as production)")
    parser.add_argument("--heavy", default="",
                        help="B's order counts and repetitions, e.g. 1000x3,5000x2,10000x1")
    parser.add_argument("--shop-sizes", default="",
                        help="E's shop sizes, e.g. 10000,100000,1000000")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the results (default bench/results.json)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (databases, answers, logs)")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip().upper().rstrip("'") for s in args.scenarios.split(",")
                      if s.strip()]
    unknown = set(args.scenarios) - set(ALL_SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def make_plan(args: argparse.Namespace) -> scenarios.Plan:
    """The counts for this run."""
    plan = scenarios.Plan.quick_run() if args.quick else scenarios.Plan.full()
    try:
        if args.heavy:
            plan.heavy = [(int(n), int(r or 1)) for n, _, r in
                          (item.strip().partition("x") for item in args.heavy.split(","))]
        if args.shop_sizes:
            plan.shop_sizes = [int(n) for n in args.shop_sizes.split(",")]
    except ValueError:
        raise SystemExit("--heavy takes ORDERSxREPEATS,... and --shop-sizes N,...") from None
    for orders, repeats in plan.heavy:
        if orders not in HEAVY_ORDERS or repeats < 1:
            raise SystemExit(f"--heavy: the shops hold heavy customers with "
                             f"{', '.join(map(str, HEAVY_ORDERS))} orders; repeats >= 1")
    smallest = len(default_subjects()) + 100
    for size in plan.shop_sizes:
        if not smallest <= size <= MAX_CUSTOMERS:
            raise SystemExit(f"--shop-sizes: from {smallest} to {MAX_CUSTOMERS} customers")
    return plan


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; returns the exit status (0 even when targets are missed)."""
    args = parse_args(argv)
    plan = make_plan(args)
    workers.WORKER_ARGS[:] = shlex.split(args.worker_args)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)

    stray = sorted(k for k in os.environ if k.startswith("DSAR_") and not k.startswith(
        "DSAR_BENCH_"))
    for name in stray:  # the benchmark sets every DSAR_ setting it runs with
        del os.environ[name]
    stack = Stack.from_environment()
    load_start = load_average()
    began = now_iso()
    log(f"{'quick' if plan.quick else 'full'} run of {', '.join(args.scenarios)}; "
        f"load average {load_start}; dsar database: {stack.database_backend}"
        + (f" (schema {PG_SCHEMA})" if stack.database_url else "")
        + f"; Redis: {stack.redis_backend}"
        + (f" (db {stack.redis_url.rsplit('/', 1)[-1]})" if stack.redis_url else "")
        + f"; temporary folder {stack.folder}")
    if stray:
        log(f"ignoring DSAR_ settings from the environment: {', '.join(stray)}")
    bench = scenarios.Bench(plan, stack, args.workers, args.seed, log)
    wanted = set(args.scenarios)
    try:
        stack.start()
        if wanted & {"A", "B", "C"}:
            _guarded(bench, "A-C", lambda: scenarios.main_session(bench, wanted))
        if "D" in wanted:
            _guarded(bench, "D intake", lambda: scenarios.scenario_d(bench))
        if "E" in wanted:
            _guarded(bench, "E shops", lambda: scenarios.scenario_e(bench))
    except KeyboardInterrupt:
        log("interrupted; stopping the processes")
        bench.add(Row("-", "interrupted", "s", None, "-", "-", False))
    finally:
        bench.processes.stop_all()
        versions = stack.versions()
        stack.stop(keep_folder=args.keep)
    load_end = load_average()
    elapsed = time.monotonic() - started

    print()
    print_table(bench.rows)
    print()
    notes = [
        f"machine: {os.cpu_count()} cores; load average at start {load_start}, at end "
        f"{load_end}; run took {elapsed / 60:.1f} min"
        + (" (quick: counts shrunk, targets of other counts not judged)" if plan.quick else ""),
        f"backends: dsar database {stack.database_backend}, Redis {stack.redis_backend}, "
        "shop a copy of the cached SQLite file; workers: "
        f"{args.workers} x `{' '.join(['python', *workers.worker_command()[1:]])}`",
        "times run from DsarRequest.verified_at (the confirmation) to the moment the service "
        "recorded: JSON ready ("
        + str(bench.results.get("json_ready_source", "not measured in this run"))
        + "), answered_at (PDF stored), the answer mail's OutgoingMail.sent_at",
        *bench.notes,
    ]
    # Against the committed run, on the same machine (tests/bench/compare.py).
    against = ROOT / "bench" / ("results-quick.json" if plan.quick else "results.json")
    notes.extend(slower_than_committed(against, machine(versions), bench.rows))
    for note in notes:
        print(f"note: {note}")
    if bench.findings:
        print()
        print("D - where the intake's time goes:")
        for line in bench.findings:
            print(f"  - {line}")
    output = args.output or ROOT / "bench" / (
        "results-quick.json" if plan.quick else "results.json")
    payload: dict[str, Any] = {
        "date": began, "finished": now_iso(), "elapsed_s": round(elapsed, 1),
        "quick": plan.quick, "scenarios": args.scenarios, "seed": args.seed,
        "workers": args.workers, "worker_command": workers.worker_command()[1:],
        "plan": plan.__dict__,
        "machine": {**machine(versions), "load_average_start": load_start,
                    "load_average_end": load_end},
        "backend": {"dsar_database": stack.database_backend,
                    "postgresql_schema": PG_SCHEMA if stack.database_url else None,
                    "redis": stack.redis_backend,
                    "redis_db": (stack.redis_url.rsplit("/", 1)[-1] if stack.redis_url
                                 else None),
                    "redis_db_default": REDIS_DB,
                    "shop": "SQLite copy of bench/cache"},
        "rows": [row.__dict__ for row in bench.rows],
        "notes": notes,
        "findings": bench.findings,
        **bench.results,
    }
    write_results(output, payload)
    print(f"\nresults: {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


def _guarded(bench: scenarios.Bench, name: str, run: Any) -> None:
    """Runs a part of the benchmark; an error becomes a row, and the next part runs."""
    try:
        run()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded in the table and results.json, not hidden
        bench.failed(name, exc)


if __name__ == "__main__":
    sys.exit(main())
