"""The structured access log, batched: one JSON line per request, written in bursts.

A log record per request (LogRecord, handler lock, a ``write`` to stderr) cost about as much as
answering the request. Finished journal entries are queued instead (a reference, nothing
rendered), and every ``FLUSH_S`` (or ``MAX_LINES`` entries, and when the journal closes) they
become lines handed to the ``ragen_mock.access`` logger as one record, so the output is the
same lines a moment later. A handler that prefixes records (a timestamp) will
prefix each burst, not each line. Disabled (``--log-level WARNING``), the bursts are dropped unrendered.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

__all__ = ["FLUSH_S", "AccessLog", "access_log"]

FLUSH_S = 0.05
MAX_LINES = 1000

access_log = logging.getLogger("ragen_mock.access")


class Loggable(Protocol):
    def log_line(self) -> str:
        """The line, one JSON object; no secrets (keys masked)."""
        ...


class AccessLog:
    def __init__(self, logger: logging.Logger = access_log) -> None:
        self.logger = logger
        self.pending: list[Loggable] = []
        self._timer: asyncio.TimerHandle | None = None

    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def add(self, item: Loggable) -> None:
        """Queue one finished exchange, rendered at the next flush (which drops the lines when
        the logger is disabled: asking once per burst, not once per request)."""
        self.pending.append(item)
        if len(self.pending) >= MAX_LINES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.pending:
            items, self.pending = self.pending, []
            if self.enabled():
                self.logger.info("\n".join([item.log_line() for item in items]))
