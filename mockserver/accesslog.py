"""The structured access log, batched: one JSON line per request, written in bursts.

A log record per request (LogRecord, handler lock, a ``write`` to stderr) cost about as much as
answering the request. Lines are gathered instead and handed to the ``ragen_mock.access`` logger
as one record every ``FLUSH_S`` (or every ``MAX_LINES`` lines, and when the journal closes), so
the output is the same lines a moment later. A handler that prefixes records (a timestamp) will
prefix each burst, not each line. Disabled, as with ``--log-level WARNING``, it costs one check.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mockserver import jsonio

__all__ = ["FLUSH_S", "AccessLog", "access_log"]

FLUSH_S = 0.05
MAX_LINES = 1000

access_log = logging.getLogger("ragen_mock.access")


class AccessLog:
    def __init__(self, logger: logging.Logger = access_log) -> None:
        self.logger = logger
        self.lines: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def add(self, fields: dict[str, Any]) -> None:
        """Queue one line (no secrets: the caller passes masked keys only)."""
        self.lines.append(jsonio.dumps_str(fields))
        if len(self.lines) >= MAX_LINES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.lines:
            lines, self.lines = self.lines, []
            self.logger.info("\n".join(lines))
