"""ragen-load over real HTTP on loopback against the mock, and against broken configurations
of it: each defect must be caught by its own property (short windows, bounded runs)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from loadtests.cli import main
from loadtests.records import read_records
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.demo import KEY as DEMO_KEY
from mockserver.demo import SUPPORT_ASSISTANT
from mockserver.settings import Settings

pytestmark = pytest.mark.slow

WINDOW = 2.0
IPS = "127.0.0.2,127.0.0.3"
# Distributed runs cross three processes (master and workers, each with its own gevent loop): on a
# busy CI machine users spawn on a worker up to a second after the master's tick, which would eat
# a whole 1-s burst. Wider windows and 3-s bursts leave every phase room (Locust's master already
# waits for its workers to be ready before the first tick).
DISTRIBUTED = ("--window", "8", "--burst", "3")
DISTRIBUTED_WINDOW = 8.0


@contextmanager
def mock(window: float = WINDOW, **changes: Any) -> Iterator[str]:
    settings = Settings(chat_window=window, assistants_window=window).replace(**changes)
    with BackgroundServer(lambda: create_app(settings)) as server:
        yield server.url


def load(url: str, out: Path, *extra: str, tier: str = "chat") -> tuple[int, dict[str, dict[str, str]]]:
    code = main(
        [
            "--base-url", url,
            "--api-key", DEMO_KEY,
            "--assistant-id", SUPPORT_ASSISTANT,
            "--tier", tier,
            "--limit", "chat=10,assistants=20",
            "--window", str(WINDOW),
            "--users", "4",
            "--source-ips", IPS,
            "--out", str(out),
            *extra,
        ]
    )  # fmt: skip
    summary = json.loads((out / "verdicts.json").read_text())
    verdicts = {t["tier"]["name"]: {v["name"]: v["status"] for v in t["verdicts"]} for t in summary["tiers"]}
    return code, verdicts


def failing(verdicts: dict[str, str]) -> set[str]:
    return {name for name, status in verdicts.items() if status == "FAIL"}


def test_ragen_load_mock_holds_both_tiers(tmp_path: Path) -> None:
    with mock() as url:
        code, verdicts = load(url, tmp_path, tier="all")
    assert code == 0
    for tier in ("chat", "assistants"):
        assert verdicts[tier].pop("limiter") == "INFO"  # the inferred algorithm, information only
        assert set(verdicts[tier].values()) == {"PASS"}, verdicts[tier]
    for name in ("chat.html", "chat_stats.csv", "assistants.html", "assistants_stats.csv"):
        assert (tmp_path / name).stat().st_size > 0
    _, records = read_records(tmp_path / "chat-records.jsonl")
    assert {r["op"] for r in records} == {"chat", "chat-stream"}
    assert {r["ip"] for r in records} == set(IPS.split(","))


def test_ragen_load_limit_too_high_is_a_leak(tmp_path: Path) -> None:
    # 15 per window instead of 10: one burst cannot prove it (a fixed window may admit 20 across a
    # boundary), so the recovery phase keeps the pressure on for several windows (--duration).
    with mock(chat_limit=15) as url:
        code, verdicts = load(url, tmp_path, "--duration", "15")
    assert code == 1
    assert "no-leak" in failing(verdicts["chat"])
    assert verdicts["chat"]["limit-reached"] == verdicts["chat"]["recovery"] == "PASS"


def test_ragen_load_limit_too_low_is_over_throttling(tmp_path: Path) -> None:
    with mock(chat_limit=5) as url:
        code, verdicts = load(url, tmp_path)
    assert code == 1
    assert "limit-reached" in failing(verdicts["chat"])
    assert verdicts["chat"]["no-leak"] == verdicts["chat"]["isolation"] == "PASS"


def test_ragen_load_missing_retry_after_is_a_malformed_429(tmp_path: Path) -> None:
    # Retry-After is a SHOULD (RATE-RETRY-1): a warning, and a failure under --strict.
    with mock(retry_after=False) as url:
        code, verdicts = load(url, tmp_path / "lenient")
        strict_code, strict_verdicts = load(url, tmp_path / "strict", "--strict")
    assert code == 0
    assert {n for n, s in verdicts["chat"].items() if s == "WARN"} == {"well-formed-429"}
    assert failing(verdicts["chat"]) == set()
    assert strict_code == 1
    assert strict_verdicts["chat"]["well-formed-429"] == "WARN"


def test_ragen_load_server_errors_under_load_are_unhealthy(tmp_path: Path) -> None:
    with mock() as url:
        fault = json.dumps({"kind": "status", "status": 500, "count": 5}).encode()
        request = urllib.request.Request(
            url + "/__mock/faults",
            data=fault,
            headers={"Content-Type": "application/json", "x-mock-control": "1"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.status in (200, 201)
        code, verdicts = load(url, tmp_path)
    assert code == 1
    assert failing(verdicts["chat"]) == {"healthy"}


def test_ragen_load_shared_budget_fails_chat_isolation_only(tmp_path: Path) -> None:
    with mock(rate_limit_scope="global") as url:
        code, verdicts = load(url, tmp_path, tier="all")
    assert code == 1
    assert failing(verdicts["chat"]) == {"isolation"}
    # RATE-ASST-2 is MAY: a budget per key or organization is conformant for the assistants tier.
    assert verdicts["assistants"]["isolation"] == "INFO"
    assert not failing(verdicts["assistants"])


def test_ragen_load_distributed_two_worker_processes(tmp_path: Path) -> None:
    with mock(window=DISTRIBUTED_WINDOW) as url:
        code, verdicts = load(
            url, tmp_path, "--processes", "2", "--source-ips", "127.0.0.2,127.0.0.3,127.0.0.4", *DISTRIBUTED
        )
    assert code == 0, verdicts
    assert set(verdicts["chat"].values()) == {"PASS", "INFO"}
    meta, records = read_records(tmp_path / "chat-records.jsonl")
    assert meta["workers"] == 2
    assert {r["worker"] for r in records} == {0, 1}  # records of both workers reached the master
    assert {r["ip"] for r in records} == {"127.0.0.2", "127.0.0.3", "127.0.0.4"}


def test_ragen_load_master_with_a_remote_worker(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    worker = subprocess.Popen(
        [sys.executable, "-m", "loadtests", "--worker", "--master-host", "127.0.0.1",
         "--master-port", port, "--tier", "chat", "--out", str(tmp_path / "worker")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with mock(window=DISTRIBUTED_WINDOW) as url:
            code, verdicts = load(
                url,
                tmp_path,
                *DISTRIBUTED,
                "--expect-workers",
                "1",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                port,
            )
        assert code == 0, verdicts
        assert worker.wait(timeout=30) == 0  # the worker leaves when its master quits
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    meta, records = read_records(tmp_path / "chat-records.jsonl")
    assert meta["workers"] == 1 and records
