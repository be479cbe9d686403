"""The catch-all route: what aiohttp's router would answer 404 or 405 to, as a handler.

Neither mock app has a middleware (see ``mockserver.pipeline``), so a request no route matches
must still reach a handler wrapped in the stages to get the envelope, the ``x-request-id`` and the
journal, and a CORS preflight to any path must be answered. Added last, the route matches any
method on any path; the handler then asks the other resources which methods the path allows and
raises what aiohttp's router would have (``HTTPMethodNotAllowed`` or ``HTTPNotFound``), which
``errors.error_response`` renders as before (in the proxy profile after its ``retype`` stage,
which leaves them as they are: 404 and 405 have the same types in both error tables).
"""

from __future__ import annotations

from aiohttp import web

from mockserver.pipeline import Wrap

__all__ = ["add_fallback"]


def add_fallback(app: web.Application, wrap: Wrap) -> None:
    """Call after every other route is added."""
    catch_all: web.AbstractResource | None = None

    async def unrouted(request: web.Request) -> web.StreamResponse:
        allowed: set[str] = set()
        for resource in request.app.router.resources():
            if resource is not catch_all:
                allowed |= (await resource.resolve(request))[1]
        if allowed:
            raise web.HTTPMethodNotAllowed(request.method, allowed)
        raise web.HTTPNotFound()

    catch_all = app.router.add_route("*", "/{tail:.*}", wrap(unrouted)).resource
