"""The routes both mock apps add after their API's, in the app's stages (``mockserver.pipeline``):
the inspection API and ``/healthz`` (``mockserver.routes.inspect``), the dashboard's files
(``mockserver.staticfiles``) and the catch-all for what no route handles (``mockserver.fallback``).
Control routes (``/__mock/``) also pass the guard (``mockserver.control``), just outside their
handlers; ``/healthz`` and the API's routes do not.
"""

from __future__ import annotations

from typing import cast

from aiohttp import web
from aiohttp.typedefs import Handler

from mockserver.control import ControlGuard, is_control_path
from mockserver.fallback import add_fallback
from mockserver.pipeline import Wrap
from mockserver.routes import inspect
from mockserver.staticfiles import static_handler

__all__ = ["add_inspection"]


def add_inspection(app: web.Application, wrap: Wrap, guard: ControlGuard) -> None:
    """Call after the API's routes: the catch-all added here must come last."""
    app.router.add_routes(_wrapped(inspect.routes, wrap, guard))
    if inspect.STATIC_DIR.is_dir():
        static = wrap(guard.wrap(static_handler(inspect.STATIC_DIR)))
        app.router.add_get("/__mock/static", static)  # the directory itself: 403, as add_static
        app.router.add_get("/__mock/static/{filename:.*}", static)
    add_fallback(app, lambda handler: wrap(guard.wrap_unrouted(handler)))


def _wrapped(table: web.RouteTableDef, wrap: Wrap, guard: ControlGuard) -> list[web.RouteDef]:
    """``table``'s routes (plain handlers, no class-based views) with their handlers wrapped,
    behind the guard when they are control routes."""
    routes = []
    for d in table:
        if isinstance(d, web.RouteDef):
            handler = cast(Handler, d.handler)
            if is_control_path(d.path):
                handler = guard.wrap(handler)
            routes.append(web.RouteDef(d.method, d.path, wrap(handler), d.kwargs))
    return routes
