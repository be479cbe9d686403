"""The mock's mutable state: assistants per organization and debug threads.

Held by the app under a typed key (``STORE``), never in globals. With ``--state FILE`` every
change is also written to SQLite in one transaction (``mockserver.persist``) before it is applied
in memory, so a failed write leaves both unchanged. Writes are coroutines: the SQLite work runs
on the persistence's own thread while the event loop serves other requests, and one write at a
time (``_writing``) reads, writes and applies, so concurrent changes never overwrite each other.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from mockserver.config import AssistantSeed, MockConfig, OrgSpec
from mockserver.errors import NotFoundError

__all__ = ["AssistantRecord", "Persistence", "Store", "Thread"]

THREADS_KEPT = 2000
THREADS_BYTES = 64 * 1024 * 1024  # the threads kept in memory hold at most about this much text

# Constants the Assistants API accepts and ignores (ASST-OBJ-2).
IGNORED_CONSTANTS: dict[str, Any] = {
    "description": None,
    "metadata": {},
    "tool_resources": {},
    "top_p": 1.0,
    "response_format": "auto",
}
TOOLS = [{"type": "file_search"}]


@dataclass(frozen=True, slots=True)
class AssistantRecord:
    id: str
    org_id: str
    name: str | None
    instructions: str | None
    created_at: int
    seq: int


@dataclass(slots=True)
class Thread:
    id: str
    assistant_id: str
    key: str  # masked
    created_at: int
    request_id: str
    instructions: str | None
    messages: list[dict[str, str]]
    answer: str

    def size(self) -> int:
        """About what the thread holds in memory (its text), for the store's bound."""
        text = sum(len(m.get("content") or "") for m in self.messages)
        return 256 + text + len(self.answer) + len(self.instructions or "")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "assistant_id": self.assistant_id,
            "key": self.key,
            "created_at": self.created_at,
            "request_id": self.request_id,
            "instructions": self.instructions,
            "messages": self.messages,
            "answer": self.answer,
        }


class Persistence(Protocol):
    @property
    def writer(self) -> Executor | None:
        """Where writes run (None: the loop's default executor)."""
        ...

    def load(self) -> tuple[list[AssistantRecord], list[Thread]] | None: ...
    def replace_all(self, assistants: list[AssistantRecord], threads: list[Thread]) -> None: ...
    def put_assistant(self, record: AssistantRecord) -> None: ...
    def delete_assistant(self, assistant_id: str) -> None: ...
    def add_thread(self, thread: Thread) -> None: ...
    def close(self) -> None: ...


@dataclass
class _Org:
    spec: OrgSpec
    model: str
    assistants: dict[str, AssistantRecord] = field(default_factory=dict)


class Store:
    def __init__(
        self, config: MockConfig, *, default_model: str, persistence: Persistence | None = None
    ) -> None:
        self.config = config
        self.default_model = default_model
        self.persistence = persistence
        self.seeds: dict[str, AssistantSeed] = {a.id: a for o in config.orgs for a in o.assistants}
        self._seq = itertools.count()
        self._orgs: dict[str, _Org] = {}
        self._owner: dict[str, str] = {}
        self.threads: deque[Thread] = deque()
        self._thread_bytes = 0
        self._writing = asyncio.Lock()
        loaded = persistence.load() if persistence is not None else None
        if loaded is None:  # start-up: no loop serves yet, so the write may block
            records = self._seed_records()
            if persistence is not None:
                persistence.replace_all(records, [])
            self._install(records, [])
        else:
            self._install(*loaded)

    # --- lifecycle --------------------------------------------------------------------------
    def _seed_records(self) -> list[AssistantRecord]:
        return [
            AssistantRecord(a.id, o.id, a.name, a.instructions, a.created_at, next(self._seq))
            for o in self.config.orgs
            for a in o.assistants
        ]

    def _install(self, records: list[AssistantRecord], threads: list[Thread]) -> None:
        self._orgs = {o.id: _Org(o, o.model or self.default_model) for o in self.config.orgs}
        self._owner = {}
        top = -1
        for r in records:
            org = self._orgs.get(r.org_id)
            if org is None:  # an organization no longer in the config
                continue
            org.assistants[r.id] = r
            self._owner[r.id] = r.org_id
            top = max(top, r.seq)
        self._seq = itertools.count(top + 1)
        self.threads = deque()
        self._thread_bytes = 0
        for thread in threads:
            self._keep(thread)

    async def _persist(self, write: Callable[..., None], *args: Any) -> None:
        """``write(*args)`` on the persistence's thread (nothing without persistence)."""
        if self.persistence is not None:
            await asyncio.get_running_loop().run_in_executor(self.persistence.writer, write, *args)

    async def reset(self) -> None:
        """Back to the configuration (``POST /__mock/reset``)."""
        async with self._writing:
            self._seq = itertools.count()
            records = self._seed_records()
            if self.persistence is not None:
                await self._persist(self.persistence.replace_all, records, [])
            self._install(records, [])

    # --- reads --------------------------------------------------------------------------------
    def org_ids(self) -> list[str]:
        return list(self._orgs)

    def model_of(self, org_id: str) -> str:
        return self._orgs[org_id].model

    def find(self, org_id: str, assistant_id: str) -> AssistantRecord | None:
        """The assistant if it belongs to ``org_id``; another org's is as invisible as a missing one."""
        org = self._orgs.get(org_id)
        return None if org is None else org.assistants.get(assistant_id)

    def ordered(self, org_id: str, *, descending: bool) -> list[AssistantRecord]:
        records = sorted(self._orgs[org_id].assistants.values(), key=lambda r: (r.created_at, r.seq))
        return records[::-1] if descending else records

    def to_api(self, record: AssistantRecord) -> dict[str, Any]:
        org = self._orgs[record.org_id]
        return {
            "id": record.id,
            "object": "assistant",
            "created_at": record.created_at,
            "name": record.name,
            "description": IGNORED_CONSTANTS["description"],
            "model": org.model,
            "instructions": record.instructions,
            "tools": [dict(t) for t in TOOLS],
            "tool_resources": {},
            "metadata": {},
            "temperature": org.spec.temperature,
            "top_p": IGNORED_CONSTANTS["top_p"],
            "response_format": IGNORED_CONSTANTS["response_format"],
        }

    # --- writes -------------------------------------------------------------------------------
    async def create(self, org_id: str, *, name: str, instructions: str | None) -> AssistantRecord:
        async with self._writing:
            record = AssistantRecord(
                id=f"asst-{uuid.uuid4()}",
                org_id=org_id,
                name=name,
                instructions=instructions or None,
                created_at=int(time.time()),
                seq=next(self._seq),
            )
            if self.persistence is not None:
                await self._persist(self.persistence.put_assistant, record)
            self._orgs[org_id].assistants[record.id] = record
            self._owner[record.id] = org_id
            return record

    async def modify(self, record: AssistantRecord, changes: dict[str, Any]) -> AssistantRecord:
        async with self._writing:
            current = self.find(record.org_id, record.id)  # as now, after any write before this one
            if current is None:
                raise NotFoundError(f"No assistant found with id '{record.id}'.", code="assistant_not_found")
            updated = replace(current, **changes)
            if self.persistence is not None:
                await self._persist(self.persistence.put_assistant, updated)
            self._orgs[record.org_id].assistants[record.id] = updated
            return updated

    async def delete(self, record: AssistantRecord) -> None:
        async with self._writing:
            if self.find(record.org_id, record.id) is None:
                return  # deleted meanwhile
            if self.persistence is not None:
                await self._persist(self.persistence.delete_assistant, record.id)
            del self._orgs[record.org_id].assistants[record.id]
            self._owner.pop(record.id, None)

    async def add_thread(self, thread: Thread) -> None:
        async with self._writing:
            if self.persistence is not None:
                await self._persist(self.persistence.add_thread, thread)
            self._keep(thread)

    def _keep(self, thread: Thread) -> None:
        """Add ``thread``; the oldest leave past ``THREADS_KEPT`` or ``THREADS_BYTES``."""
        self.threads.append(thread)
        self._thread_bytes += thread.size()
        while len(self.threads) > THREADS_KEPT or (
            self._thread_bytes > THREADS_BYTES and len(self.threads) > 1
        ):
            self._thread_bytes -= self.threads.popleft().size()

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {"org_id": org_id, "assistants": [self.to_api(r) for r in self.ordered(org_id, descending=False)]}
            for org_id in self._orgs
        ]
