"""The mock in front of the real thing: ``ragen-mock --upstream URL`` (and ``--replay DIR``).

Every ``/v1/...`` request goes to the upstream with the client's own ``Authorization`` and its
answer comes back unchanged (``relay``); the exchange is then judged by the rules the gate uses
(``verdict``, ``ragen_spec.judge``), journaled with its violations, and recorded with
``--record DIR`` (``mockserver.recording``). ``--replay DIR`` answers from recordings instead,
with no upstream. The mock's own stages stay around the route: journal, CORS, fault injection
(a 503 or a cut stream injected into real traffic) and the error envelope; the rate limit and
the mock's handlers do not (the upstream has its own).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mockserver.pipeline import Wrap
from mockserver.settings import Settings
from mockserver.upstream.forward import Proxy
from mockserver.upstream.replay import Replay

__all__ = ["add_proxy_routes"]

API_ROUTE = "/v1/{tail:.*}"


def add_proxy_routes(app: web.Application, wrap: Wrap, settings: Settings) -> None:
    """Route every ``/v1/...`` request, any method, to the upstream or to the recordings."""
    if settings.replay is not None:
        handler: Any = Replay(settings).handle
    else:
        proxy = Proxy(settings)
        app.on_cleanup.append(proxy.close)
        handler = proxy.handle
    app.router.add_route("*", API_ROUTE, wrap(handler))
