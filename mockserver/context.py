"""Everything one running mock holds, kept on the app under ``STATE`` (no module globals)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from mockserver.answers import Knowledge
from mockserver.auth import Caller, KeyRing
from mockserver.config import MockConfig
from mockserver.errors import NotFoundError
from mockserver.faults import Faults
from mockserver.journal import Journal
from mockserver.ratelimit import TierLimiter, VirtualClock
from mockserver.settings import Settings
from mockserver.sse import ClientGone, EventStream
from mockserver.state import AssistantRecord, Store

__all__ = ["STATE", "MockState"]


@dataclass
class MockState:
    settings: Settings
    config: MockConfig
    store: Store
    keyring: KeyRing
    clock: VirtualClock
    limiter: TierLimiter
    journal: Journal
    faults: Faults
    active_streams: int = 0
    _knowledge: dict[tuple[str, str | None], Knowledge] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def streaming(
        self, request: web.Request, *, named_events: bool = False
    ) -> AsyncIterator[EventStream]:
        """This request's SSE stream, paced and faulted per the settings and counted in
        ``active_streams``; a client that leaves ends it quietly (no task outlives it)."""
        stream = EventStream(
            request,
            delay_s=self.settings.stream_delay_ms / 1000,
            faults=self.faults,
            named_events=named_events,
        )
        self.active_streams += 1
        try:
            async with stream:
                yield stream
        except ClientGone:
            pass
        finally:
            self.active_streams -= 1

    def knowledge(self, record: AssistantRecord) -> Knowledge:
        cache_key = (record.id, record.name)
        cache = self._knowledge
        found = cache.get(cache_key)
        if found is None:
            if len(cache) >= self.settings.cache_entries:  # renames must not grow it without end
                del cache[next(iter(cache))]  # the oldest
            found = cache[cache_key] = Knowledge(self.store.seeds.get(record.id), record.name)
        return found

    def assistant(
        self, caller: Caller, raw_id: str, *, param: str | None = "assistant_id"
    ) -> AssistantRecord:
        """The caller's organization's assistant, by ``asst-`` id or bare project id (CHAT-REQ-9)."""
        assistant_id = raw_id if raw_id.startswith("asst-") else "asst-" + raw_id
        record = self.store.find(caller.org_id, assistant_id)
        if record is None:
            raise NotFoundError(
                f"No assistant found with id '{raw_id}'.", code="assistant_not_found", param=param
            )
        return record

    async def reset(self) -> None:
        await self.store.reset()
        self.journal.clear()
        self.limiter.reset()
        self.faults.disarm()
        self.clock.reset()
        self._knowledge.clear()


STATE = web.AppKey("state", MockState)
