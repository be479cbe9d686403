"""The mock's request pipeline, wrapped around every route's handler, runs the stages in order::

    journal (x-request-id, entry, access log) → CORS preflight → [response check] → errors
      (the envelope, [re-typed]) → faults → rate limit (per tier) → route: auth + scope → validation
      → handler

Each stage is a plain function kept in its own module (``journal``, ``cors``, ``selfcheck``,
``errors``, ``faults``, ``ratelimit``), so the order reads here in one place. Both mock apps are
composed with it: the Ragen mock (``mockserver.app``) and the proxy profile
(``mockserver.proxy.app``, which adds its error table as ``retype`` and has no rate limit).

Why a wrapper per route and not an aiohttp middleware: with any middleware aiohttp also runs its
own (``_fix_request_current_app``), and each is a coroutine behind a handler wrapper; together
they cost several microseconds per request, and ``mockserver.serving``'s route memo serves only
apps without one. So each app wraps every handler (the API's, the inspection API's, the static
files', and a catch-all route answering 404/405: ``mockserver.fallback``), and nothing reaches a
client without the stages.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from mockserver.cors import CorsPolicy, preflight
from mockserver.errors import error_response
from mockserver.faults import Faults, apply_faults, faults_pending
from mockserver.journal import Decorate, Journal

__all__ = ["Retype", "Wrap", "pipeline"]

Stage = Callable[[web.Request], None]
Check = Callable[[web.Request, web.StreamResponse], None]
Retype = Callable[[web.Request, Exception], Exception]
Wrap = Callable[[Handler], Handler]


def pipeline(
    *,
    journal: Journal,
    decorate: Decorate,
    cors: CorsPolicy,
    faults: Faults,
    rate_limit: Stage | None = None,
    check: Check | None = None,
    retype: Retype | None = None,
) -> Wrap:
    """A function that wraps a handler in the stages. ``rate_limit``: ``ratelimit.admission(...)``
    when limits are on; ``check``: ``selfcheck.response_check(...)`` with ``--validate-responses``;
    ``retype``: the exception to render instead of one that escaped (another profile's error
    table, ``mockserver.proxy.errors.retyped``)."""

    def wrap(handler: Handler) -> Handler:
        async def staged(request: web.Request) -> web.StreamResponse:
            entry = journal.begin(request, decorate)
            # most requests are not preflights: skip the call
            response: web.StreamResponse | None = (
                preflight(cors, request) if request.method == "OPTIONS" else None
            )
            if response is None:
                try:
                    if faults_pending(faults, request, tracked=entry.tracked):
                        await apply_faults(faults, request)
                    if rate_limit is not None:
                        rate_limit(request)
                    response = await handler(request)
                except Exception as exc:
                    response = error_response(request, exc if retype is None else retype(request, exc))
                if check is not None:
                    check(request, response)
            journal.end(request, entry, response)
            return response

        staged.__name__ = getattr(handler, "__name__", staged.__name__)
        return staged

    return wrap
