"""The mock's request pipeline as ONE aiohttp middleware that runs the stages in order::

    journal (x-request-id, entry, access log) → CORS preflight → [response check] → errors
      (the envelope) → faults → rate limit (per tier) → route: auth + scope → validation → handler

Each stage is a plain function kept in its own module (``journal``, ``cors``, ``selfcheck``,
``errors``, ``faults``, ``ratelimit``), so the order reads here in one place. Why not one
``@web.middleware`` per stage: aiohttp runs each as a coroutine behind a handler wrapper, which
cost a few microseconds per request for five stages that usually do nothing. The per-stage
middlewares still exist (``journal_middleware`` …) for apps that compose them differently.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from mockserver.cors import CorsPolicy, preflight
from mockserver.errors import error_response
from mockserver.faults import Faults, apply_faults, faults_pending
from mockserver.journal import Decorate, Journal

__all__ = ["pipeline_middleware"]

Stage = Callable[[web.Request], None]
Check = Callable[[web.Request, web.StreamResponse], None]


def pipeline_middleware(
    *,
    journal: Journal,
    decorate: Decorate,
    cors: CorsPolicy,
    faults: Faults,
    rate_limit: Stage | None = None,
    check: Check | None = None,
) -> Middleware:
    """``rate_limit``: ``ratelimit.admission(...)`` when limits are on; ``check``:
    ``selfcheck.response_check(...)`` with ``--validate-responses``."""

    @web.middleware
    async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
        entry = journal.begin(request, decorate)
        response: web.StreamResponse | None = preflight(cors, request)
        if response is None:
            try:
                if faults_pending(faults, request):
                    await apply_faults(faults, request)
                if rate_limit is not None:
                    rate_limit(request)
                response = await handler(request)
            except Exception as exc:
                response = error_response(request, exc)
            if check is not None:
                check(request, response)
        journal.end(request, entry, response, decorate)
        return response

    return pipeline
