"""Issue 18, "Start-up, as a new user" and the state file: one-line start-up errors (exit 2),
``--port 0`` printing the bound port, SQLite off the event loop with a busy timeout, one mock
per state file, and connections that cannot hold the server (idle timeout, connection cap)."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from mockserver import demo
from mockserver.app import create_app
from mockserver.background import BackgroundServer
from mockserver.settings import Settings

AUTH = {"Authorization": f"Bearer {demo.KEY}"}


def _mock(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mockserver", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _refused(*args: str) -> str:
    """Run a mock that must not start; its stderr, asserted to be one line with exit code 2."""
    process = _mock(*args)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ragen-mock: "), err
    assert "Traceback" not in err
    return lines[0]


def _read_port(process: subprocess.Popen[str]) -> tuple[int, list[str]]:
    """The port the banner names, from the first lines of stdout."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if found:
            return int(found.group(1)), seen
    raise AssertionError(f"no URL in the banner: {seen}")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_is_one_line_and_exit_2(busy_port: int) -> None:
    line = _refused("--port", str(busy_port), "--quiet")
    assert str(busy_port) in line and "in use" in line


def test_an_unreadable_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("orgs: [\n  - id: x\n")
    assert "broken.yaml" in _refused("--config", str(broken))
    assert "missing.yaml" in _refused("--config", str(tmp_path / "missing.yaml"))


def test_an_unreadable_state_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    garbage = tmp_path / "state.db"
    garbage.write_bytes(b"this is not a database, " * 100)
    assert "state.db" in _refused("--state", str(garbage))
    assert "state" in _refused("--state", str(tmp_path / "no-such-dir" / "state.db"))


def test_port_0_prints_the_bound_port_everywhere() -> None:
    process = _mock("--port", "0", "--no-rate-limits")
    try:
        port, banner = _read_port(process)
        assert port != 0
        assert process.stdout is not None
        while not any("curl" in line for line in banner):
            banner.append(process.stdout.readline())
        banner.append(process.stdout.readline())
        text = "".join(banner)
        assert ":0" not in text.replace(f":{port}", "")
        assert f"curl http://127.0.0.1:{port}/v1/chat/completions" in text
        assert httpx2.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_a_second_mock_refuses_the_same_state_file(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    first = _mock("--port", "0", "--state", state)
    try:
        _read_port(first)
        line = _refused("--port", "0", "--state", state, "--quiet")
        assert "in use by another ragen-mock" in line
    finally:
        first.terminate()
        first.communicate(timeout=15)
    # the lock ends with its mock
    with BackgroundServer(lambda: create_app(Settings(state=state))) as again:
        assert httpx2.get(again.url + "/healthz").status_code == 200


def test_a_locked_state_file_never_freezes_the_mock(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    settings = Settings(state=state, state_busy_timeout=1.0, rate_limits=False)
    with BackgroundServer(lambda: create_app(settings)) as background:
        other = sqlite3.connect(state, isolation_level=None)  # another program holds the write lock
        other.execute("BEGIN EXCLUSIVE")
        try:
            with httpx2.Client(base_url=background.url, headers=AUTH, timeout=30) as http:
                pending = http.build_request("POST", "/v1/assistants", json={"name": "waits"})
                started = time.monotonic()
                write = http.send(pending)
                waited = time.monotonic() - started
            assert write.status_code == 503 and write.json()["error"]["code"] == "state_busy"
            assert waited >= 0.9
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (
            httpx2.post(background.url + "/v1/assistants", json={"name": "ok"}, headers=AUTH).status_code
            == 200
        )


def test_healthz_answers_while_a_write_waits(tmp_path: Path) -> None:
    """The write waits on its own thread: other requests are answered meanwhile (before the
    write can finish, since the lock it waits for is released only afterwards)."""
    import threading

    state = str(tmp_path / "state.db")
    settings = Settings(state=state, state_busy_timeout=30.0, rate_limits=False)
    with BackgroundServer(lambda: create_app(settings)) as background:
        other = sqlite3.connect(state, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        results: list[int] = []
        writer = threading.Thread(
            target=lambda: results.append(
                httpx2.post(
                    background.url + "/v1/assistants", json={"name": "later"}, headers=AUTH, timeout=60
                ).status_code
            )
        )
        writer.start()
        time.sleep(0.5)  # the write is waiting for the lock now
        assert httpx2.get(background.url + "/healthz", timeout=20).status_code == 200
        assert httpx2.get(background.url + "/v1/assistants", headers=AUTH, timeout=20).status_code == 200
        assert results == []  # answered while the write still waited
        other.execute("ROLLBACK")  # the lock goes: the write completes
        other.close()
        writer.join(60)
        assert results == [200]


# --- connections ------------------------------------------------------------------------------------
def test_a_connection_without_a_complete_request_is_closed_after_the_idle_timeout() -> None:
    settings = Settings(idle_timeout=1.0)
    with BackgroundServer(lambda: create_app(settings)) as background:
        host, port = background.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            started = time.monotonic()
            for _ in range(3):
                time.sleep(0.3)
                try:
                    slow.sendall(b"X-Slow: 1\r\n")  # a slow client trickling headers
                except OSError:
                    break
            slow.settimeout(10)
            assert slow.recv(100) == b""  # closed by the server
            assert time.monotonic() - started < 8


def test_connections_past_the_cap_close_the_oldest_idle_ones() -> None:
    settings = Settings(max_connections=20)
    with BackgroundServer(lambda: create_app(settings)) as background:
        host, port = background.url.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(40)]
        try:
            time.sleep(0.3)
            # a real client still gets through, and the server holds no more than the cap
            assert httpx2.get(background.url + "/healthz", timeout=10).status_code == 200
            app = background.app
            assert app is not None
            closed = 0
            for sock in idle:
                sock.settimeout(0.05)
                try:
                    if sock.recv(1) == b"":
                        closed += 1
                except TimeoutError:
                    pass
            assert closed >= 20
        finally:
            for sock in idle:
                sock.close()


def _response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response's head and body (by Content-Length), without waiting for the connection to end."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return head, body


def _post_head(length: int) -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + demo.KEY.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(length).encode()
        + b"\r\n\r\n"
    )


def test_a_body_that_does_not_arrive_gets_408_after_the_read_timeout() -> None:
    settings = Settings(read_timeout=1.0)
    with BackgroundServer(lambda: create_app(settings)) as background:
        host, port = background.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as slow:
            slow.sendall(_post_head(1000) + b"{")
            started = time.monotonic()
            head, body = _response(slow)
            assert 0.9 <= time.monotonic() - started < 8
        assert head.split()[1] == b"408" and json.loads(body)["error"]["code"] == "request_timeout"
        # a body arriving in pieces within the timeout is fine
        payload = json.dumps(
            {"assistant_id": demo.SUPPORT_ASSISTANT, "messages": [{"role": "user", "content": "refund?"}]}
        ).encode()
        with socket.create_connection((host, int(port)), timeout=10) as pieces:
            pieces.sendall(_post_head(len(payload)) + payload[:10])
            time.sleep(0.3)
            pieces.sendall(payload[10:])
            head, body = _response(pieces)
        assert head.split()[1] == b"200" and json.loads(body)["object"] == "chat.completion"


def test_idle_connections_past_the_descriptor_limit_neither_block_nor_flood_the_log() -> None:
    """The issue's case: at a low descriptor limit, idle connections made requests time out and
    wrote a traceback per refused accept(). The cap stays below the limit and sheds idle ones."""
    import resource

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=low_limit,
    )
    idle: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        for _ in range(300):  # past the 256 descriptors the mock may have
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        time.sleep(0.5)
        answer = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert answer.status_code == 200
    finally:
        for sock in idle:
            sock.close()
        process.terminate()
        _, err = process.communicate(timeout=15)
    assert "Traceback" not in err
    assert err.count("--max-connections") <= 2  # one warning per burst, not one per connection
