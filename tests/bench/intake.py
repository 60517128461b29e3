"""Scenario D's tools: a small keep-alive HTTP load client, and a profile of one intake.

The client is asyncio on raw sockets (no new dependency): `clients` connections, each
sending `POST /api/v1/requests` one after the other for the duration, reusing its connection
while the server keeps it open and reconnecting when the server closes it (gunicorn's sync
workers close after every response) — the reconnect is part of that request's latency.

The profile runs the same view in-process under cProfile (pyinstrument is not installed)
and adds the time up by what it is spent on.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import json
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

PATH = "/api/v1/requests"


@dataclass
class LoadResult:
    """What the clients saw during the measured period."""

    seconds: float
    latencies: list[float] = field(default_factory=list)  # of 202 responses, in seconds
    per_second: list[int] = field(default_factory=list)  # 202 responses in each second
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    reconnects: int = 0
    responses: int = 0  # every response, the warm-up's included
    retried: int = 0  # requests sent again after the server closed a kept-alive connection

    @property
    def accepted(self) -> int:
        """Requests answered 202."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Accepted requests per second."""
        return self.accepted / self.seconds if self.seconds else 0.0


def run_load(port: int, clients: int, seconds: float, warmup: float, label: str) -> LoadResult:
    """Drives the intake with `clients` concurrent clients; measures after the warm-up."""
    return asyncio.run(_load(port, clients, seconds, warmup, label))


async def _load(port: int, clients: int, seconds: float, warmup: float, label: str
                ) -> LoadResult:
    """The load: every client until the end; only responses in the measured period count."""
    started = time.perf_counter()
    measure_from = started + warmup
    measure_to = measure_from + seconds
    result = LoadResult(seconds=seconds, per_second=[0] * max(1, round(seconds)))
    await asyncio.gather(*(
        _client(port, n, label, measure_from, measure_to, result) for n in range(clients)
    ))
    return result


async def _client(port: int, number: int, label: str, measure_from: float, measure_to: float,
                  result: LoadResult) -> None:
    """One client: requests one after the other on a kept-alive connection."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    sent = 0
    while time.perf_counter() < measure_to:
        body = json.dumps({"email": f"intake.{label}.{number}.{sent}@example.org",
                           "type": "access"}).encode()
        request = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   "Content-Type: application/json\r\nAccept: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        began = time.perf_counter()
        reused = writer is not None
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                result.reconnects += 1
            assert reader is not None
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, close = _parse_head(head)
            await reader.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            # A kept-alive connection the server closed before reading the request: HTTP
            # clients send it again on a new connection, and so does this one.
            if reused and not exc.partial:
                result.retried += 1
            else:
                result.errors += 1
            await _close(writer)
            writer = None
            continue
        except (OSError, asyncio.LimitOverrunError, ValueError):
            result.errors += 1
            await _close(writer)
            writer = None
            await asyncio.sleep(0.01)
            continue
        done = time.perf_counter()
        sent += 1
        result.responses += 1
        if measure_from <= done < measure_to:
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == 202:
                result.latencies.append(done - began)
                second = min(int(done - measure_from), len(result.per_second) - 1)
                result.per_second[second] += 1
        if close:
            await _close(writer)
            writer = None
    await _close(writer)


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """The status, Content-Length and whether the server closes the connection."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    return status, length, close


async def _close(writer: asyncio.StreamWriter | None) -> None:
    """Closes a connection, if any."""
    if writer is not None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return None


# -- the profile -----------------------------------------------------------------------------

#: What one intake request's time is spent on: label -> the functions (file ending, name)
#: whose cumulative time counts. The parts of `submit` do not overlap one another.
BUCKETS: dict[str, list[tuple[str, str]]] = {
    "input validation": [("dsar/web/forms.py", "validate_api_payload")],
    "audit event (request flush + chained append)": [("dsar/transitions.py", "record_event")],
    "owing the verification mail (a SELECT, then an INSERT)": [("dsar/work/mails.py", "owe")],
    "the commit (ORM)": [("sqlalchemy/orm/scoping.py", "commit")],
    "enqueueing the mail's job (RQ, Redis)": [("dsar/work/mails.py", "dispatch")],
    "rate limiter (check + X-RateLimit headers, Redis)": [
        ("flask_limiter/_extension.py", "_check_request_limit"),
        ("flask_limiter/_extension.py", "__inject_headers")],
}
#: Counted apart (they lie inside the parts above): the database engine and Redis themselves.
ENGINE: dict[str, list[tuple[str, str]]] = {
    "sqlite3 execute + commit": [
        ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
        ("~", "<method 'execute' of 'sqlite3.Connection' objects>"),
        ("~", "<method 'commit' of 'sqlite3.Connection' objects>")],
    "psycopg execute + commit": [("psycopg/cursor.py", "execute"),
                                 ("psycopg/connection.py", "commit")],
    "Redis round trips": [("redis/connection.py", "send_packed_command")],
    "Redis replies": [("redis/connection.py", "read_response")],
    "ORM flushes": [("sqlalchemy/orm/session.py", "_flush")],
    "ORM reloads of expired rows": [("sqlalchemy/orm/state.py", "_load_expired")],
    "the view": [("dsar/web/intake.py", "api_submit")],
    "Flask, from WSGI call to response": [("flask/app.py", "wsgi_app")],
}


@dataclass
class Profile:
    """Where one intake request's time goes, in-process."""

    requests: int
    wall_ms: float  # per request, without the profiler
    profiled_ms: float  # per request, under the profiler
    parts_ms: dict[str, float]
    engine_ms: dict[str, float]
    calls: dict[str, float]  # per request
    top: list[tuple[str, float]]  # the functions with the most own time, ms per request


def profile_intake(app: Flask, requests: int = 300, warmup: int = 30) -> Profile:
    """Posts `requests` intake requests through the app in-process, timed and profiled."""
    client = app.test_client()

    def post(n: int, label: str) -> None:
        response = client.post(PATH, json={"email": f"profile.{label}.{n}@example.org",
                                           "type": "access"})
        if response.status_code != 202:
            raise RuntimeError(f"intake answered {response.status_code}: {response.get_data()!r}")

    for n in range(warmup):
        post(n, "warm")
    started = time.perf_counter()
    for n in range(requests):
        post(n, "wall")
    wall_ms = (time.perf_counter() - started) * 1000 / requests
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for n in range(requests):
        post(n, "prof")
    profiler.disable()
    profiled_ms = (time.perf_counter() - started) * 1000 / requests
    table: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    calls: dict[str, float] = {}

    def add_up(groups: dict[str, list[tuple[str, str]]]) -> dict[str, float]:
        totals: dict[str, float] = {}
        for label, patterns in groups.items():
            total, count = 0.0, 0
            for (filename, _line, name), (_cc, ncalls, _tt, cumulative, _c) in table.items():
                if any(filename.endswith(f) and name == fn for f, fn in patterns):
                    total += cumulative
                    count += ncalls
            totals[label] = total * 1000 / requests
            calls[label] = count / requests
        return totals

    parts = add_up(BUCKETS)
    engine = add_up(ENGINE)
    own = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:12]
    top = [(f"{_short(filename)}:{name}", tt * 1000 / requests)
           for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in own]
    return Profile(requests=requests, wall_ms=wall_ms, profiled_ms=profiled_ms,
                   parts_ms=parts, engine_ms=engine, calls=calls, top=top)


def _short(filename: str) -> str:
    """A source path from its package on."""
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


@dataclass
class ServerLoad:
    """One gunicorn configuration under load, with the CPU it and the machine used."""

    label: str
    load: LoadResult
    cpu_ms_per_request: float | None  # gunicorn's processes, per response
    machine_busy: float | None  # share of all cores busy during the load
    client_cpu: float | None  # cores the load client used
    redis_cpu: float | None = None  # cores redis-server used
    others_cpu: float | None = None  # cores every other process on the machine used


def findings(servers: list[ServerLoad], profile: Profile | None, clients: int,
             pct: Callable[[list[float], float], float]) -> list[str]:
    """Three to five lines on where the intake's time goes, from the figures measured."""
    lines: list[str] = []
    if servers:
        parts = []
        for server in servers:
            load = server.load
            p99 = pct(load.latencies, 0.99) * 1000 if load.latencies else float("nan")
            cpu = (f", {server.cpu_ms_per_request:.1f} ms of gunicorn CPU per request"
                   if server.cpu_ms_per_request is not None else "")
            busy = (f", cores {server.machine_busy * 100:.0f}% busy"
                    if server.machine_busy is not None else "")
            client = (f", the load client {server.client_cpu * 100:.0f}% of a core"
                      if server.client_cpu is not None else "")
            if server.others_cpu is not None:
                client += (f", redis-server {(server.redis_cpu or 0) * 100:.0f}%, other "
                           f"processes {server.others_cpu * 100:.0f}%")
            parts.append(f"{server.label}: {load.rate:.0f} req/s, p99 {p99:.0f} ms, "
                         f"{load.reconnects} connections opened{cpu}{busy}{client}")
        best = max(servers, key=lambda s: s.load.rate)
        base = servers[0]
        gain = (best.load.rate / base.load.rate - 1) * 100 if base.load.rate else 0.0
        if best is not base and gain >= 10:
            verdict = (f"{best.label} does {gain:.0f}% more: sync workers close the "
                       "connection after every response, so each request pays a new TCP "
                       "connection and accept")
        elif best is not base:
            tails = ", ".join(f"{s.label} p99 {pct(s.load.latencies, 0.99) * 1000:.0f} ms"
                              for s in servers if s.load.latencies)
            verdict = (f"Neither is clearly faster ({gain:.0f}% apart): the CPU each request "
                       "costs is the limit, not the connection handling; the threads keep "
                       f"connections alive but share the wait less evenly ({tails})")
        else:
            verdict = "The configuration `dsar run` uses did best"
        busy_elsewhere = [s.label for s in servers if (s.others_cpu or 0) > 0.25]
        caveat = (f" Other processes on the machine took over a quarter of a core during "
                  f"{' and '.join(busy_elsewhere)}: compare with care."
                  if busy_elsewhere else "")
        lines.append("gunicorn - " + "; ".join(parts) + f". {verdict}.{caveat}")
        if best.load.rate:
            lines.append(
                f"Latency here is queueing: {clients} clients each waiting on its answer make "
                f"the mean latency clients / throughput (Little's law) = "
                f"{clients / best.load.rate * 1000:.0f} ms at {best.load.rate:.0f} req/s; p99 "
                f"< 100 ms for {clients} clients needs well over {clients * 10} req/s.")
    if profile is not None:
        p = profile.parts_ms
        rest = profile.profiled_ms - sum(p.values())
        listed = ", ".join(f"{label} {ms:.1f}" for label, ms in
                           sorted(p.items(), key=lambda item: -item[1]))
        served = [s.cpu_ms_per_request for s in servers if s.cpu_ms_per_request]
        under = ""
        if served:
            under = f" Under gunicorn a request costs {min(served):.1f}-{max(served):.1f} ms of CPU"
            under += (": the extra is HTTP parsing, the access log and, for sync workers, a "
                      "connection per request." if min(served) > profile.wall_ms + 0.5
                      else ", about what it costs in-process.")
        lines.append(
            f"One intake costs {profile.wall_ms:.1f} ms in-process ({profile.profiled_ms:.1f} ms "
            f"under cProfile, in ms): {listed}; Flask, Werkzeug and the rest {rest:.1f}.{under}")
        engine, calls = profile.engine_ms, profile.calls
        sql = engine["sqlite3 execute + commit"] + engine["psycopg execute + commit"]
        orm = (p["audit event (request flush + chained append)"]
               + p["owing the verification mail (a SELECT, then an INSERT)"]
               + p["the commit (ORM)"])
        redis_ms = engine["Redis round trips"] + engine["Redis replies"]
        limiter = p["rate limiter (check + X-RateLimit headers, Redis)"]
        enqueue = p["enqueueing the mail's job (RQ, Redis)"]
        lines.append(
            f"The database engine itself takes {sql:.1f} ms of the {orm:.1f} ms spent storing "
            f"the request, its audit event and its mail row; the rest is SQLAlchemy's unit of "
            f"work ({calls['ORM flushes']:.0f} flushes, {calls['ORM reloads of expired rows']:.0f}"
            f" reloads of expired rows per request). Redis: {calls['Redis round trips']:.0f} "
            f"round trips per request ({redis_ms:.1f} ms on the wire), inside the rate limiter "
            f"({limiter:.1f} ms) and RQ's enqueue ({enqueue:.1f} ms).")
    return lines[:5]
