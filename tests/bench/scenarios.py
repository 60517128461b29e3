"""The scenarios A-E: what each does, and the rows it adds to the table.

A   a typical customer (20 orders, a subscription, notes), confirm -> answer mailed, one
    request at a time; A' the floor: the connectors' export() and bare SQL for the same rows.
B   heavy customers (1,000 / 5,000 / 10,000 orders): time, PDF pages, workers' peak memory.
C   a burst of verified access requests drained by the workers, then approved erasures.
D   the intake under gunicorn with concurrent keep-alive clients, and a profile of one.
E   one customer's access and erasure in shops of 10,000 to 1,000,000 customers.

A, B and C share one session (one shop copy, one dsar database, the same workers); D and
each shop size of E get sessions of their own.
"""

from __future__ import annotations

import io
import os
import sqlite3
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from tests.bench import intake
from tests.bench.flow import Driver, Timeline
from tests.bench.report import Figure, Row, judged, load_average, percentile, spread_of
from tests.bench.services import INTAKE_LIMIT, Session, Stack
from tests.bench.shops import Shop, ensure_shop, heavy_tag, typical_tag
from tests.bench.workers import (
    GUNICORN_AS_RUN,
    MemoryMonitor,
    Processes,
    Started,
    all_cpu,
    cpu_seconds,
    cpu_shares,
    descendants,
    exited,
    free_port,
    gunicorn_command,
    machine_cpu,
    wait_for_http,
    wait_for_workers,
    worker_command,
)

#: gunicorn as the benchmark proposes to start it: threads keep connections alive and
#: overlap the waits on the database and Redis.
GUNICORN_THREADED = ["--workers", "2", "--worker-class", "gthread", "--threads", "4",
                     "--access-logfile", "-"]


@dataclass
class Plan:
    """How much each scenario does; --quick shrinks it."""

    quick: bool
    base_shop: int = 10_000
    a_requests: int = 50
    floor_repeats: int = 3
    heavy: list[tuple[int, int]] = field(
        default_factory=lambda: [(1_000, 3), (5_000, 2), (10_000, 1)])
    burst: int = 200
    erasures: int = 50
    intake_seconds: float = 10.0
    intake_clients: int = 50
    shop_sizes: list[int] = field(default_factory=lambda: [10_000, 100_000, 1_000_000])
    e_access: int = 3
    e_erasures: int = 3
    request_timeout: float = 120.0
    heavy_timeout: float = 600.0
    #: A heavy repetition slower than this is not repeated at its size.
    heavy_repeat_budget: float = 180.0

    @classmethod
    def full(cls) -> Plan:
        """The full run."""
        return cls(quick=False)

    @classmethod
    def quick_run(cls) -> Plan:
        """A run of a few minutes, to check that everything works."""
        return cls(quick=True, a_requests=10, floor_repeats=2,
                   heavy=[(50, 1), (100, 1), (200, 1)], burst=30, erasures=10,
                   intake_seconds=3.0, shop_sizes=[10_000, 100_000], e_access=1, e_erasures=1,
                   heavy_timeout=300.0)


@dataclass
class Running:
    """A session with its shop copy and its workers running."""

    session: Session
    driver: Driver
    shop: Shop
    state: dict[str, list[Started]]
    monitor: MemoryMonitor
    restart: Callable[[], None]

    @property
    def workers(self) -> list[Started]:
        """The worker processes running now."""
        return self.state["workers"]


class Bench:
    """The run: its plan, backends, processes, and what it measured."""

    def __init__(self, plan: Plan, stack: Stack, workers: int, seed: int,
                 log: Callable[[str], None]) -> None:
        """Prepares a run."""
        self.plan = plan
        self.stack = stack
        self.workers = workers
        self.seed = seed
        self.log = log
        self.processes = Processes()
        self.rows: list[Row] = []
        self.results: dict[str, Any] = {}
        self.findings: list[str] = []
        self.notes: list[str] = []

    def shop(self, size: int) -> Shop:
        """The cached shop of that size (built when missing)."""
        shop = ensure_shop(size, self.seed, log=self.log)
        self.results.setdefault("shops", {})[str(size)] = {
            "file": shop.path.name, "cached": shop.cached, "counts": shop.counts,
            "build_seconds": round(shop.build_seconds, 1)}
        return shop

    @contextmanager
    def running(self, name: str, shop: Shop) -> Iterator[Running]:
        """A fresh session on a copy of the shop, with the workers started and stopped."""
        shop_file = self.stack.folder / name / "shop.db"
        session = self.stack.session(name, shop_file)
        shop.copy_to(shop_file)
        redis = self.stack.redis()
        state: dict[str, list[Started]] = {"workers": self._start_workers(session, redis)}

        def restart() -> None:
            problem = exited(state["workers"])
            if problem:
                self.log(f"  the workers stopped by themselves: {problem}")
                part = "A-C" if name == "main" else name
                self.notes.append(f"{part}: the workers stopped by themselves: {problem}. "
                                  "What was left was counted as not done; fresh workers "
                                  "were started for what followed.")
            self.log("  restarting the workers")
            self.processes.stop(state["workers"], grace=2.0)
            redis.flushdb()  # the jobs of the abandoned request go with them
            state["workers"] = self._start_workers(session, redis)

        monitor = MemoryMonitor(lambda: [w.pid for w in state["workers"]])
        try:
            with monitor:
                driver = Driver(session)
                driver.check = lambda: exited(state["workers"])
                self.results["json_ready_source"] = driver.json_source
                yield Running(session, driver, shop, state, monitor, restart)
                if driver.problems:
                    self.results.setdefault("worker_problems", []).extend(driver.problems)
        finally:
            self.processes.stop(state["workers"])
            redis.close()
            self.stack.close_session(session)

    def _start_workers(self, session: Session, redis: Redis) -> list[Started]:
        """Starts the workers and waits until each has registered."""
        started = self.processes.start_workers(self.workers, session.env, session.log_dir)
        try:
            wait_for_workers(redis, started)
        except RuntimeError:
            self.processes.stop(started, grace=2.0)
            raise
        return started

    def mark(self, part: str) -> None:
        """Records the load average as a part starts (the machine may be shared)."""
        self.results.setdefault("load_average_at", {})[part] = load_average()

    def add(self, row: Row) -> None:
        """Adds a row to the table."""
        self.rows.append(row)

    def failed(self, scenario: str, exc: BaseException) -> None:
        """Records that a scenario broke off: a row of its own, the traceback in the results."""
        message = str(exc).splitlines()[0] if str(exc) else ""
        self.add(Row(scenario, f"broke off: {type(exc).__name__}", "s", None,
                     message[:70] or "-", "-", False))
        self.results.setdefault("errors", {})[scenario] = traceback.format_exc()
        self.log(f"  {scenario} broke off: {type(exc).__name__}: {message} "
                 "(traceback in the results file)")


# -- helpers ---------------------------------------------------------------------------------


def _figure(lines: list[Timeline], start: str, end: str, ok: bool = True,
            need_pdf: bool = False, stuck: str = "timed out") -> Figure:
    """The seconds between two recorded moments over the requests, with what is missing."""
    figure = Figure()
    for line in lines:
        _collect(figure, line, start, end, ok, need_pdf, stuck)
    return figure


def _export_times(run: Running, tag: str, repeats: int) -> Figure:
    """Every connector's export() for one customer, in this process, `repeats` times."""
    from dsar.connector import Subject
    from dsar.policy.addresses import normalise_email
    from dsar.registry import ConnectorRegistry

    app = run.session.app
    assert app is not None
    registry = ConnectorRegistry.discover()
    connectors = [registry.create(name, app.config) for name in registry.names]
    subject = Subject(email=normalise_email(run.shop.email(tag)))
    figure = Figure()
    for connector in connectors:  # not counted: opens the connections, fills the caches
        list(connector.export(subject))
    for _ in range(repeats):
        started = time.perf_counter()
        for connector in connectors:
            for _record in connector.export(subject):
                pass
        figure.values.append(time.perf_counter() - started)
    return figure


def _collect(figure: Figure, line: Timeline, start: str, end: str, ok: bool,
             need_pdf: bool = False, stuck: str = "timed out") -> None:
    """Adds one request's seconds to a figure, or counts it as missing and why.

    With `need_pdf`, an answer that went out without its PDF (the service gave up on the
    document and sent the JSON alone) does not count.
    """
    value = line.seconds(start, end)
    why = ""
    if value is None:
        why = line.status if line.status in {"failed", "denied"} else (
            _short_reason(stuck) if not ok or not line.ended else f"no {end}")
    elif need_pdf and not line.with_pdf:
        why = "answered without PDF"
    if why or value is None:
        figure.miss(why)
    else:
        figure.values.append(value)


def _short_reason(stuck: str) -> str:
    """A reason short enough for the table's spread column."""
    return "not done: the workers exited" if "exited" in stuck else stuck


def _one(driver: Driver, email: str, kind: str, timeout: float) -> tuple[Timeline, bool]:
    """One request from submission to its end (an erasure is approved on the way)."""
    request_id = driver.submit(email, kind)
    driver.wait_verify_mails([request_id])
    driver.confirm(request_id)
    if kind == "erasure":
        lines, ok = driver.wait([request_id], lambda t: t.planned, timeout)
        if not ok or lines[request_id].status != "awaiting_approval":
            return lines[request_id], False
        driver.approve(request_id)
    lines, ok = driver.wait([request_id], lambda t: t.settled, timeout, interval=0.02)
    return lines[request_id], ok


def _warm_up(run: Running, tag: str, timeout: float) -> None:
    """One request that is not counted: the first job of a fresh worker pays for loading."""
    line, ok = _one(run.driver, run.shop.email(tag), "access", timeout)
    if not ok or not line.mailed:
        raise RuntimeError(f"the warm-up request did not complete ({line.status}, "
                           f"{line.failure or 'no failure recorded'}); see "
                           f"{run.session.log_dir}")


def _rate(count: int, start: Any, end: Any, per: float) -> float | None:
    """Requests per `per` seconds between two moments."""
    if count == 0 or start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    return count / seconds * per if seconds > 0 else None


# -- A and A' --------------------------------------------------------------------------------


def scenario_a(bench: Bench, run: Running) -> None:
    """A typical customer's access, one request at a time, and the floor beneath it."""
    plan, driver = bench.plan, run.driver
    tags = [typical_tag(i) for i in range(plan.a_requests)]
    bench.log(f"A: {len(tags)} access requests of typical customers, one at a time")
    ids = driver.submit_many([run.shop.email(t) for t in tags])
    driver.wait_verify_mails(ids)
    lines: list[Timeline] = []
    all_ok = True
    for request_id in ids:
        driver.confirm(request_id)
        got, ok = driver.wait([request_id], lambda t: t.settled, plan.request_timeout,
                              interval=0.02)
        lines.append(got[request_id])
        all_ok = all_ok and ok
        if not ok:
            run.restart()
    stuck = driver.stuck
    mailed = _figure(lines, "verified_at", "mailed_at", all_ok, need_pdf=True, stuck=stuck)
    json_ready = _figure(lines, "verified_at", "json_ready_at", all_ok, stuck=stuck)
    stored = _figure(lines, "verified_at", "pdf_at", all_ok, need_pdf=True, stuck=stuck)
    complete = mailed.missing == 0
    bench.results["A"] = {"requests": len(ids), "confirm_to_mailed": mailed.summary(),
                          "confirm_to_json_ready": json_ready.summary(),
                          "confirm_to_answer_stored": stored.summary(),
                          "json_ready_source": driver.json_source}
    bench.add(Row("A typical", "confirm -> answer mailed (p50)", "s", mailed.median,
                  spread_of(mailed, "s", "p5p95"), "p50 < 0.15 s",
                  judged(mailed.median, lambda v: v < 0.15, complete=complete)))
    bench.add(Row("A typical", "confirm -> JSON ready (p50)", "s", json_ready.median,
                  spread_of(json_ready, "s", "p5p95"), "p50 < 0.08 s",
                  judged(json_ready.median, lambda v: v < 0.08, complete=complete)))
    bench.add(Row("A typical", "confirm -> PDF ready (p50)", "s", stored.median,
                  spread_of(stored, "s", "p5p95"), "p50 < 0.6 s (stretch)",
                  judged(stored.median, lambda v: v < 0.6, complete=complete)))
    scenario_floor(bench, run, tags, mailed, json_ready)


def scenario_floor(bench: Bench, run: Running, tags: list[str], mailed: Figure,
                   json_ready: Figure) -> None:
    """A': the connectors' export() and hand-written SQL for the same customers' rows."""
    from dsar.connector import Subject
    from dsar.connectors.shop.database import email_variants
    from dsar.policy.addresses import normalise_email
    from dsar.registry import ConnectorRegistry

    bench.log("A': the floor: connectors' export() and bare SQL for the same rows")
    app = run.session.app
    assert app is not None
    registry = ConnectorRegistry.discover()
    connectors = [registry.create(name, app.config) for name in registry.names]
    emails = [normalise_email(run.shop.email(tag)) for tag in tags]
    exports = Figure()
    bare = Figure()
    records: dict[str, int] = {}
    rows_read: dict[str, int] = {}
    shop_file = run.session.shop_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(shop_file)
    try:
        for connector in connectors:  # not counted: opens the connections, fills the caches
            list(connector.export(Subject(email=emails[0])))
        _bare_sql(conn, email_variants(emails[0]))
        for _ in range(bench.plan.floor_repeats):
            for email in emails:
                started = time.perf_counter()
                count = 0
                for connector in connectors:
                    count += sum(1 for _ in connector.export(Subject(email=email)))
                exports.values.append(time.perf_counter() - started)
                records[email] = count
                started = time.perf_counter()
                rows = _bare_sql(conn, email_variants(email))
                bare.values.append(time.perf_counter() - started)
                rows_read[email] = rows
    finally:
        conn.close()
    bench.results["A_floor"] = {
        "connectors_export": exports.summary(), "bare_sql": bare.summary(),
        "records_per_customer": sorted(set(records.values())),
        "bare_sql_rows_per_customer": sorted(set(rows_read.values())),
        "connectors": registry.names,
    }
    bench.add(Row("A' floor", f"connectors' export(), {len(connectors)} connectors", "s",
                  exports.median, spread_of(exports, "s", "p5p95")))
    bench.add(Row("A' floor", "bare indexed SQL, same rows (8 SELECTs)", "s", bare.median,
                  spread_of(bare, "s", "p5p95")))
    for label, floor in (("connectors' export()", exports), ("bare SQL", bare)):
        for what, figure in (("answer mailed", mailed), ("JSON ready", json_ready)):
            ratio = (figure.median / floor.median
                     if figure.median is not None and floor.median else None)
            bench.results["A_floor"][f"A_{what}_over_{label}"] = ratio
            bench.add(Row("A' floor", f"A {what} / {label}", "x", ratio, "ratio of medians"))


def _bare_sql(conn: sqlite3.Connection, variants: list[str]) -> int:
    """The subject's rows in every table, by the shop's indexes; returns the rows read."""
    marks = ", ".join("?" for _ in variants)
    customers = conn.execute(
        f"SELECT * FROM customers WHERE lower(email) IN ({marks})", variants).fetchall()  # noqa: S608
    ids = [row[0] for row in customers]
    numbers = [row[1] for row in customers]
    id_marks = ", ".join("?" for _ in ids) or "NULL"
    number_marks = ", ".join("?" for _ in numbers) or "NULL"
    orders = conn.execute(
        "SELECT o.*, c.customer_number FROM orders o LEFT JOIN customers c "  # noqa: S608
        f"ON c.id = o.customer_id WHERE o.customer_id IN ({id_marks}) "
        f"OR lower(o.email) IN ({marks})", [*ids, *variants]).fetchall()
    order_ids = [row[0] for row in orders]
    order_marks = ", ".join("?" for _ in order_ids) or "NULL"
    lines = conn.execute(
        f"SELECT * FROM order_lines WHERE order_id IN ({order_marks})", order_ids).fetchall()  # noqa: S608
    shipments = conn.execute(
        f"SELECT * FROM shipments WHERE order_id IN ({order_marks})", order_ids).fetchall()  # noqa: S608
    subscriptions = conn.execute(
        f"SELECT * FROM subscriptions WHERE customer_id IN ({id_marks})", ids).fetchall()  # noqa: S608
    messages = conn.execute(
        f"SELECT * FROM contact_messages WHERE customer_number IN ({number_marks}) "  # noqa: S608
        f"OR lower(email) IN ({marks})", [*numbers, *variants]).fetchall()
    notes = conn.execute(
        f"SELECT * FROM support_notes WHERE customer_id IN ({id_marks}) "  # noqa: S608
        f"OR lower(email) IN ({marks})", [*ids, *variants]).fetchall()
    consents = conn.execute(
        f"SELECT * FROM marketing_consents WHERE customer_id IN ({id_marks}) "  # noqa: S608
        f"OR lower(email) IN ({marks})", [*ids, *variants]).fetchall()
    return sum(map(len, (customers, orders, lines, shipments, subscriptions, messages, notes,
                         consents)))


# -- B ----------------------------------------------------------------------------------------


def scenario_b(bench: Bench, run: Running) -> None:
    """Heavy customers: time to the answer, its pages, and the workers' peak memory."""
    plan, driver = bench.plan, run.driver
    results: dict[str, Any] = {}
    measured: dict[int, tuple[Figure, Figure, list[float], int | None]] = {}
    skip_rest = ""
    for orders, repeats in plan.heavy:
        email = run.shop.email(heavy_tag(orders))
        mailed, json_ready, pdf_ready = Figure(), Figure(), Figure()
        peaks: list[float] = []
        parts: list[dict[str, int]] = []
        pages: int | None = None
        note = ""
        if skip_rest:
            mailed.miss(skip_rest, repeats)
            json_ready.miss(skip_rest, repeats)
            pdf_ready.miss(skip_rest, repeats)
        for repeat in range(0 if skip_rest else repeats):
            bench.log(f"B: {orders:,} orders, repetition {repeat + 1} of {repeats}")
            request_id = driver.submit(email)
            driver.wait_verify_mails([request_id])
            began = time.monotonic()
            with run.monitor.window() as window:
                driver.confirm(request_id)
                got, ok = driver.wait([request_id], lambda t: t.settled, plan.heavy_timeout,
                                      interval=0.1)
            line = got[request_id]
            peaks.append(window.peak_kb / 1024)
            parts.append({"worker_rss_mb": round(window.known_peak_kb / 1024),
                          "started_processes_hwm_mb": round(window.new_peak_kb / 1024),
                          "processes": window.processes})
            _collect(mailed, line, "verified_at", "mailed_at", ok, need_pdf=True,
                     stuck=driver.stuck)
            _collect(json_ready, line, "verified_at", "json_ready_at", ok, stuck=driver.stuck)
            _collect(pdf_ready, line, "verified_at", "pdf_at", ok, need_pdf=True,
                     stuck=driver.stuck)
            if not ok:
                run.restart()
                skip_rest = f"skipped: {orders:,} orders not done ({_short_reason(driver.stuck)})"
                break
            if pages is None and line.with_pdf:
                pages = _pdf_pages(driver.answer_file(request_id, "report.pdf"))
            if time.monotonic() - began > plan.heavy_repeat_budget and repeat + 1 < repeats:
                note = (f"{repeat + 1} of {repeats} repetitions: one took more than "
                        f"{plan.heavy_repeat_budget:.0f} s")
                break
        measured[orders] = (mailed, json_ready, peaks, pages)
        results[str(orders)] = {"confirm_to_mailed": mailed.summary(),
                                "confirm_to_json_ready": json_ready.summary(),
                                "confirm_to_pdf_ready": pdf_ready.summary(),
                                "peak_memory_mb": peaks, "peak_memory_parts": parts,
                                "pdf_pages": pages, "note": note}
        complete = mailed.missing == 0
        middle = plan.heavy[len(plan.heavy) // 2][0] if len(plan.heavy) > 1 else None
        target, met = "-", None
        if orders == 5_000:
            target, met = "< 2 s", judged(mailed.median, lambda v: v < 2, complete=complete)
        elif orders == middle and plan.quick:
            target = "(5,000: < 2 s)"
        spread = spread_of(mailed, "s") + (f"; {note}" if note else "")
        bench.add(Row("B heavy", f"confirm -> answer mailed, {orders:,} orders", "s",
                      mailed.median, spread, target, met))
        bench.add(Row("B heavy", f"confirm -> JSON ready, {orders:,} orders", "s",
                      json_ready.median, spread_of(json_ready, "s")))
        five_thousand = orders == 5_000
        bench.add(Row("B heavy", f"confirm -> PDF ready, {orders:,} orders", "s",
                      pdf_ready.median, spread_of(pdf_ready, "s"),
                      "< 10 s" if five_thousand else "-",
                      judged(pdf_ready.median, lambda v: v < 10) if five_thousand else None))
        bench.add(Row("B heavy", f"PDF pages, {orders:,} orders", "pages",
                      float(pages) if pages is not None else None,
                      "read with pypdf" if pages is not None else "no PDF",
                      "<= 40" if five_thousand else "-",
                      judged(float(pages) if pages is not None else None, lambda v: v <= 40)
                      if five_thousand else None))
        peak = Figure(values=list(peaks))
        bench.add(Row("B heavy", f"workers' peak memory, {orders:,} orders", "MB",
                      max(peaks) if peaks else None, spread_of(peak, "MB"), "< 300 MB",
                      judged(max(peaks) if peaks else None, lambda v: v < 300)))
    bench.results["B"] = results
    counts = [orders for orders, _ in plan.heavy]
    if len(counts) >= 2:
        big, mid = counts[-1], counts[-2]
        a, b = measured[big][0].median, measured[mid][0].median
        ratio = a / b if a is not None and b else None
        bench.results["B"][f"time_{big}_over_{mid}"] = ratio
        bench.add(Row("B heavy", f"time {big:,} / {mid:,} orders", "x", ratio,
                      f"{big // mid}x the orders", "<= 2.2x", judged(ratio, lambda v: v <= 2.2)))
        small_peaks, big_peaks = measured[counts[0]][2], measured[big][2]
        growth = (max(big_peaks) / max(small_peaks)) if small_peaks and big_peaks else None
        bench.results["B"][f"memory_{big}_over_{counts[0]}"] = growth
        bench.add(Row("B heavy", f"peak memory {big:,} / {counts[0]:,} orders", "x", growth,
                      f"{big // counts[0]}x the orders", "<= 1.25x (flat)",
                      judged(growth, lambda v: v <= 1.25)))


def _pdf_pages(content: bytes | None) -> int | None:
    """The pages of a PDF, read with pypdf."""
    if not content:
        return None
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(content)).pages)


# -- C ----------------------------------------------------------------------------------------


def scenario_c(bench: Bench, run: Running) -> None:
    """A burst of verified access requests, then a batch of approved erasures."""
    plan, driver = bench.plan, run.driver
    access_tags = [typical_tag(50 + i) for i in range(min(plan.burst, 200))]
    erasure_tags = [typical_tag(250 + i) for i in range(min(plan.erasures, 50))]
    bench.log(f"C: {len(access_tags)} access requests confirmed at once, "
              f"then {len(erasure_tags)} erasures")
    access_ids = driver.submit_many([run.shop.email(t) for t in access_tags])
    erasure_ids = driver.submit_many([run.shop.email(t) for t in erasure_tags], "erasure")
    driver.wait_verify_mails(access_ids + erasure_ids, timeout=300)
    timeout = max(300.0, len(access_ids) * 10.0 / bench.workers)
    for request_id in access_ids:
        driver.confirm(request_id)
    lines, ok = driver.wait(access_ids, lambda t: t.settled, timeout, interval=0.25)
    done = list(lines.values())
    first = min((t.verified_at for t in done if t.verified_at), default=None)
    json_times = [t.json_ready_at for t in done if t.json_ready_at]
    pdf_times = [t.pdf_at for t in done if t.pdf_at and t.with_pdf]
    json_rate = _rate(len(json_times), first, max(json_times, default=None), 60)
    pdf_rate = _rate(len(pdf_times), first, max(pdf_times, default=None), 60)
    latency = _figure(done, "verified_at", "mailed_at", ok, need_pdf=True, stuck=driver.stuck)
    reason = _short_reason(driver.stuck)
    json_missing, pdf_missing = (
        f"; {len(access_ids) - count} of {len(access_ids)} without {what} ({reason})"
        if count < len(access_ids) else ""
        for count, what in ((len(json_times), "JSON"), (len(pdf_times), "PDF")))
    bench.results["C"] = {"access_requests": len(access_ids), "json_per_min": json_rate,
                          "pdf_per_min": pdf_rate, "all_done": ok,
                          "json_ready": len(json_times), "answered_with_pdf": len(pdf_times),
                          "confirm_to_mailed_under_burst": latency.summary()}
    bench.add(Row("C burst", f"JSON answers/min, {len(access_ids)} requests", "/min", json_rate,
                  f"1 burst, {bench.workers} workers{json_missing}", ">= 600/min",
                  judged(json_rate, lambda v: v >= 600, complete=not json_missing)))
    bench.add(Row("C burst", f"PDF-done answers/min, {len(access_ids)} requests", "/min",
                  pdf_rate, f"1 burst, {bench.workers} workers{pdf_missing}", ">= 240/min",
                  judged(pdf_rate, lambda v: v >= 240, complete=ok and not pdf_missing)))
    bench.add(Row("C burst", "confirm -> answer mailed under the burst", "s", latency.median,
                  spread_of(latency, "s", "p5p95")))

    if not ok:
        run.restart()
    for request_id in erasure_ids:
        driver.confirm(request_id)
    lines, planned_ok = driver.wait(erasure_ids, lambda t: t.planned, timeout, interval=0.25)
    waiting = [i for i, t in lines.items() if t.status == "awaiting_approval"]
    for request_id in waiting:
        driver.approve(request_id)
    lines, ok = driver.wait(erasure_ids, lambda t: t.ended, timeout, interval=0.25)
    done = list(lines.values())
    approved = min((t.approved_at for t in done if t.approved_at), default=None)
    answered = [t.answered_at for t in done if t.answered_at and t.status == "completed"]
    rate = _rate(len(answered), approved, max(answered, default=None), 1)
    complete = ok and planned_ok and len(answered) == len(erasure_ids)
    plans = _figure(done, "verified_at", "plan_ready_at", planned_ok, stuck=driver.stuck)
    missing = "" if complete else f"; {len(erasure_ids) - len(answered)} of " \
                                  f"{len(erasure_ids)} not completed"
    bench.results["C"].update({"erasures": len(erasure_ids), "erasures_per_s": rate,
                               "erasures_completed": len(answered),
                               "confirm_to_plan_ready": plans.summary()})
    bench.add(Row("C burst", f"approved erasures/s, {len(erasure_ids)} erasures", "/s", rate,
                  f"approval -> outcome stored, 1 batch{missing}", ">= 3/s",
                  judged(rate, lambda v: v >= 3, complete=complete)))
    bench.add(Row("C burst", "erasure confirm -> plan ready (before approval)", "s",
                  plans.median, spread_of(plans, "s", "p5p95")))


# -- D ----------------------------------------------------------------------------------------


def scenario_d(bench: Bench) -> None:
    """The intake under gunicorn with concurrent keep-alive clients; then a profile."""
    plan = bench.plan
    bench.mark("D")
    session = bench.stack.session("intake", None)
    servers: list[intake.ServerLoad] = []
    bench.results["D"] = {"intake_rate_limit_setting": f"DSAR_RATELIMIT_INTAKE={INTAKE_LIMIT}",
                          "clients": plan.intake_clients, "seconds": plan.intake_seconds}
    bench.notes.append(f"D: the intake limit is set to DSAR_RATELIMIT_INTAKE=\"{INTAKE_LIMIT}\" "
                       "for the benchmark (default: 10 per hour per address); the limiter "
                       "still counts every request in Redis. No RQ workers run during D.")
    try:
        for label, options in (("as `dsar run` (2 sync workers)", GUNICORN_AS_RUN),
                               ("2 gthread workers x 4 threads", GUNICORN_THREADED)):
            bench.log(f"D: intake under gunicorn {label}, {plan.intake_clients} clients, "
                      f"{plan.intake_seconds:.0f} s")
            port = free_port()
            child = bench.processes.start(f"gunicorn-{len(servers) + 1}",
                                          gunicorn_command(port, options), session.env,
                                          session.log_dir)
            try:
                wait_for_http(port, child)
                pids = [child.pid, *descendants(child.pid)]
                cpu_before, machine_before = cpu_seconds(pids), machine_cpu()
                everyone = all_cpu()
                client_before, wall_before = time.process_time(), time.perf_counter()
                load = intake.run_load(port, plan.intake_clients, plan.intake_seconds,
                                       warmup=1.0, label=f"g{len(servers)}")
                wall = time.perf_counter() - wall_before
                client_cpu = (time.process_time() - client_before) / wall
                cpu = cpu_seconds(pids) - cpu_before
                busy, total = (a - b for a, b in zip(machine_cpu(), machine_before,
                                                     strict=True))
                shares = cpu_shares(everyone, all_cpu(), {*pids, os.getpid()}, wall)
            finally:
                bench.processes.stop([child])
            server = intake.ServerLoad(
                label, load,
                cpu_ms_per_request=cpu * 1000 / load.responses if load.responses else None,
                machine_busy=busy / total if total else None, client_cpu=client_cpu,
                redis_cpu=shares["redis-server"], others_cpu=shares["other processes"])
            servers.append(server)
            _intake_rows(bench, server, options)
        bench.log("D: profiling one intake request in-process")
        assert session.app is not None
        profile = intake.profile_intake(session.app, requests=100 if plan.quick else 300)
        bench.results["D"]["profile"] = {
            "requests": profile.requests, "wall_ms_per_request": profile.wall_ms,
            "profiled_ms_per_request": profile.profiled_ms, "parts_ms": profile.parts_ms,
            "engine_ms": profile.engine_ms, "calls_per_request": profile.calls,
            "top_own_time_ms": profile.top}
    finally:
        bench.stack.close_session(session)
    bench.findings = intake.findings(servers, profile, plan.intake_clients, percentile)
    bench.results["D"]["findings"] = bench.findings


def _intake_rows(bench: Bench, server: intake.ServerLoad, options: list[str]) -> None:
    """The rows of one gunicorn configuration."""
    label, load = server.label, server.load
    latencies = Figure(values=[v * 1000 for v in load.latencies])
    other = {k: v for k, v in load.statuses.items() if k != 202}
    trouble = []
    if other:
        trouble.append("other answers: " + ", ".join(f"{n}x {k}" for k, n in other.items()))
    if load.errors:
        trouble.append(f"{load.errors} connection errors")
    suffix = ("; " + "; ".join(trouble)) if trouble else ""
    p99 = percentile(latencies.values, 0.99) if latencies.values else None
    bench.results["D"][label] = {
        "gunicorn_options": options, "accepted": load.accepted, "req_per_s": load.rate,
        "per_second": load.per_second, "statuses": load.statuses, "errors": load.errors,
        "connections_opened": load.reconnects, "retried_on_closed_connection": load.retried,
        "latency_ms": latencies.summary(),
        "latency_p99_ms": p99, "gunicorn_cpu_ms_per_request": server.cpu_ms_per_request,
        "machine_busy_share": server.machine_busy, "client_cpu_cores": server.client_cpu,
        "redis_server_cpu_cores": server.redis_cpu, "other_processes_cpu_cores": server.others_cpu}
    clean = not other and not load.errors
    rate_spread = (f"per second {min(load.per_second)}-{max(load.per_second)}"
                   if load.per_second else "-")
    bench.add(Row("D intake", f"req/s, {label}", "req/s", load.rate if load.accepted else None,
                  rate_spread + suffix, ">= 300 req/s",
                  judged(load.rate, lambda v: v >= 300, complete=clean)))
    bench.add(Row("D intake", f"latency p50, {label}", "ms", latencies.median,
                  spread_of(latencies, "ms", "p5p95")))
    bench.add(Row("D intake", f"latency p99, {label}", "ms", p99,
                  f"max {max(latencies.values):.0f} ms" if latencies.values else "-",
                  "p99 < 100 ms", judged(p99, lambda v: v < 100, complete=clean)))


# -- E ----------------------------------------------------------------------------------------


def scenario_e(bench: Bench) -> None:
    """One customer's access and one erasure, in shops of growing size."""
    plan = bench.plan
    per_size: dict[int, dict[str, Figure]] = {}
    for size in plan.shop_sizes:
        bench.mark(f"E {size}")
        shop = bench.shop(size)
        bench.log(f"E: shop of {size:,} customers: {plan.e_access} access, "
                  f"{plan.e_erasures} erasure(s)")
        figures = {"json": Figure(), "answered": Figure(), "erasure": Figure(),
                   "export": Figure()}
        try:
            with bench.running(f"shop-{size}", shop) as run:
                _warm_up(run, typical_tag(298), plan.request_timeout)
                figures["export"] = _export_times(run, typical_tag(0), 7)
                for _ in range(plan.e_access):
                    line, ok = _one(run.driver, shop.email(typical_tag(0)), "access",
                                    plan.request_timeout)
                    _collect(figures["json"], line, "verified_at", "json_ready_at", ok,
                             stuck=run.driver.stuck)
                    _collect(figures["answered"], line, "verified_at", "pdf_at", ok,
                             need_pdf=True, stuck=run.driver.stuck)
                    if not ok:
                        run.restart()
                for n in range(plan.e_erasures):
                    line, ok = _one(run.driver, shop.email(typical_tag(297 - n)), "erasure",
                                    plan.request_timeout)
                    _collect(figures["erasure"], line, "approved_at", "answered_at", ok,
                             stuck=run.driver.stuck)
                    if not ok:
                        run.restart()
        except Exception as exc:  # one size failing still lets the others be measured
            bench.failed(f"E {_short(size)}", exc)
            for figure in figures.values():
                if not figure.values and not figure.missing:
                    figure.miss("broke off")
        per_size[size] = figures
        for key, label in (("export", "connectors' export() alone"),
                           ("json", "access confirm -> JSON ready"),
                           ("answered", "access confirm -> answered (PDF stored)"),
                           ("erasure", "erasure approval -> outcome stored")):
            figure = figures[key]
            bench.add(Row(f"E {_short(size)}", f"{label}, {size:,} customers", "s",
                          figure.median, spread_of(figure, "s")))
    bench.results["E"] = {str(size): {k: f.summary() for k, f in figures.items()}
                          for size, figures in per_size.items()}
    if len(plan.shop_sizes) >= 2:
        small, big = plan.shop_sizes[0], plan.shop_sizes[-1]
        for key, label in (("export", "connectors' export()"), ("json", "access JSON ready"),
                           ("answered", "access answered"), ("erasure", "erasure")):
            a, b = per_size[big][key], per_size[small][key]
            ratio = a.median / b.median if a.median is not None and b.median else None
            complete = not a.missing and not b.missing
            bench.results["E"][f"{key}_{big}_over_{small}"] = ratio
            target, met = ("-", None) if key == "export" else (
                "<= 1.5x", judged(ratio, lambda v: v <= 1.5, complete=complete))
            bench.add(Row("E ratio", f"{label}: {big:,} / {small:,} customers", "x", ratio,
                          "ratio of medians", target, met))


def _short(size: int) -> str:
    """A shop size in few characters."""
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"


# -- the main session ---------------------------------------------------------------------------


def main_session(bench: Bench, wanted: set[str]) -> None:
    """A, B and C on one shop copy with the same workers."""
    labels = {"A": "A typical", "B": "B heavy", "C": "C burst"}
    try:
        shop = bench.shop(bench.plan.base_shop)
        _main_session(bench, wanted, shop)
    except Exception as exc:  # no session, no workers: each scenario asked for says so
        for name in sorted(wanted & set(labels)):
            bench.failed(labels[name], exc)


def _main_session(bench: Bench, wanted: set[str], shop: Shop) -> None:
    """Runs A, B and C in one session."""
    labels = {"A": "A typical", "B": "B heavy", "C": "C burst"}
    with bench.running("main", shop) as run:
        bench.log(f"workers: {len(run.workers)} x `python {' '.join(worker_command()[1:])}` "
                  f"(pids {', '.join(str(w.pid) for w in run.workers)})")
        _warm_up(run, typical_tag(249), bench.plan.request_timeout)
        for name, scenario in (("A", scenario_a), ("B", scenario_b), ("C", scenario_c)):
            if name in wanted:
                bench.mark(name)
                try:
                    scenario(bench, run)
                except Exception as exc:  # the other scenarios still run
                    bench.failed(labels[name], exc)
                    run.restart()
        bench.results["worker_peak_rss_mb_overall"] = run.monitor.overall_peak_kb / 1024
