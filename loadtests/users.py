"""Locust users of the two tiers. Each binds its source address and records every response.

``HttpUser`` rather than ``FastHttpUser``: geventhttpclient cannot bind a source address, while a
urllib3 ``PoolManager(source_address=(ip, 0))`` makes the server see 127.0.0.2, 127.0.0.3, …
on loopback (Linux routes all of 127.0.0.0/8 to lo with no set-up).
"""

# Locust leaves parts of its User and LoadTestShape API unannotated.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import time
from typing import Any, ClassVar

from locust import HttpUser, task
from locust.clients import ResponseContextManager
from locust.env import Environment
from urllib3 import PoolManager

from loadtests.checks import rate_limit_problems
from loadtests.hooks import STATE, api_key_of, scenario_of
from loadtests.records import BODY_LIMIT, HEADERS_OF_INTEREST, Record

__all__ = ["AssistantsUser", "ChatUser", "RagenUser"]

TOO_MANY_REQUESTS = 429
QUESTION = "What is our refund policy?"


class RagenUser(HttpUser):
    """One concurrent client on one source address; the role is fixed by the phase it joined in."""

    abstract = True

    def __init__(self, environment: Environment) -> None:
        scenario = scenario_of(environment)
        self.scenario = scenario
        ips = scenario.ips
        self.worker: int | None = getattr(environment.runner, "worker_index", None)
        self.role = "secondary" if STATE.phase == "isolation" and len(ips) > 1 else "primary"
        if self.role == "primary":
            self.source_ip = ips[0]
        else:
            # Offset by the worker index so workers do not all start on the same address.
            self.source_ip = ips[1 + (next(STATE.secondary) + (self.worker or 0)) % (len(ips) - 1)]
        if self.source_ip:
            self.pool_manager = PoolManager(source_address=(self.source_ip, 0))
        self.host = scenario.base_url
        super().__init__(environment)
        self.client.headers["Authorization"] = f"Bearer {api_key_of(environment)}"
        self._requests = 0

    def wait_time(self) -> float:
        return self.scenario.wait_time

    def call(
        self,
        method: str,
        path: str,
        *,
        op: str,
        json: dict[str, Any] | None = None,
        stream: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send one request, judge it for Locust's statistics and record it for the verdicts."""
        phase = STATE.phase
        started = time.time()
        t0 = time.perf_counter()
        error: str | None = None
        body: str | None = None
        with self.client.request(
            method,
            path,
            name=op,
            json=json,
            headers=headers,
            stream=stream,
            timeout=self.scenario.timeout,
            catch_response=True,
        ) as resp:
            status = int(resp.status_code or 0)
            if status == 0:
                error = type(resp.error).__name__ + (f": {resp.error}" if resp.error else "")
            else:
                try:
                    if 200 <= status < 300:
                        error = (
                            _drain(resp) if stream else (None if resp.content is not None else "empty body")
                        )
                    else:
                        body = resp.text[:BODY_LIMIT]
                except Exception as exc:  # a stream cut mid-way surfaces while reading
                    error = f"body read failed: {type(exc).__name__}"
            # Measured before judging: our own checks are not the server's time.
            elapsed_ms = (time.perf_counter() - t0) * 1000
            lower = {k.lower(): v for k, v in resp.headers.items()} if status else {}
            _judge(resp, status, lower, body, error)
        self._requests += 1
        record: Record = {
            "t": started,
            "ms": elapsed_ms,
            "ip": self.source_ip,
            "role": self.role,
            "phase": phase,
            "op": op,
            "status": status,
            "headers": {k: lower[k] for k in HEADERS_OF_INTEREST if k in lower},
            "body": body,
            "error": error,
            "worker": self.worker,
        }
        STATE.log.append(record)


def _drain(resp: ResponseContextManager) -> str | None:
    """Read a whole SSE stream; a 200 stream must end with ``data: [DONE]``."""
    last = b""
    for line in resp.iter_lines():
        if line.startswith(b"data:"):
            last = line[5:].strip()
    return None if last == b"[DONE]" else "stream ended without data: [DONE]"


def _judge(
    resp: ResponseContextManager, status: int, headers: dict[str, str], body: str | None, error: str | None
) -> None:
    if error:
        resp.failure(error)
    elif 200 <= status < 300:
        resp.success()
    elif status == TOO_MANY_REQUESTS:
        problems = rate_limit_problems(headers, body)
        if problems:
            resp.failure("malformed 429: " + "; ".join(problems))
        else:
            resp.success()  # the tier doing its job
    else:
        resp.failure(f"unexpected {status}")


class ChatUser(RagenUser):
    """POST /v1/chat/completions, alternating non-streaming and streaming (they count the same)."""

    abstract = True  # concrete in loadtests/locustfiles/chat.py

    @task
    def completion(self) -> None:
        stream = self._requests % 2 == 1
        body: dict[str, Any] = {
            "assistant_id": self.scenario.assistant_id,
            "messages": [{"role": "user", "content": QUESTION}],
            "max_tokens": 16,
        }
        if stream:
            body["stream"] = True
        self.call(
            "POST", "/v1/chat/completions", op="chat-stream" if stream else "chat", json=body, stream=stream
        )


class AssistantsUser(RagenUser):
    """Read-only calls across the Assistants API (one budget for all its endpoints): list and retrieve."""

    abstract = True  # concrete in loadtests/locustfiles/assistants.py
    BETA: ClassVar[dict[str, str]] = {"OpenAI-Beta": "assistants=v2"}

    @task
    def read(self) -> None:
        assistant = self.scenario.assistant_id
        if assistant and self._requests % 2 == 1:
            self.call("GET", f"/v1/assistants/{assistant}", op="assistants-get", headers=self.BETA)
        else:
            self.call("GET", "/v1/assistants?limit=5", op="assistants-list", headers=self.BETA)
