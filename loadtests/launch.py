"""Launch one tier's locustfile headless in a Locust subprocess and collect its records.

A subprocess (rather than Locust's Python API in-process) because gevent monkey-patches the
interpreter, and because the same command line then covers ``--processes N`` and a master
waiting for remote ``--worker`` processes. Nothing here prints: progress goes to ``echo``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from loadtests.locustfiles import LOCUSTFILES
from loadtests.records import Record, read_records
from loadtests.scenario import Scenario, timeline

__all__ = [
    "Distribution",
    "LoadRunError",
    "LocustRun",
    "locust_command",
    "preflight",
    "run_tier",
    "worker_command",
]

PROGRESS_PREFIX = "[ragen-load]"
START_UP_ALLOWANCE = 120.0  # seconds beyond the shape's length before the subprocess is killed


class LoadRunError(Exception):
    """The harness could not run (bad address, unreachable server, Locust failed): not a verdict."""


@dataclass(frozen=True)
class Distribution:
    processes: int | None = None  # local worker processes (Locust --processes)
    expect_workers: int | None = None  # remote workers (Locust --master --expect-workers)
    master_bind_host: str = "*"
    master_bind_port: int = 5557


@dataclass(frozen=True)
class LocustRun:
    tier: str
    returncode: int
    records: list[Record]
    meta: dict[str, object]
    log: Path
    seconds: float


def _host_port(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadRunError(f"--base-url must be an http(s) URL, not {base_url!r}")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def preflight(base_url: str, source_ips: tuple[str, ...], *, timeout: float = 5.0) -> None:
    """Bind every source address and open one TCP connection from each; no HTTP, no budget spent."""
    host, port = _host_port(base_url)
    for ip in source_ips or ("",):
        if ip:
            try:
                ipaddress.ip_address(ip)
            except ValueError as exc:
                raise LoadRunError(f"--source-ips: {exc}") from None
        try:
            with socket.create_connection(
                (host, port), timeout=timeout, source_address=(ip, 0) if ip else None
            ):
                pass
        except OSError as exc:
            origin = f" from {ip}" if ip else ""
            raise LoadRunError(f"cannot connect to {host}:{port}{origin}: {exc}") from None


def locust_command(scenario: Scenario, *, out_dir: Path, distribution: Distribution) -> list[str]:
    prefix = out_dir / scenario.tier
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILES[scenario.tier]),
        "--headless",
        "--host",
        scenario.base_url,
        "--csv",
        str(prefix),
        "--html",
        str(out_dir / f"{scenario.tier}.html"),
        "--only-summary",
        "--stop-timeout",
        f"{scenario.timeout:g}",
        "--exit-code-on-error",
        "0",
        "--ragen-scenario",
        scenario.to_json(),
        "--ragen-records",
        str(out_dir / f"{scenario.tier}-records.jsonl"),
    ]
    if distribution.processes:
        # The forked workers talk to their master over loopback; a free port rather than Locust's
        # 5557 lets several runs share a machine.
        port = str(_free_loopback_port())
        command += ["--processes", str(distribution.processes), "--master-bind-host", "127.0.0.1"]
        command += ["--master-bind-port", port, "--master-host", "127.0.0.1", "--master-port", port]
    elif distribution.expect_workers:
        command += [
            "--master",
            "--expect-workers",
            str(distribution.expect_workers),
            "--expect-workers-max-wait",
            f"{START_UP_ALLOWANCE:g}",
            "--master-bind-host",
            distribution.master_bind_host,
            "--master-bind-port",
            str(distribution.master_bind_port),
        ]
    return command


def worker_command(tier: str, *, master_host: str, master_port: int) -> list[str]:
    """A remote worker: the options come from the master with every spawn message."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILES[tier]),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
    ]


def _echo_worthy(line: str) -> bool:
    return line.startswith(PROGRESS_PREFIX) or "/ERROR/" in line or "/CRITICAL/" in line


def _stream(
    command: list[str], *, log: Path, env: dict[str, str], limit_s: float, echo: Callable[[str], None]
) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        log.open("w", encoding="utf-8") as sink,
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            start_new_session=True,  # so a timeout can end Locust and the workers it forked
        ) as proc,
    ):
        expired = threading.Event()

        def _kill() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        watchdog = threading.Timer(limit_s, _kill)
        watchdog.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                sink.write(line)
                if _echo_worthy(line):
                    echo(line.rstrip("\n"))
            code = proc.wait()
        finally:
            watchdog.cancel()
    if expired.is_set():
        raise LoadRunError(f"Locust did not finish within {limit_s:.0f} s; see {log}")
    return code


def run_locust(
    command: list[str], *, log: Path, api_key: str | None, limit_s: float, echo: Callable[[str], None]
) -> int:
    env = dict(os.environ)
    # A master's start() waits this long (default 1 s) for worker reports after each change of
    # user count; at one shape tick a second that would swallow whole phases.
    env.setdefault("LOCUST_WAIT_FOR_WORKERS_REPORT_AFTER_RAMP_UP", "0.1")
    if api_key is not None:
        env["RAGEN_LOAD_API_KEY"] = api_key  # not on the command line, where ps would show it
    return _stream(command, log=log, env=env, limit_s=limit_s, echo=echo)


def run_tier(
    scenario: Scenario,
    *,
    api_key: str,
    out_dir: Path,
    distribution: Distribution,
    echo: Callable[[str], None],
) -> LocustRun:
    phases = timeline(scenario)
    records_path = out_dir / f"{scenario.tier}-records.jsonl"
    records_path.unlink(missing_ok=True)
    log = out_dir / f"{scenario.tier}-locust.log"
    started = time.monotonic()
    code = run_locust(
        locust_command(scenario, out_dir=out_dir, distribution=distribution),
        log=log,
        api_key=api_key,
        limit_s=phases[-1].end + scenario.timeout + START_UP_ALLOWANCE,
        echo=echo,
    )
    seconds = time.monotonic() - started
    if not records_path.exists():
        tail = "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[-15:])
        raise LoadRunError(f"Locust exited with {code} and wrote no records; last lines of {log}:\n{tail}")
    meta, records = read_records(records_path)
    return LocustRun(scenario.tier, code, records, meta, log, seconds)
