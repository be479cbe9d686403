"""``--state FILE``: assistants and debug threads in SQLite, so a restart loses nothing.

Each change is one transaction, written before the in-memory store changes: a crash mid-request
leaves either the old or the new state, never half. Writes run on one thread of their own
(``writer``; ``mockserver.state.Store`` awaits them), so a slow disk or a lock held by another
program never stalls the event loop: ``/healthz`` and every other request go on. A lock held
elsewhere is waited for ``busy_timeout`` seconds, then the write fails as 503 ``state_busy``.
The file is locked (``flock``) for as long as the mock runs: a second mock refuses it at
start-up. The schema is created on first use; a file written for another configuration keeps
the assistants of organizations that still exist.
"""

from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mockserver.errors import ServerError
from mockserver.state import AssistantRecord, Thread

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, SQLite's own locking only
    fcntl = None  # type: ignore[assignment]

__all__ = ["SqlitePersistence", "StateError"]


class StateError(ValueError):
    """The state file cannot be used (locked by another mock, unreadable, not a database)."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assistants (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT, instructions TEXT,
    created_at INTEGER NOT NULL, seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS threads (
    id TEXT PRIMARY KEY, assistant_id TEXT NOT NULL, key TEXT NOT NULL, created_at INTEGER NOT NULL,
    request_id TEXT NOT NULL, instructions TEXT, messages TEXT NOT NULL, answer TEXT NOT NULL,
    n INTEGER NOT NULL
);
"""


def _text(value: str | None) -> bytes | None:
    """Client text as UTF-8 bytes; ``surrogatepass`` keeps lone surrogates (valid JSON escapes) intact."""
    return None if value is None else value.encode("utf-8", "surrogatepass")


def _str(value: bytes | str | None) -> str | None:
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else value


class SqlitePersistence:
    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self.path = str(path)
        self._lock_fd = _lock(self.path)
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            os.close(self._lock_fd)
            raise StateError(f"cannot use the state file {self.path}: {exc}") from None
        self._n = 0
        # One thread for every write, in order (``Store`` awaits each); reads at start-up only.
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragen-state")

    def load(self) -> tuple[list[AssistantRecord], list[Thread]] | None:
        try:
            return self._load()
        except sqlite3.Error as exc:
            raise StateError(f"cannot read the state file {self.path}: {exc}") from None

    def _load(self) -> tuple[list[AssistantRecord], list[Thread]] | None:
        if self._db.execute("SELECT 1 FROM meta WHERE name = 'seeded'").fetchone() is None:
            return None
        assistants = [
            AssistantRecord(row[0], row[1], _str(row[2]), _str(row[3]), row[4], row[5])
            for row in self._db.execute(
                "SELECT id, org_id, name, instructions, created_at, seq FROM assistants ORDER BY seq"
            )
        ]
        threads = []
        for row in self._db.execute(
            "SELECT id, assistant_id, key, created_at, request_id, instructions, messages, answer, n "
            "FROM threads ORDER BY n"
        ):
            threads.append(
                Thread(
                    id=row[0],
                    assistant_id=row[1],
                    key=row[2],
                    created_at=row[3],
                    request_id=row[4],
                    instructions=_str(row[5]),
                    messages=json.loads(row[6]),
                    answer=_str(row[7]) or "",
                )
            )
            self._n = max(self._n, row[8])
        return assistants, threads

    def _run(self, statements: list[tuple[str, tuple[object, ...]]]) -> None:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # "database is locked", after busy_timeout
            raise ServerError(
                f"The state file is busy (locked by another program): {exc}.", status=503, code="state_busy"
            ) from None
        try:
            for sql, params in statements:
                db.execute(sql, params)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @staticmethod
    def _put(record: AssistantRecord) -> tuple[str, tuple[object, ...]]:
        return (
            "INSERT OR REPLACE INTO assistants (id, org_id, name, instructions, created_at, seq) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.org_id,
                _text(record.name),
                _text(record.instructions),
                record.created_at,
                record.seq,
            ),
        )

    def replace_all(self, assistants: list[AssistantRecord], threads: list[Thread]) -> None:
        statements: list[tuple[str, tuple[object, ...]]] = [
            ("DELETE FROM assistants", ()),
            ("DELETE FROM threads", ()),
            ("INSERT OR REPLACE INTO meta (name, value) VALUES ('seeded', '1')", ()),
        ]
        statements += [self._put(r) for r in assistants]
        self._run(statements)
        for t in threads:
            self.add_thread(t)

    def put_assistant(self, record: AssistantRecord) -> None:
        self._run([self._put(record)])

    def delete_assistant(self, assistant_id: str) -> None:
        self._run([("DELETE FROM assistants WHERE id = ?", (assistant_id,))])

    def add_thread(self, thread: Thread) -> None:
        self._n += 1
        self._run(
            [
                (
                    "INSERT OR REPLACE INTO threads (id, assistant_id, key, created_at, request_id, "
                    "instructions, messages, answer, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        thread.id,
                        thread.assistant_id,
                        thread.key,
                        thread.created_at,
                        thread.request_id,
                        _text(thread.instructions),
                        json.dumps(thread.messages),
                        _text(thread.answer),
                        self._n,
                    ),
                )
            ]
        )

    def close(self) -> None:
        self.writer.shutdown(wait=True)
        self._db.close()
        os.close(self._lock_fd)


def _lock(path: str) -> int:
    """An exclusive advisory lock on ``path`` for this process's lifetime (its descriptor)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"cannot open the state file {path}: {exc.strerror}") from None
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StateError(f"the state file {path} is in use by another ragen-mock") from None
    return fd
