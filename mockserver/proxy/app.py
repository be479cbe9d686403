"""``create_proxy_app(settings)``: the mock of a generic OpenAI-compatible proxy (``--profile openai-proxy``).

Built from the Ragen mock's parts, not copies of them: the same middlewares (CORS, journal and
``x-request-id``, the error envelope, faults), the same auth, body parsing and spec-derived
validation (here from spec/openai-proxy.yaml, bundled), the same SSE writer and the same
``/__mock/`` inspection API and dashboard. Added on top: the proxy's error table
(``mockserver.proxy.errors``) and its two operations (``mockserver.proxy.routes``). No rate
limit of its own: a 429 comes from a ``rate_limit`` fault, 502/503 from ``status`` faults.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from ragen_spec import PROXY_SPEC_PATH
from ragen_spec.bundle import load_bundled

from mockserver.auth import KeyRing
from mockserver.config import MockConfig, OrgSpec
from mockserver.context import STATE, MockState
from mockserver.control import CONTROL, ControlGuard
from mockserver.cors import CorsPolicy, add_cors_headers, cors_middleware
from mockserver.errors import error_middleware
from mockserver.faults import Faults, faults_middleware
from mockserver.journal import Journal, journal_middleware
from mockserver.operations import bind, operations_from_spec
from mockserver.proxy.config import PROXY_ORG, ProxyConfig, load_proxy_config
from mockserver.proxy.errors import proxy_errors_middleware
from mockserver.proxy.routes import CONFIG, HANDLERS
from mockserver.ratelimit import TierLimiter, VirtualClock
from mockserver.routes import inspect
from mockserver.settings import Settings
from mockserver.state import Store
from mockserver.validation import SchemaSource

__all__ = ["create_proxy_app"]

_SLACK = 1024  # as in mockserver.app: our own check answers 413 with the envelope


def create_proxy_app(
    settings: Settings | None = None, *, config: ProxyConfig | None = None
) -> web.Application:
    """The proxy mock; ``settings.config`` names its YAML (models, aliases, keys), None = the demo."""
    settings = settings or Settings()
    config = config or load_proxy_config(settings.config)
    mock_config = MockConfig(orgs=(OrgSpec(PROXY_ORG),), keys=config.key_specs())
    clock = VirtualClock()
    state = MockState(
        settings=settings,
        config=mock_config,
        store=Store(mock_config, default_model=config.models[0].id),
        keyring=KeyRing(mock_config.keys),
        clock=clock,
        limiter=TierLimiter({}, clock=clock, scope=settings.rate_limit_scope),
        journal=Journal.for_settings(settings),
        faults=Faults(settings.max_faults),
    )
    policy = CorsPolicy(settings.cors_origins)
    guard = ControlGuard.from_settings(settings)

    def decorate(request: web.BaseRequest, response: web.StreamResponse) -> None:
        """CORS on every response, streams included (the journal's entry adds x-request-id)."""
        add_cors_headers(policy, request, response)

    middlewares: list[Any] = [
        journal_middleware(state.journal, decorate),
        cors_middleware(policy),
        error_middleware,
        guard.middleware(),  # /__mock/ only
        proxy_errors_middleware(),
        faults_middleware(state.faults),
    ]
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes + _SLACK)
    app[STATE] = state
    app[CONTROL] = guard
    app[CONFIG] = config

    for operation in operations_from_spec(SchemaSource(load_bundled(PROXY_SPEC_PATH))):
        handler = HANDLERS.get(operation.operation_id)
        if handler is None:
            raise RuntimeError(f"the proxy spec's operation {operation.operation_id} has no handler")
        app.router.add_route(operation.method, operation.path, bind(operation, handler, state))
    app.router.add_routes(inspect.routes)
    if inspect.STATIC_DIR.is_dir():
        app.router.add_static("/__mock/static/", inspect.STATIC_DIR)

    async def on_shutdown(app: web.Application) -> None:
        state.journal.close()

    app.on_shutdown.append(on_shutdown)
    return app
