"""`dsar run`: the web app, the workers and the scheduler on this machine, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import click
from flask import current_app
from limits.storage import RedisStorage
from redis import Redis

from dsar import settings
from dsar.embedded_redis import EmbeddedRedis

STOP_GRACE_SECONDS = 15
#: After Ctrl-C the children got the terminal's SIGINT too; give them this long on their own.
CTRL_C_GRACE_SECONDS = 5
#: A part that stops by itself more often than this within the window is given up on.
RESTART_LIMIT = 5
RESTART_WINDOW = 60
#: The per-client intake limit of a development run: a first try is many submissions from
#: one address, and the production default (10 an hour) would stop it after ten.
DEVELOPMENT_INTAKE_LIMIT = "100 per hour"
#: The demo shop's size when dsar runs without a shop database of its own.
DEMO_CUSTOMERS = 300


class Stop(Exception):
    """SIGTERM or SIGINT asked everything to stop."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    """Turns a stop signal into an exception the supervisor loop handles."""
    raise Stop(signum)


def run(host: str, port: int, workers: int) -> int:
    """Starts everything, restarts a part that dies, and stops it all on Ctrl-C or SIGTERM.

    Returns:
        The exit status: 0 after Ctrl-C, 1 when a part kept stopping by itself.
    """
    cfg = current_app.config
    # The children keep their state where this process does, wherever they start.
    env = {**os.environ, "DSAR_INSTANCE_DIR": current_app.instance_path}
    dsar = [sys.executable, "-m", "dsar"]
    _prepare(dsar, env)
    redis = None
    if not cfg["REDIS_URL"]:
        redis = EmbeddedRedis(Path(current_app.instance_path) / "redis" / "dsar.rdb")
        env["DSAR_REDIS_URL"] = redis.url
        _forget_rate_limits(redis.url)
    if cfg["ENV"] == "development":
        env.setdefault("DSAR_RATELIMIT_INTAKE", DEVELOPMENT_INTAKE_LIMIT)
    shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104
    env.setdefault("DSAR_BASE_URL", f"http://{shown_host}:{port}")

    commands = [
        [*dsar, "web", "--bind", _bind_address(host, port), "--workers", "2"],
        *[[*dsar, "worker"] for _ in range(workers)],
        [*dsar, "scheduler"],
    ]
    children: list[subprocess.Popen[bytes]] = []
    # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    status = 0
    from_terminal = False
    try:
        children = [subprocess.Popen(command, env=env) for command in commands]  # noqa: S603
        _banner(env["DSAR_BASE_URL"], workers, cfg)
        _supervise(children, commands, env)
        click.echo("A part of dsar keeps stopping by itself; stopping the rest.", err=True)
        status = 1
    except Stop as stop:
        click.echo("\nStopping dsar ...")
        from_terminal = stop.args[0] == signal.SIGINT
    finally:
        _stop(children, already_signalled=from_terminal)
        if redis is not None:
            redis.stop()
    click.echo("dsar stopped.")
    return status


def _prepare(dsar: list[str], env: dict[str, str]) -> None:
    """Brings this machine's database up to date and, when no shop database is set, fills the
    demo shop, so an installed package starts as a checkout does (`make run`).

    Both run as dsar commands of their own: the demo shop's command belongs to the shop's
    connector package, which the service does not import.
    """
    steps = [[*dsar, "db", "upgrade"]]
    if not settings.load()["SHOP_DATABASE_URL"]:
        steps.append([*dsar, "shop", "seed", "--customers", str(DEMO_CUSTOMERS), "--if-empty"])
    for step in steps:
        if subprocess.run(step, env=env).returncode:  # noqa: S603
            raise click.ClickException(f"`dsar {' '.join(step[3:])}` failed; dsar did not start.")


def _supervise(
    children: list[subprocess.Popen[bytes]], commands: list[list[str]], env: dict[str, str]
) -> None:
    """Starts again any part that stopped by itself; returns when one keeps stopping.

    A part that died (killed, out of memory, a bug) is started anew at once, so one crash
    takes nothing down for good; one that stops RESTART_LIMIT times within RESTART_WINDOW
    seconds is broken, not unlucky, and restarting it forever would hide that.
    """
    restarts: list[list[float]] = [[] for _ in children]
    while True:
        for index, child in enumerate(children):
            if child.poll() is None:
                continue
            now = time.monotonic()
            recent = [at for at in restarts[index] if now - at < RESTART_WINDOW] + [now]
            restarts[index] = recent
            if len(recent) > RESTART_LIMIT:
                return
            click.echo(f"{_part_name(commands[index])} stopped (status {child.returncode}); "
                       "starting it again.", err=True)
            children[index] = subprocess.Popen(commands[index], env=env)  # noqa: S603
        time.sleep(0.5)


def _bind_address(host: str, port: int) -> str:
    """gunicorn's HOST:PORT, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _forget_rate_limits(redis_url: str) -> None:
    """Empties the rate limits' counts in the embedded Redis, so that each start of a
    development run counts afresh (its jobs, kept in the same Redis, stay)."""
    connection = Redis.from_url(redis_url)
    keys = list(connection.scan_iter(match=f"{RedisStorage.PREFIX}:*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def _part_name(command: list[str]) -> str:
    """What a part is, for a person reading the terminal."""
    role = command[3]  # after `python -m dsar`
    return {"web": "The web app", "scheduler": "The scheduler"}.get(role, "A worker")


def _banner(base_url: str, workers: int, cfg: dict) -> None:
    """Tells the person where to go and where the mails land."""
    click.echo("")
    click.echo(f"  dsar is running at {base_url}/")
    click.echo(f"  the officers' console is at {base_url}/console/; add yourself as one:")
    click.echo(f"    echo 'choose a long password' | {_dsar_command()} officer create "
               "you@cplus.example --role admin")
    click.echo(f"  workers: {workers}, plus one scheduler for periodic jobs")
    if not cfg["MAIL_SERVER"]:
        click.echo(f"  mails land in {cfg['OUTBOX_DIR']}/*.eml")
    click.echo("  Ctrl-C stops everything.")
    click.echo("")


def _dsar_command() -> str:
    """How to call `dsar` from the folder the person is in: the script beside this Python."""
    script = Path(sys.executable).parent / "dsar"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _stop(children: list[subprocess.Popen[bytes]], *, already_signalled: bool) -> None:
    """Asks every child to stop, and kills those that do not within the grace period.

    A second signal makes an RQ worker abandon its job, so children that had the
    terminal's SIGINT get time to finish on their own before they are asked again.
    """
    if already_signalled:
        deadline = time.monotonic() + CTRL_C_GRACE_SECONDS
        while time.monotonic() < deadline and any(c.poll() is None for c in children):
            time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
