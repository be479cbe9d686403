"""The inspection and control API under ``/__mock/`` (no API key, never rate-limited) and ``/healthz``.

Who may call these routes (this machine, or the control token; the listener's Host names; no
foreign origin; state changes with ``x-mock-control``) is ``mockserver.control``'s guard,
wrapped around them by the app, not a concern of the handlers here."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from ragen_spec.judge import text_of

from mockserver.auth import mask
from mockserver.context import STATE, MockState
from mockserver.errors import InvalidRequestError, NotFoundError
from mockserver.faults import FaultError, parse_fault
from mockserver.journal import entry_of

__all__ = ["STATIC_DIR", "routes"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
KEEPALIVE_S = 15.0

routes = web.RouteTableDef()


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(payload).encode(), status=status, content_type="application/json")


def _state(request: web.Request) -> MockState:
    return request.app[STATE]


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        raise InvalidRequestError("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.", code="invalid_type")
    return body


def _int_query(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequestError(f"'{name}' must be an integer.", code="invalid_value", param=name) from None


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


@routes.get("/__mock/")
async def dashboard(request: web.Request) -> web.StreamResponse:
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        raise NotFoundError(
            "The dashboard is not installed (mockserver/static/index.html).", code="no_dashboard"
        )
    return web.FileResponse(index)


@routes.get("/__mock/stats")
async def stats(request: web.Request) -> web.Response:
    state = _state(request)
    return _json(
        {
            "active_streams": state.active_streams,
            "journal_entries": len(state.journal.entries),
            "journal_subscribers": len(state.journal.subscribers),
            "armed_faults": len(state.faults.armed),
            "clock_offset_s": state.clock.offset,
        }
    )


# --- journal ------------------------------------------------------------------------------------
@routes.get("/__mock/journal")
async def journal(request: web.Request) -> web.Response:
    state = _state(request)
    limit = _int_query(request, "limit", 100) or 100
    entries = state.journal.search(
        limit=max(limit, 1),
        path=request.query.get("path") or None,
        status=_int_query(request, "status", None),
        key=request.query.get("key") or None,
        request_id=request.query.get("request_id") or None,
        violation=request.query.get("violation") or None,
        mask=mask,
    )
    return _json({"data": [e.to_json() for e in entries]})


@routes.get("/__mock/violations")
async def violations(request: web.Request) -> web.Response:
    """What the validating proxy found since the last reset, counted per requirement (most first)."""
    journal = _state(request).journal
    rows = [
        {
            "requirement": rid,
            "level": level,
            "by": by,
            "count": count,
            "text": text_of(rid) if rid else "the request schema",
            "last_entry": last,
            "last_message": message,
        }
        for (rid, level, by), (count, last, message) in journal.violation_counts.items()
    ]
    rows.sort(key=lambda r: (-r["count"], str(r["requirement"])))
    must = sum(r["count"] for r in rows if r["level"] == "MUST" and r["by"] == "server")
    return _json({"data": rows, "server_must_violations": must})


@routes.delete("/__mock/journal")
async def clear_journal(request: web.Request) -> web.Response:
    _state(request).journal.clear()
    return _json({"deleted": True})


@routes.get("/__mock/journal/stream")
async def journal_stream(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    entry_of(request).stamp(request, response)
    await response.prepare(request)
    queue = state.journal.subscribe()
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                entry = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if entry is None:  # the server is shutting down
                break
            await response.write(f"data: {json.dumps(entry)}\n\n".encode())
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        state.journal.unsubscribe(queue)
    return response


@routes.get("/__mock/journal/{request_id}")
async def journal_entry(request: web.Request) -> web.Response:
    entry = _state(request).journal.find(request.match_info["request_id"])
    if entry is None:
        raise NotFoundError(f"No journal entry '{request.match_info['request_id']}'.", code="entry_not_found")
    return _json(entry.to_json())


# --- state ----------------------------------------------------------------------------------------
@routes.get("/__mock/threads")
async def threads(request: web.Request) -> web.Response:
    wanted = request.query.get("assistant_id") or None
    data = [t.to_json() for t in _state(request).store.threads if wanted is None or t.assistant_id == wanted]
    return _json({"data": data})


@routes.get("/__mock/assistants")
async def assistants(request: web.Request) -> web.Response:
    return _json({"data": _state(request).store.snapshot()})


@routes.post("/__mock/reset")
async def reset(request: web.Request) -> web.Response:
    await _state(request).reset()
    return _json({"reset": True})


# --- rate limits and clock -----------------------------------------------------------------------
@routes.get("/__mock/ratelimit")
async def ratelimit(request: web.Request) -> web.Response:
    return _json({"data": _state(request).limiter.snapshot()})


@routes.post("/__mock/ratelimit/reset")
async def ratelimit_reset(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _body(request)
    client, tier = body.get("client"), body.get("tier")
    if client is not None and not isinstance(client, str):
        raise InvalidRequestError("'client' must be a string.", code="invalid_type", param="client")
    if tier is not None and (not isinstance(tier, str) or tier not in state.limiter.windows):
        raise InvalidRequestError(
            f"'tier' must be one of {sorted(state.limiter.windows)}.", code="invalid_value", param="tier"
        )
    state.limiter.reset(client=client, tier=tier)
    return _json({"data": state.limiter.snapshot()})


@routes.post("/__mock/clock/advance")
async def clock_advance(request: web.Request) -> web.Response:
    state = _state(request)
    seconds = (await _body(request)).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 10**7:
        raise InvalidRequestError("'seconds' must be a number from 0.", code="invalid_value", param="seconds")
    state.clock.advance(float(seconds))
    return _json({"offset_s": state.clock.offset})


# --- faults ----------------------------------------------------------------------------------------
@routes.get("/__mock/faults")
async def list_faults(request: web.Request) -> web.Response:
    return _json({"data": [f.to_json() for f in _state(request).faults.armed]})


@routes.post("/__mock/faults")
async def arm_fault(request: web.Request) -> web.Response:
    try:
        fault = parse_fault(await _body(request))
    except FaultError as exc:
        raise InvalidRequestError(str(exc), code="invalid_fault") from None
    return _json(_state(request).faults.arm(fault).to_json())


@routes.delete("/__mock/faults")
async def clear_faults(request: web.Request) -> web.Response:
    _state(request).faults.disarm()
    return _json({"deleted": True})


@routes.delete("/__mock/faults/{fault_id}")
async def disarm_fault(request: web.Request) -> web.Response:
    fault_id = request.match_info["fault_id"]
    if not _state(request).faults.disarm(fault_id):
        raise NotFoundError(f"No armed fault '{fault_id}'.", code="fault_not_found")
    return _json({"id": fault_id, "deleted": True})
