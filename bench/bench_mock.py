"""Benchmark the mock against a bare aiohttp handler, in one run.

1. Non-streaming ``POST /v1/chat/completions`` requests/s of the mock (as ``ragen-mock`` serves by
   default: request validation on, access log on; only the rate limits off) and of a bare aiohttp
   handler returning a fixed body of the same size, each served by its own process; load from
   ``wrk`` when installed (``--tool wrk``), otherwise from an aiohttp client with bounded
   concurrency. Prints both figures and the ratio (target >= 0.6), by requests/s and by requests
   per server CPU-second, each the median of the per-round ratios.
2. ``--streams`` concurrent slow SSE streams (``--chunks`` chunks, ``--chunk-delay-ms`` apart) on
   one mock process: wall time, streams completed, errors.

Bounded: each throughput phase runs ``--duration`` seconds after a short warm-up; the stream
phase has a hard timeout. Usage: ``.venv/bin/python bench/bench_mock.py [--duration 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

KEY = "rg-demo-key"
ASSISTANT = "asst-00000000-0000-4000-8000-000000000001"
BODY = {
    "assistant_id": ASSISTANT,
    "model": "gpt-5.4",
    "messages": [{"role": "user", "content": "What is our refund policy?"}],
}
PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Workload:
    """What the benchmark sends, to which mock profile."""

    key: str
    body: dict[str, Any]
    mock_flags: tuple[str, ...] = ()


WORKLOADS = {
    "ragen": Workload(KEY, BODY),
    "openai-proxy": Workload(
        "sk-proxy-demo",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is our refund policy?"}]},
        ("--profile", "openai-proxy"),
    ),
}


# --- servers (separate processes) -----------------------------------------------------------------
def serve_bare(port: int, size: int) -> None:
    """A bare aiohttp handler returning a fixed JSON body of ``size`` bytes."""
    from aiohttp import web

    body = json.dumps({"padding": "x" * max(size - 16, 0)}).encode()

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post(PATH, handler)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def server(argv: list[str], port: int) -> Iterator[tuple[str, int]]:
    # stderr (the mock's access log) goes to a file: a pipe nobody reads would stall the server.
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=_raise_fd_limit, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"server did not start: {log.read()[-2000:]}") from None
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def mock_argv(port: int, *extra: str) -> list[str]:
    """``ragen-mock`` as a developer starts it (access log on, request validation on), except for
    the rate limits, which would answer 429 to a benchmark; ``--quiet`` only drops the banner."""
    return [sys.executable, "-m", "mockserver", "--port", str(port), "--no-rate-limits", "--quiet", *extra]


# --- load ---------------------------------------------------------------------------------------------
async def _aiohttp_load(
    url: str, pid: int, *, duration: float, concurrency: int, workload: Workload
) -> tuple[float, int, list[float], float]:
    payload = json.dumps(workload.body).encode()
    headers = {"Authorization": f"Bearer {workload.key}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    done = 0
    errors = 0
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker(until: float, record: bool) -> None:
            nonlocal done, errors
            while (start := time.perf_counter()) < until:
                async with session.post(url + PATH, data=payload) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                if record:
                    done += 1
                    latencies.append(time.perf_counter() - start)

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(worker(warm, False) for _ in range(concurrency)))
        cpu = cpu_seconds(pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker(started + duration, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu
    return done / elapsed, errors, latencies, cpu


def aiohttp_load(
    url: str, pid: int, *, duration: float, concurrency: int, workload: Workload = WORKLOADS["ragen"]
) -> dict[str, float]:
    rate, errors, latencies, cpu = asyncio.run(
        _aiohttp_load(url, pid, duration=duration, concurrency=concurrency, workload=workload)
    )
    latencies.sort()
    return {
        "rps": rate,
        "per_cpu_s": len(latencies) / max(cpu, 1e-9),
        "errors": errors,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0,
    }


def wrk_load(
    url: str, pid: int, *, duration: float, concurrency: int, workload: Workload = WORKLOADS["ragen"]
) -> dict[str, float]:
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(workload.body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {workload.key}"\n'
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("RESULT %d %d %f %f %d\\n", summary.requests, summary.duration,'
        " latency:percentile(50), latency:percentile(99),"
        " summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write"
        " + summary.errors.timeout))\n"
        "end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        base = ["wrk", "-t", "1", "-c", str(concurrency), "-s", fh.name, url + PATH]
        subprocess.run(
            [*base[:1], "-d", "1s", *base[1:]], capture_output=True, check=True, timeout=60
        )  # warm-up
        cpu = cpu_seconds(pid)
        out = subprocess.run(
            [*base[:1], "-d", f"{duration:g}s", *base[1:]],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        ).stdout
        cpu = cpu_seconds(pid) - cpu
    finally:
        os.unlink(fh.name)
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    requests, micros, p50, p99, errors = line.split()[1:]
    return {
        "rps": int(requests) / (int(micros) / 1e6),
        "per_cpu_s": int(requests) / max(cpu, 1e-9),
        "errors": int(errors),
        "p50_ms": float(p50) / 1000,
        "p99_ms": float(p99) / 1000,
    }


# --- streams --------------------------------------------------------------------------------------------
async def _streams(
    url: str, *, count: int, chunks: int, timeout: float, workload: Workload
) -> dict[str, float]:
    # role chunk + (chunks - 2) content chunks + finish chunk = `chunks` events, then [DONE]
    body = {**workload.body, "stream": True, "max_tokens": chunks - 2}
    headers = {"Authorization": f"Bearer {workload.key}"}
    connector = aiohttp.TCPConnector(limit=0)
    errors: list[str] = []
    completed = 0
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:

        async def one() -> None:
            nonlocal completed
            try:
                async with session.post(url + PATH, json=body) as response:
                    text = (await response.read()).decode()
                events = [block for block in text.split("\n\n") if block]
                if response.status != 200 or events[-1] != "data: [DONE]" or len(events) != chunks + 1:
                    errors.append(f"status {response.status}, {len(events)} events")
                else:
                    completed += 1
            except Exception as exc:  # counted, reported below
                errors.append(repr(exc))

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        elapsed = time.perf_counter() - started
    if errors:
        print(f"  first stream errors: {errors[:3]}")
    return {"seconds": elapsed, "completed": completed, "errors": len(errors)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=3.0, help="seconds per throughput phase (default 3)"
    )
    parser.add_argument(
        "--rounds", type=_at_least_one, default=7, help="alternating mock/bare phases (default 7)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="connections for the throughput phases")
    parser.add_argument("--tool", choices=["auto", "wrk", "aiohttp"], default="auto", help="load generator")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent SSE streams (default 1000)")
    parser.add_argument("--chunks", type=int, default=20, help="chunks per stream (default 20)")
    parser.add_argument("--chunk-delay-ms", type=float, default=50.0, help="delay per chunk (default 50)")
    parser.add_argument(
        "--profile",
        choices=sorted(WORKLOADS),
        default="ragen",
        help="the mock profile served (default ragen)",
    )
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare-size", type=int, default=520, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare, args.bare_size)
        return 0
    _raise_fd_limit()
    tool = ("wrk" if shutil.which("wrk") else "aiohttp") if args.tool == "auto" else args.tool
    load = wrk_load if tool == "wrk" else aiohttp_load
    workload = WORKLOADS[args.profile]
    print(
        f"load generator: {tool}, {args.concurrency} connections, {args.duration:g} s per phase, "
        f"{os.cpu_count()} CPUs; mock profile {args.profile}"
    )

    # Both servers run side by side and the phases alternate, so a burst of load from elsewhere on
    # the machine hits both about equally; each figure is the median of --rounds phases, the
    # ratio the median of the rounds' own ratios (paired_ratio).
    mock_port, bare_port = _free_port(), _free_port()
    bare_argv = [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(bare_port)]
    with server(mock_argv(mock_port, *workload.mock_flags), mock_port) as (mock_url, mock_pid):
        mock_size = answer_size(mock_url, workload)
        with server([*bare_argv, "--bare-size", str(mock_size)], bare_port) as (bare_url, bare_pid):
            rounds: dict[str, list[dict[str, float]]] = {"mock": [], "bare": []}
            for _ in range(args.rounds):
                for name, url, pid in (("mock", mock_url, mock_pid), ("bare", bare_url, bare_pid)):
                    rounds[name].append(
                        load(
                            url, pid, duration=args.duration, concurrency=args.concurrency, workload=workload
                        )
                    )
    mock, bare = (_median(rounds[name]) for name in ("mock", "bare"))
    ratio, ratios = paired_ratio(rounds["mock"], rounds["bare"], "rps")
    cpu_ratio, _ = paired_ratio(rounds["mock"], rounds["bare"], "per_cpu_s")
    print(
        f"  mock: ragen-mock --profile {args.profile} defaults (request validation on, "
        "access log on at INFO), rate limits off"
    )
    for name, figures in (("mock (validation on, limits off)", mock), ("bare aiohttp handler", bare)):
        print(
            f"  {name:34} {figures['rps']:7.0f} req/s  {figures['per_cpu_s']:7.0f} req/CPU-s  "
            f"p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms  "
            f"errors {figures['errors']:.0f}"
        )
    for name in ("mock", "bare"):
        print(
            f"  rounds {name}: "
            + ", ".join(f"{r['rps']:.0f} ({r['per_cpu_s']:.0f}/CPU-s)" for r in rounds[name])
        )
    print("  ratio mock/bare by round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(f"  ratio mock/bare: {ratio:.2f} by req/s, {cpu_ratio:.2f} by req per server CPU-second")
    print("  (target >= 0.6 on both; each the median of the rounds' ratios)")

    port = _free_port()
    stream_argv = mock_argv(port, "--stream-delay-ms", str(args.chunk_delay_ms), *workload.mock_flags)
    with server(stream_argv, port) as (url, _):
        floor = (args.chunks - 2) * args.chunk_delay_ms / 1000  # role and finish chunks are not paced
        result = asyncio.run(
            _streams(url, count=args.streams, chunks=args.chunks, timeout=floor + 120, workload=workload)
        )
    print(
        f"{args.streams} concurrent streams x {args.chunks} chunks, {args.chunk_delay_ms:g} ms apart "
        f"(>= {floor:.1f} s each): {result['seconds']:.2f} s wall, {result['completed']:.0f} complete, "
        f"{result['errors']:.0f} errors"
    )
    # Both ratios: req/s alone passes whenever the bare server is starved by other load.
    ok = min(ratio, cpu_ratio) >= 0.6 and result["errors"] == 0 and mock["errors"] == 0
    print("PASS" if ok else "BELOW TARGET")
    return 0 if ok else 1


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def answer_size(url: str, workload: Workload) -> int:
    """The size of the mock's answer to the benchmark request, so the bare body matches it."""

    async def fetch() -> int:
        async with (
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {workload.key}"}) as session,
            session.post(url + PATH, json=workload.body) as response,
        ):
            return len(await response.read())

    return asyncio.run(fetch())


def paired_ratio(
    mock: list[dict[str, float]], bare: list[dict[str, float]], key: str
) -> tuple[float, list[float]]:
    """The median of each round's mock/bare ratio, and those ratios. A round's two phases run
    back to back, so load from elsewhere on the machine (a noisy neighbour of a VM) mostly hits
    both; pairing them cancels it where comparing two separate medians would not."""
    ratios = [m[key] / b[key] if b[key] else 0.0 for m, b in zip(mock, bare, strict=True)]
    return statistics.median(ratios), ratios


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


if __name__ == "__main__":
    sys.exit(main())
