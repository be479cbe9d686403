"""The progress line: one line on stderr, rewritten in place on a terminal (a new line per check
otherwise), with requests sent and still planned per tier and an ETA computed from the plan."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from conformance.runner import Progress

__all__ = ["PlanProgress"]


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _seconds(detail: str) -> float:
    try:
        return float(detail.rsplit("in ", 1)[1].rstrip("s"))
    except (IndexError, ValueError):
        return 0.0


class PlanProgress:
    """``[12/44] 1m40s  chat 23 sent, 18 to go · assistants 51 sent, 30 to go · ETA 2m10s  <check>``"""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.live = bool(getattr(self.out, "isatty", lambda: False)())
        self._last = ""
        self._lock = threading.Lock()

    def __call__(self, event: Progress) -> None:
        if event.kind == "plan":
            print(f"plan: essential requests per tier: {event.detail}", file=self.out, flush=True)
            return
        if event.kind == "end" or (
            event.kind == "wait"
            and not self.live
            and event.eta is not None
            and "next request in" in event.detail
            and _seconds(event.detail) < 10
        ):
            return  # a log (not a terminal) gets a line per check and per long wait only
        tiers = " · ".join(
            f"{t} {sent} sent, {left} to go" for t, (sent, left) in sorted(event.tiers.items())
        )
        eta = f" · ETA {_clock(event.eta)}" if event.eta is not None else ""
        what = event.detail if event.kind == "wait" else event.check
        line = f"[{event.index:>2}/{event.total}] {_clock(event.elapsed)}  {tiers}{eta}  {what}"
        if line == self._last:
            return
        self._last = line
        with self._lock:  # the two lanes report from their own threads
            self.out.write("\r\033[K" + line if self.live else line + "\n")
            self.out.flush()

    def close(self) -> None:
        if self.live and self._last:
            print(file=self.out, flush=True)
