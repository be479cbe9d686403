"""Hardening benchmark (issue 18): what hostile or careless traffic costs a ``ragen-mock`` process.

Each scenario starts its own mock process (as ``ragen-mock`` runs, rate limits off), measures its
resident memory (RSS, Linux /proc) before and after, and prints the figures next to what the
issue measured before the bounds existed:

1. ``headers``: 1,000 unauthenticated requests with ~800 KB of headers (100 × 8,000 bytes). With
   the default ``--max-header-bytes`` (64 KiB) they get 431; with the limit raised to 1 MiB they
   reach the journal, which is bounded by bytes (``--journal-bytes``, 32 MiB). Before: +786 MB.
2. ``instructions``: 1,000 assistant creates with 1 MiB instructions (``--max-body-bytes`` raised
   so the body is read): 400, past the spec's 256,000 characters. Before: 3.3 GB. Then 1,000
   creates at the limit, which the mock must keep (the store holds what clients create).
3. ``questions``: 1,500 chat requests with different 120 KB questions. Before: +289 MB.
4. ``slow``: 5,000 connections that trickle an incomplete request head; ``--idle-timeout 3``
   closes them (the default is 60 s), ``--max-connections`` (default 4,096) sheds the oldest
   idle ones meanwhile. Reports how long until the server closed all of them, ``/healthz``
   latency during the flood, and RSS. Before: held 100 s, and at a 1,024-descriptor limit
   normal requests timed out.

Bounded: every scenario has a hard deadline and stops by itself; the whole run takes well under
two minutes. Usage: ``.venv/bin/python bench/bench_hardening.py [--only headers,slow]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from bench_mock import _free_port, mock_argv, server

KEY = "rg-demo-key"
ASSISTANT = "asst-00000000-0000-4000-8000-000000000001"
MIB = 1024 * 1024
BEFORE = {
    "headers": "+786 MB",
    "instructions": "3.3 GB",
    "questions": "+289 MB",
    "slow": "held 100 s",
}


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def _exchange(port: int, request: bytes, *, timeout: float = 30) -> int:
    """Send one request on a new connection (``Connection: close``); the response status."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        await asyncio.wait_for(reader.read(), timeout)
        return int(head.split(b" ", 2)[1])
    except (OSError, asyncio.IncompleteReadError, TimeoutError):
        return 0  # the server closed the connection early (or never answered)
    finally:
        writer.close()


def _request(method: str, path: str, port: int, *, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _many(count: int, concurrency: int, make: Callable[[int], Awaitable[int]]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            statuses[await make(i)] += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    return statuses


def _settle(pid: int) -> float:
    time.sleep(0.5)  # the last responses' buffers freed, the access log flushed
    return rss_mb(pid)


def _run(name: str, extra: list[str], scenario: Callable[[int], Coroutine[Any, Any, str]]) -> None:
    port = _free_port()
    with server(mock_argv(port, *extra), port) as (_, pid):
        before = _settle(pid)
        started = time.monotonic()
        detail = asyncio.run(scenario(port))
        elapsed = time.monotonic() - started
        after = _settle(pid)
    flags = " ".join(extra) or "(defaults)"
    print(
        f"{name:<13} {flags:<44} RSS {before:6.0f} -> {after:6.0f} MB ({after - before:+5.0f} MB)"
        f"  {elapsed:5.1f} s  {detail}",
        flush=True,
    )


# --- scenarios ----------------------------------------------------------------------------------------
async def headers_scenario(port: int) -> str:
    padding = {f"x-padding-{i:03d}": "h" * 8000 for i in range(100)}  # ~800 KB
    request = _request("GET", "/v1/assistants", port, headers=padding)
    statuses = await _many(1000, 8, lambda _: _exchange(port, request))
    return f"statuses {dict(statuses)}; request heads {len(request) / 1000:.0f} kB"


async def long_instructions_scenario(port: int) -> str:
    body = json.dumps({"name": "long", "instructions": "i" * MIB}).encode()
    auth = {"Authorization": f"Bearer {KEY}"}
    request = _request("POST", "/v1/assistants", port, headers=auth, body=body)
    statuses = await _many(1000, 8, lambda _: _exchange(port, request))
    return f"1 MiB instructions: statuses {dict(statuses)}"


async def at_limit_instructions_scenario(port: int) -> str:
    body = json.dumps({"name": "at the limit", "instructions": "i" * 256_000}).encode()
    auth = {"Authorization": f"Bearer {KEY}"}
    request = _request("POST", "/v1/assistants", port, headers=auth, body=body)
    statuses = await _many(1000, 8, lambda _: _exchange(port, request))
    return f"256,000-char instructions (kept by the store: ~256 MB): statuses {dict(statuses)}"


async def questions_scenario(port: int) -> str:
    auth = {"Authorization": f"Bearer {KEY}"}

    def request(i: int) -> bytes:
        question = f"question {i} " + "w" * 120_000
        body = json.dumps({"assistant_id": ASSISTANT, "messages": [{"role": "user", "content": question}]})
        return _request("POST", "/v1/chat/completions", port, headers=auth, body=body.encode())

    statuses = await _many(1500, 8, lambda i: _exchange(port, request(i)))
    return f"120 KB questions: statuses {dict(statuses)}"


async def slow_scenario(port: int, *, count: int = 5000, deadline_s: float = 40.0) -> str:
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    gate = asyncio.Semaphore(400)

    async def connect() -> None:
        async with gate:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never the blank line
            opened.append((reader, writer))

    started = time.monotonic()
    await asyncio.gather(*(connect() for _ in range(count)))
    # a normal client during the flood
    probe_started = time.monotonic()
    status = await _exchange(port, _request("GET", "/healthz", port, headers={}), timeout=10)
    probe_ms = (time.monotonic() - probe_started) * 1000

    async def trickle_until_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while time.monotonic() - started < deadline_s:
            try:
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
                if await asyncio.wait_for(reader.read(1), 1.0) == b"":
                    return  # closed by the server
            except TimeoutError:
                continue
            except OSError:
                return

    await asyncio.gather(*(trickle_until_closed(r, w) for r, w in opened))
    all_closed = time.monotonic() - started
    for _, writer in opened:
        writer.close()
    return (
        f"{len(opened)} slow connections all closed by the server after {all_closed:.1f} s; "
        f"/healthz during the flood: {status} in {probe_ms:.0f} ms"
    )


SCENARIOS: dict[str, list[tuple[str, list[str], Callable[[int], Coroutine[Any, Any, str]]]]] = {
    "headers": [
        ("headers", [], headers_scenario),
        ("headers", ["--max-header-bytes", str(MIB)], headers_scenario),
    ],
    "instructions": [
        ("instructions", ["--max-body-bytes", str(2 * MIB)], long_instructions_scenario),
        ("instructions", [], at_limit_instructions_scenario),
    ],
    "questions": [("questions", [], questions_scenario)],
    "slow": [("slow", ["--idle-timeout", "3"], slow_scenario)],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {list(SCENARIOS)}")
    print(f"{'scenario':<13} {'mock flags':<44} {'memory':<36} {'wall':<7} detail")
    started = time.monotonic()
    for name in wanted:
        for label, extra, scenario in SCENARIOS[name]:
            _run(label, extra, scenario)
        print(f"{'':<13} before the bounds (issue 18): {BEFORE[name]}", flush=True)
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
