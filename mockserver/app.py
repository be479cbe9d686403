"""``create_app(settings)``: the aiohttp application of the mock. Nothing runs at import time.

Every route's handler is wrapped in the stages (``mockserver.pipeline``), outermost first::

    journal (x-request-id, access log) → cors (preflights) → [response check] → errors (the envelope)
      → faults → rate limit (per tier) → route: auth + scope → body/query validation → handler

Routes of the API come from the spec's ``paths`` (``mockserver.operations``); a spec operation
without a handler here fails at start-up rather than answering 404 at run time. The inspection
API, the dashboard's files and the catch-all come last (``mockserver.inspection``, shared with the
proxy profile); control routes (``/__mock/``) also pass the guard (``mockserver.control``) just
outside their handlers, the API's routes do not.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from mockserver.auth import KeyRing
from mockserver.config import MockConfig, load_config
from mockserver.context import STATE, MockState
from mockserver.control import CONTROL, ControlGuard
from mockserver.cors import CorsPolicy, add_cors_headers
from mockserver.demo import demo_config
from mockserver.faults import Faults
from mockserver.inspection import add_inspection
from mockserver.journal import Journal
from mockserver.keys import RATE_HEADERS
from mockserver.operations import bind, operations_from_spec
from mockserver.pipeline import pipeline
from mockserver.ratelimit import TierLimiter, VirtualClock, admission
from mockserver.routes import assistants, chat
from mockserver.selfcheck import response_check
from mockserver.settings import Settings
from mockserver.state import Store
from mockserver.validation import SchemaSource

__all__ = ["STATE", "create_app", "load_mock_config"]

log = logging.getLogger("ragen_mock")

HANDLERS = {**chat.HANDLERS, **assistants.HANDLERS}
# The largest body aiohttp buffers; our own check (max_body_bytes) answers 413 with the envelope.
_SLACK = 1024


def load_mock_config(settings: Settings) -> MockConfig:
    return demo_config(settings.model) if settings.config is None else load_config(settings.config)


def create_app(settings: Settings | None = None, *, spec: dict[str, Any] | None = None) -> web.Application:
    """The mock for ``settings``; ``spec`` replaces the shipped spec document (tests, experiments)."""
    settings = settings or Settings()
    config = load_mock_config(settings)
    persistence = None
    if settings.state is not None:
        from mockserver.persist import SqlitePersistence

        persistence = SqlitePersistence(settings.state, busy_timeout=settings.state_busy_timeout)
    store = Store(config, default_model=settings.model, persistence=persistence)
    clock = VirtualClock()
    limiter = TierLimiter(
        {
            "chat": (settings.chat_limit, settings.chat_window),
            "assistants": (settings.assistants_limit, settings.assistants_window),
        },
        clock=clock,
        scope=settings.rate_limit_scope,
    )
    state = MockState(
        settings=settings,
        config=config,
        store=store,
        keyring=KeyRing(config.keys),
        clock=clock,
        limiter=limiter,
        journal=Journal.for_settings(settings),
        faults=Faults(settings.max_faults),
    )
    policy = CorsPolicy(settings.cors_origins)
    guard = ControlGuard.from_settings(settings)
    tiers: dict[object, str] = {}
    responses: dict[object, dict[str, Any]] = {}
    source = SchemaSource(spec)

    def decorate(request: web.BaseRequest, response: web.StreamResponse) -> None:
        """Rate-limit and CORS headers, set before a response is prepared (streams included);
        the journal's entry adds x-request-id (``Entry.stamp``)."""
        if settings.rate_limits:  # no rate headers without limits: skip the (missing-key) lookup
            limits = request.get(RATE_HEADERS)
            if limits is not None:
                response.headers.update(limits)
        if "Origin" in request.headers:  # browsers only; most callers are not
            add_cors_headers(policy, request, response)

    wrap = pipeline(
        journal=state.journal,
        decorate=decorate,
        cors=policy,
        faults=state.faults,
        rate_limit=admission(limiter, tiers, retry_after=settings.retry_after)
        if settings.rate_limits and not settings.proxying  # a real upstream keeps its own limits
        else None,
        check=response_check(source, responses) if settings.validate_responses else None,
    )
    # No middleware: each handler is wrapped instead (why: mockserver.pipeline).
    app = web.Application(client_max_size=settings.max_body_bytes + _SLACK)
    app[STATE] = state
    app[CONTROL] = guard

    if settings.proxying:
        from mockserver.upstream import add_proxy_routes

        add_proxy_routes(app, wrap, settings)
    for operation in [] if settings.proxying else operations_from_spec(source):
        handler = HANDLERS.get(operation.operation_id)
        if handler is None:
            raise RuntimeError(f"the spec's operation {operation.operation_id} has no handler in the mock")
        route = app.router.add_route(operation.method, operation.path, wrap(bind(operation, handler, state)))
        responses[route] = operation.responses
        if operation.tier is not None:
            tiers[route] = operation.tier

    add_inspection(app, wrap, guard)  # with the dashboard's files and the catch-all: last

    async def on_shutdown(app: web.Application) -> None:
        state.journal.close()  # ends /__mock/journal/stream readers

    async def on_cleanup(app: web.Application) -> None:
        if store.persistence is not None:
            store.persistence.close()

    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app
