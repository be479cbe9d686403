"""The dashboard's files under ``/__mock/static/``, as a handler the pipeline can wrap.

aiohttp's ``add_static`` registers its own handler, which no stage would wrap (see
``mockserver.pipeline``); this one keeps its rules: no path outside the directory (404), a
directory is 403, a file goes out as a ``FileResponse`` (ETag, ranges, conditional requests).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["static_handler"]


def static_handler(directory: Path) -> Handler:
    """For a route with a ``{filename}`` part (none: the directory itself)."""
    root = directory.resolve()

    def locate(filename: str) -> web.StreamResponse:
        if Path(filename).is_absolute():
            raise web.HTTPNotFound()
        try:
            path = root.joinpath(filename).resolve()
            path.relative_to(root)
        except (ValueError, RuntimeError):  # outside the root; a symlink loop
            raise web.HTTPNotFound() from None
        if path.is_dir():
            raise web.HTTPForbidden()
        if not path.is_file():  # FileResponse would answer a bare 404, without the envelope
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def static(request: web.Request) -> web.StreamResponse:
        filename = request.match_info.get("filename", "")
        return await asyncio.get_running_loop().run_in_executor(None, locate, filename)

    return static
