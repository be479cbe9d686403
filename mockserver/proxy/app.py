"""``create_proxy_app(settings)``: the mock of a generic OpenAI-compatible proxy (``--profile openai-proxy``).

Built from the Ragen mock's parts, not copies of them: the same pipeline around every handler
(``mockserver.pipeline``: journal and ``x-request-id``, CORS, the error envelope, faults), the
same inspection API, dashboard files and catch-all behind the same guard
(``mockserver.inspection``), the same auth, body parsing and spec-derived validation (here from
spec/openai-proxy.yaml, bundled) and the same SSE writer. Added on top: the proxy's error table
as the pipeline's ``retype`` stage (``mockserver.proxy.errors``) and its two operations
(``mockserver.proxy.routes``). No rate limit of its own: a 429 comes from a ``rate_limit``
fault, 502/503 from ``status`` faults. No middleware, so ``mockserver.serving``'s route memo
serves it as it serves the Ragen mock.
"""

from __future__ import annotations

from aiohttp import web
from ragen_spec import PROXY_SPEC_PATH
from ragen_spec.bundle import load_bundled

from mockserver.auth import KeyRing
from mockserver.config import MockConfig, OrgSpec
from mockserver.context import STATE, MockState
from mockserver.control import CONTROL, ControlGuard
from mockserver.cors import CorsPolicy, add_cors_headers
from mockserver.faults import Faults
from mockserver.inspection import add_inspection
from mockserver.journal import Journal
from mockserver.operations import bind, operations_from_spec
from mockserver.pipeline import pipeline
from mockserver.proxy.config import PROXY_ORG, ProxyConfig, load_proxy_config
from mockserver.proxy.errors import retyped
from mockserver.proxy.routes import CONFIG, HANDLERS
from mockserver.ratelimit import TierLimiter, VirtualClock
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

    wrap = pipeline(
        journal=state.journal, decorate=decorate, cors=policy, faults=state.faults, retype=retyped
    )
    # No middleware: each handler is wrapped instead (why: mockserver.pipeline).
    app = web.Application(client_max_size=settings.max_body_bytes + _SLACK)
    app[STATE] = state
    app[CONTROL] = guard
    app[CONFIG] = config

    for operation in operations_from_spec(SchemaSource(load_bundled(PROXY_SPEC_PATH))):
        handler = HANDLERS.get(operation.operation_id)
        if handler is None:
            raise RuntimeError(f"the proxy spec's operation {operation.operation_id} has no handler")
        app.router.add_route(operation.method, operation.path, wrap(bind(operation, handler, state)))
    add_inspection(app, wrap, guard)  # with the dashboard's files and the catch-all: last

    async def on_shutdown(app: web.Application) -> None:
        state.journal.close()

    app.on_shutdown.append(on_shutdown)
    return app
