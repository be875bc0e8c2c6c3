"""delivery.sqlite: what was delivered, so that every message goes out exactly once.

One row per message and channel (``smtp`` — a mail server — or ``outbox`` — .eml files),
keyed by (participant, event, SEQUENCE, method): the key stays valid across re-plans, which
raise SEQUENCE for whatever changed. A message's state moves

    queued ──▶ unknown ──▶ sent                 (the server said 250 / the file is in place)
       │           └─────▶ deferred ──▶ ...     (4xx: tried again after a back-off)
       ├─▶ failed                               (5xx, a rejected address: the server's words)
       └─▶ superseded                           (a later version replaced it before it went)

``unknown`` is written (and synced to disk) right before the last step that hands the
message over — the final "." of SMTP DATA, the rename of an .eml file — and ``sent`` right
after the server's answer. A process killed in between leaves exactly that one message
``unknown``: the one window nobody can close (the server may have accepted it). The next
`send` sends it again with the same Message-ID; every other message is either sent (never
again) or not handed over (sent next time). Each commit is synced (``synchronous=FULL``,
a persistent rollback journal, removed on close: the database is one file, safe to copy
between two transactions).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from scheduler.deliver.mail import OutboxRow
from scheduler.errors import UserError

LEDGER_FILE = "delivery.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    channel TEXT NOT NULL,           -- 'smtp' or 'outbox'
    participant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    method TEXT NOT NULL,            -- REQUEST or CANCEL
    file TEXT NOT NULL,              -- the invite, relative to the outputs folder
    version INTEGER,                 -- report.json's version when it was queued
    message_id TEXT NOT NULL,
    state TEXT NOT NULL,             -- queued unknown sent deferred failed superseded
    attempts INTEGER NOT NULL DEFAULT 0,
    recipient TEXT,
    server TEXT,                     -- host:port or the outbox folder
    date TEXT,                       -- the Date header, set on the first attempt
    code INTEGER,                    -- the server's last reply code
    reply TEXT,                      -- the server's last words (or why it failed)
    next_attempt REAL,               -- unix time before which a deferred one waits
    queued_at TEXT NOT NULL,
    done_at TEXT,
    PRIMARY KEY (channel, participant_id, event_id, sequence, method)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

STATES = ("queued", "unknown", "sent", "deferred", "failed", "superseded")
# The states a `send` works on; failed ones only when asked to try them again.
PENDING = ("queued", "unknown", "deferred")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Entry:
    """One message as the ledger knows it."""

    channel: str
    row: OutboxRow
    message_id: str
    state: str
    attempts: int
    date: str | None
    code: int | None
    reply: str | None
    next_attempt: float | None
    recipient: str | None


class Ledger:
    """The SQLite ledger of one outputs folder (see the module docstring)."""

    def __init__(self, path: Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise UserError(f"no delivery ledger at {self.path}")
        try:
            # Autocommit mode: every statement below that writes is its own synced
            # transaction unless grouped in `transaction()`.
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            # A persistent rollback journal: each commit is synced (FULL) without creating
            # and deleting the journal file (10x faster than DELETE here). Between two
            # transactions the database file alone holds everything.
            self.db.execute("PRAGMA journal_mode=PERSIST")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            raise UserError(f"{self.path} is not a delivery ledger: {error}") from None

    def close(self) -> None:
        """Close, leaving the database as one file (the journal removed)."""
        try:
            self.db.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:
            pass  # another process has it open: it removes the journal when it closes
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- settings ----------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        found = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if found is None else str(found[0])

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- the queue ---------------------------------------------------------------------

    def queue(
        self, channel: str, rows: Iterable[tuple[OutboxRow, str]], version: int | None
    ) -> int:
        """Add the outbox's messages (row, Message-ID) not yet known; a message still
        waiting whose (participant, event) now has a higher SEQUENCE is superseded.
        Returns how many were new."""
        before = self.db.total_changes
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO messages (channel, participant_id, event_id, sequence, "
                "method, file, version, message_id, state, queued_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                [
                    (channel, r.participant_id, r.event_id, r.sequence, r.method, r.file)
                    + (version, mid, _now())
                    for r, mid in rows
                ],
            )
            added = self.db.total_changes - before
            self.db.execute(
                "UPDATE messages SET state = 'superseded', reply = 'a later version replaced "
                "it before it was sent', done_at = ? WHERE channel = ? AND state IN "
                "('queued', 'deferred', 'failed') AND EXISTS (SELECT 1 FROM messages AS later "
                "WHERE later.channel = messages.channel AND later.participant_id = "
                "messages.participant_id AND later.event_id = messages.event_id AND "
                "later.sequence > messages.sequence)",
                (_now(), channel),
            )
        return added

    def entries(self, channel: str, states: Iterable[str] = STATES) -> list[Entry]:
        """The channel's messages in the given states, in the order they were queued."""
        wanted = tuple(states)
        marks = ", ".join("?" for _ in wanted)
        cursor = self.db.execute(
            "SELECT participant_id, event_id, sequence, method, file, message_id, state, "
            "attempts, date, code, reply, next_attempt, recipient FROM messages "
            f"WHERE channel = ? AND state IN ({marks}) ORDER BY rowid",
            (channel, *wanted),
        )
        return [
            Entry(
                channel=channel,
                row=OutboxRow(pid, eid, method, int(seq), file),
                message_id=mid,
                state=state,
                attempts=int(attempts),
                date=date,
                code=code,
                reply=reply,
                next_attempt=next_attempt,
                recipient=recipient,
            )
            for (
                pid,
                eid,
                seq,
                method,
                file,
                mid,
                state,
                attempts,
                date,
                code,
                reply,
                next_attempt,
                recipient,
            ) in cursor
        ]

    def counts(self, channel: str) -> dict[str, int]:
        """How many messages of the channel are in each state."""
        found = dict(
            self.db.execute(
                "SELECT state, COUNT(*) FROM messages WHERE channel = ? GROUP BY state",
                (channel,),
            ).fetchall()
        )
        return {state: int(found.get(state, 0)) for state in STATES}

    def knows_channel(self, channel: str) -> bool:
        """Whether any message was ever queued for the channel."""
        found = self.db.execute("SELECT 1 FROM messages WHERE channel = ? LIMIT 1", (channel,))
        return found.fetchone() is not None

    # -- one message's way -------------------------------------------------------------

    def handing_over(self, entry: Entry, *, recipient: str, server: str, date: str) -> None:
        """Right before the last step of handing the message over: it is ``unknown`` until
        `accepted` (or a refusal) is recorded."""
        self._update(
            entry,
            "state = 'unknown', attempts = attempts + 1, recipient = ?, server = ?, "
            "date = COALESCE(date, ?)",
            (recipient, server, date),
        )

    def accepted(self, entry: Entry, code: int, reply: str) -> None:
        self._update(
            entry,
            "state = 'sent', code = ?, reply = ?, done_at = ?, next_attempt = NULL",
            (code, reply, _now()),
        )

    def deferred(self, entry: Entry, code: int | None, reply: str, next_attempt: float) -> None:
        """A temporary failure: tried again after ``next_attempt`` (unix time)."""
        self._update(
            entry,
            "state = 'deferred', code = ?, reply = ?, next_attempt = ?, "
            "attempts = attempts + CASE WHEN state = 'unknown' THEN 0 ELSE 1 END",
            (code, reply, next_attempt),
        )

    def not_handed_over(self, entry: Entry) -> None:
        """The connection broke before the message was handed over: queued again."""
        self._update(entry, "state = 'queued'", ())

    def failed(self, entry: Entry, code: int | None, reply: str) -> None:
        """A permanent failure (5xx, a rejected address, an invite that cannot be sent)."""
        self._update(
            entry,
            "state = 'failed', code = ?, reply = ?, done_at = ?, next_attempt = NULL, "
            "attempts = attempts + CASE WHEN state = 'unknown' THEN 0 ELSE 1 END",
            (code, reply, _now()),
        )

    def superseded(self, entry: Entry, reason: str) -> None:
        self._update(entry, "state = 'superseded', reply = ?, done_at = ?", (reason, _now()))

    def _update(self, entry: Entry, assignments: str, values: tuple[object, ...]) -> None:
        self.db.execute(
            f"UPDATE messages SET {assignments} WHERE {_KEY}",
            (*values, entry.channel, *entry.row.key),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


_KEY = "channel = ? AND participant_id = ? AND event_id = ? AND sequence = ? AND method = ?"
