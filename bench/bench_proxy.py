"""Benchmark the validating proxy's overhead, in one run: the same upstream direct and through
``ragen-mock --upstream``.

The upstream is ``ragen-mock`` itself (a realistic server: validation, journal, streams paced by
``--chunk-delay-ms``); the proxy is a second process in front of it, judging every exchange. Each
round measures, first direct then through the proxy:

1. requests/s of non-streaming ``POST /v1/chat/completions`` at ``--concurrency`` connections for
   ``--duration`` seconds (an aiohttp client, after a warm-up);
2. time to first byte of ``--ttfb-requests`` sequential streams: from sending the request to
   the first byte of the body (the role chunk), and to the end of the stream.

Figures are medians over ``--rounds`` alternating rounds; the ratio and the added TTFB are the
medians of each round's own (paired) ratio and difference, so load from elsewhere on the machine
hits both sides of a round alike. Usage: ``.venv/bin/python bench/bench_proxy.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mock import BODY, KEY, PATH, _free_port, aiohttp_load, mock_argv, server


async def _ttfb(url: str, *, requests: int) -> dict[str, float]:
    """Sequential streams: median and p90 time to the first body byte, median time to the end."""
    body = json.dumps({**BODY, "stream": True}).encode()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    first: list[float] = []
    whole: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(headers=headers) as session:
        for i in range(requests + 3):  # the first 3 warm the connection and the server
            started = time.perf_counter()
            async with session.post(url + PATH, data=body) as response:
                chunk = await response.content.readany()
                got_first = time.perf_counter()
                rest = await response.read()
                done = time.perf_counter()
            if response.status != 200 or not (chunk + rest).endswith(b"data: [DONE]\n\n"):
                errors += 1
            if i >= 3:
                first.append(got_first - started)
                whole.append(done - started)
    first.sort()
    return {
        "ttfb_ms": statistics.median(first) * 1000,
        "ttfb_p90_ms": first[int(len(first) * 0.9)] * 1000,
        "stream_ms": statistics.median(whole) * 1000,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternating direct/proxy rounds (default 5)")
    parser.add_argument(
        "--duration", type=float, default=3.0, help="seconds per throughput phase (default 3)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="connections for the throughput phases")
    parser.add_argument("--ttfb-requests", type=int, default=40, help="sequential streams per TTFB phase")
    parser.add_argument("--chunk-delay-ms", type=float, default=5.0, help="the upstream's delay per chunk")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    print(
        f"{os.cpu_count()} CPUs; upstream: ragen-mock --stream-delay-ms {args.chunk_delay_ms:g}; "
        f"proxy: ragen-mock --upstream (judging on); {args.concurrency} connections, "
        f"{args.duration:g} s per throughput phase, {args.ttfb_requests} streams per TTFB phase"
    )
    up_port, proxy_port = _free_port(), _free_port()
    upstream_argv = mock_argv(up_port, "--stream-delay-ms", str(args.chunk_delay_ms))
    rounds: dict[str, list[dict[str, float]]] = {"direct": [], "proxy": []}
    with server(upstream_argv, up_port) as (up_url, up_pid):
        proxy_argv = mock_argv(proxy_port, "--upstream", up_url)
        with server(proxy_argv, proxy_port) as (proxy_url, proxy_pid):
            for _ in range(args.rounds):
                for name, url, pid in (("direct", up_url, up_pid), ("proxy", proxy_url, proxy_pid)):
                    figures = aiohttp_load(url, pid, duration=args.duration, concurrency=args.concurrency)
                    figures |= asyncio.run(_ttfb(url, requests=args.ttfb_requests))
                    rounds[name].append(figures)
    direct, proxy = (
        {k: statistics.median(r[k] for r in rounds[name]) for k in rounds[name][0]}
        for name in ("direct", "proxy")
    )
    pairs = list(zip(rounds["proxy"], rounds["direct"], strict=True))
    ratio = statistics.median(p["rps"] / d["rps"] for p, d in pairs)
    added = statistics.median(p["ttfb_ms"] - d["ttfb_ms"] for p, d in pairs)
    added_end = statistics.median(p["stream_ms"] - d["stream_ms"] for p, d in pairs)
    for name, f in (("direct", direct), ("through the proxy", proxy)):
        print(
            f"  {name:18} {f['rps']:7.0f} req/s  p50 {f['p50_ms']:6.2f} ms  | stream TTFB p50 "
            f"{f['ttfb_ms']:6.2f} ms  p90 {f['ttfb_p90_ms']:6.2f} ms  whole stream {f['stream_ms']:6.1f} ms  "
            f"errors {f['errors']:.0f}"
        )
    print("  rounds req/s direct/proxy: " + ", ".join(f"{d['rps']:.0f}/{p['rps']:.0f}" for p, d in pairs))
    print(
        "  rounds TTFB ms direct/proxy: "
        + ", ".join(f"{d['ttfb_ms']:.2f}/{p['ttfb_ms']:.2f}" for p, d in pairs)
    )
    print(f"  throughput ratio proxy/direct: {ratio:.2f} (median of the rounds' ratios)")
    print(
        f"  time to first byte added by the proxy: {added:+.2f} ms; "
        f"to the end of a stream: {added_end:+.2f} ms"
    )
    errors = direct["errors"] + proxy["errors"]
    print("errors: none" if not errors else f"errors: {errors:.0f}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
