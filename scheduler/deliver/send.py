"""`scheduler send`: deliver what the last run or re-plan put in outbox.csv, exactly once.

Every row of outbox.csv is queued in the ledger (delivery.sqlite) under its key
(participant, event, SEQUENCE, method) the first time `send` sees it; then every message
not yet sent goes out, one at a time, each recorded before and after the server accepts it
(ledger.py says how and which single message an interruption can leave in doubt).

- A temporary refusal (4xx) defers the message: it is tried again after a back-off
  (``backoff`` seconds, doubling) up to ``attempts`` times in one run, then left for the
  next `send`. A permanent one (5xx, a rejected address) is recorded with the server's
  words, reported, and not tried again unless ``retry_failed``.
- A dropped connection is opened again (with the same back-off); when the server stays
  away the batch stops and the next `send` goes on where it stopped.
- Ctrl-C and SIGTERM stop the batch between two messages; one that arrives while a message
  is being handed over waits the few milliseconds until its answer is recorded.
"""

from __future__ import annotations

import csv
import heapq
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TextIO

from scheduler.deliver.ledger import LEDGER_FILE, PENDING, Entry, Ledger
from scheduler.deliver.mail import (
    InviteProblem,
    OutboxRow,
    build_message,
    message_id,
    names_recipient,
)
from scheduler.deliver.site import subscription_for
from scheduler.deliver.transports import Lost, Refused, Transport
from scheduler.errors import UserError
from scheduler.export.tables import OUTBOX_COLUMNS, OUTBOX_FILE
from scheduler.model import Conference, Participant

METHODS = ("REQUEST", "CANCEL")
AWAY, FIRST = -1.0, -2.0  # what `_Batch._one` returns besides None and a time
IDENTIFIER = re.compile(
    r"[A-Za-z0-9_.-]+"
)  # ids as docs/inputs.md allows them: they become file names


@dataclass(frozen=True)
class SendOptions:
    """How careful a batch is (see the module docstring)."""

    dry_run: bool = False
    limit: int | None = None  # at most this many messages in this run
    rate: float | None = None  # at most this many messages per minute
    retry_failed: bool = False
    attempts: int = 4  # tries of a temporarily refused message in one run
    backoff: float = 30.0  # seconds before the first retry; doubles each time


@dataclass
class Outcome:
    """What one `send` did."""

    channel: str
    where: str
    sent: int = 0
    sent_before: int = 0
    failed: list[Entry] = field(default_factory=list)  # permanent, this run
    failed_before: int = 0
    deferred: list[Entry] = field(default_factory=list)  # temporary, left for next time
    left: int = 0  # not tried in this run (limit, interruption, server away)
    superseded: int = 0
    resent: list[Entry] = field(default_factory=list)  # were `unknown`: may arrive twice
    stopped: str = ""  # why the batch stopped early ("" when it went through)
    planned: Counter[tuple[str, str]] = field(default_factory=Counter)  # dry run

    @property
    def complete(self) -> bool:
        return not (self.failed or self.failed_before or self.deferred or self.left or self.stopped)


def read_outbox(outputs: Path) -> list[OutboxRow]:
    """The rows of outbox.csv; a UserError naming the row and column for a bad one."""
    path = Path(outputs) / OUTBOX_FILE
    if not path.is_file():
        raise UserError(
            f"no {OUTBOX_FILE} in {outputs}: run `scheduler run INPUTS --out {outputs}` first"
        )
    rows: list[OutboxRow] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in OUTBOX_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
        for number, record in enumerate(reader, start=2):
            method = (record["method"] or "").strip().upper()
            if method not in METHODS:
                raise UserError(
                    f"{path}, row {number}, column method: {method!r} is not REQUEST or CANCEL"
                )
            try:
                sequence = int(record["sequence"])
            except (TypeError, ValueError):
                raise UserError(
                    f"{path}, row {number}, column sequence: {record['sequence']!r} is not a "
                    "whole number"
                ) from None
            file = (record["file"] or "").strip()
            if not file or Path(file).is_absolute() or ".." in Path(file).parts:
                raise UserError(
                    f"{path}, row {number}, column file: {file!r} is not a path inside the "
                    "outputs folder"
                )
            for column in ("participant_id", "event_id"):
                if not IDENTIFIER.fullmatch(record[column] or "") or record[column] in (".", ".."):
                    raise UserError(
                        f"{path}, row {number}, column {column}: {record[column]!r} is not an "
                        "identifier (ASCII letters, digits, _ - .)"
                    )
            rows.append(
                OutboxRow(record["participant_id"], record["event_id"], method, sequence, file)
            )
    return rows


def withdrawn(conference: Conference, row: OutboxRow, data: bytes) -> Participant | None:
    """A participant who withdrew still gets the CANCEL of their entries: they are no longer
    in the inputs, so their name and address are the CANCEL's one ATTENDEE (the re-plan
    takes them from their published invitation), and the e-mail is worded in the language
    of the organiser's city, with times in the organiser's zone."""
    from icalendar import Calendar

    events = Calendar.from_ical(data).walk("VEVENT")
    attendees = events[0].get("ATTENDEE", []) if len(events) == 1 else []
    if not isinstance(attendees, list):
        attendees = [attendees]
    home = next((c for c in conference.cities if c.timezone == conference.timezone), None)
    if len(attendees) != 1 or home is None:
        return None
    email = str(attendees[0]).removeprefix("mailto:")
    return Participant(
        id=row.participant_id,
        name=str(attendees[0].params.get("CN", email)),
        email=email,
        city_id=home.id,
        organisation="",
        role="expert",
        languages=frozenset({home.language}),
        delegate=False,
        interests={},
    )


def inputs_match(conference: Conference, outputs: Path, rows: list[OutboxRow]) -> bool:
    """Whether every message's participant is in ``conference`` with the address the run
    invited (the inputs are those of this run)."""
    for row in rows:
        person = conference.participants_by_id.get(row.participant_id)
        path = outputs / row.file
        if not path.is_file():
            return False
        if person is None and row.method == "CANCEL":
            continue  # withdrawn: the CANCEL names them (see `withdrawn`)
        if person is None or not names_recipient(path.read_bytes(), person.email):
            return False
    return True


def _version(outputs: Path) -> int | None:
    import json

    try:
        version = json.loads((outputs / "report.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return int(version) if isinstance(version, int) else None


@contextmanager
def _exclusive(outputs: Path) -> Iterator[None]:
    """One command at a time in an outputs folder: `send` holds the lock `run` holds, so
    that no run swaps the folder (and its ledger) while messages go out."""
    from scheduler.publish import locked

    with locked(outputs):
        yield


class _Signals:
    """Ctrl-C and SIGTERM stop the batch, but never while a message is being handed over:
    then the stop waits until the server's answer is recorded (a second signal does not)."""

    def __init__(self) -> None:
        self.handing_over = False
        self.pending: int | None = None

    def handler(self, signum: int, _frame: object) -> None:
        if self.handing_over and self.pending is None:
            self.pending = signum
            return
        raise KeyboardInterrupt

    def done_handing_over(self) -> None:
        self.handing_over = False
        if self.pending is not None:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def send(
    conference: Conference,
    outputs: Path,
    transport: Transport,
    options: SendOptions = SendOptions(),
    *,
    progress: Callable[[Outcome, int], None] | None = None,
    remember: dict[str, str] | None = None,
) -> Outcome:
    """Deliver the outputs' outbox through ``transport`` (see the module docstring).
    ``progress(outcome, left)`` is called after each message; ``remember`` are settings
    kept in the ledger (e.g. the inputs folder, so the next `send` needs only OUTPUTS)."""
    outputs = Path(outputs).absolute()
    rows = read_outbox(outputs)
    domain = conference.organizer.domain
    outcome = Outcome(transport.channel, transport.where)
    if options.dry_run:
        return _plan(conference, outputs, rows, transport.channel, options, outcome)
    with _exclusive(outputs), Ledger(outputs / LEDGER_FILE) as ledger:
        first = not ledger.knows_channel(transport.channel)
        version = _version(outputs)
        ledger.queue(transport.channel, [(r, message_id(r, domain)) for r in rows], version)
        for key, value in (remember or {}).items():
            ledger.set_setting(key, value)
        if first and version is not None and version > 1:
            print(
                f"warning: this is version {version}, and nothing of earlier versions was "
                f"delivered from this ledger: outbox.csv lists only what changed since "
                f"version {version - 1}",
                file=sys.stderr,
            )
        counts = ledger.counts(transport.channel)
        previous = ledger.setting(f"{transport.channel}.where")
        if previous and previous != transport.where and counts["sent"]:
            print(
                f"note: {counts['sent']} message(s) went to {previous} before; they are not "
                f"sent again to {transport.where} (the ledger records delivery, whatever "
                "the server)",
                file=sys.stderr,
            )
        ledger.set_setting(f"{transport.channel}.where", transport.where)
        wanted = PENDING + (("failed",) if options.retry_failed else ())
        todo = ledger.entries(transport.channel, wanted)
        outcome.sent_before = counts["sent"]
        outcome.failed_before = 0 if options.retry_failed else counts["failed"]
        outcome.superseded = counts["superseded"]
        _Batch(conference, outputs, ledger, transport, options, outcome, progress).run(todo)
    return outcome


class _Batch:
    """One run through the queue: a heap of (when, order, entry)."""

    def __init__(
        self,
        conference: Conference,
        outputs: Path,
        ledger: Ledger,
        transport: Transport,
        options: SendOptions,
        outcome: Outcome,
        progress: Callable[[Outcome, int], None] | None,
    ) -> None:
        self.conference = conference
        self.outputs = outputs
        self.ledger = ledger
        self.transport = transport
        self.options = options
        self.outcome = outcome
        self.progress = progress
        self.signals = _Signals()
        self.tries: Counter[tuple[str, str, int, str]] = Counter()
        self.losses = 0  # connection failures in a row
        self.in_doubt: set[tuple[str, str, int, str]] = set()  # lost after the hand-over

    def run(self, todo: list[Entry]) -> None:
        heap = [(0.0, order, entry) for order, entry in enumerate(todo)]
        order = len(heap)
        handled = 0
        began = time.monotonic()
        try:
            with self.signals.installed():
                while heap:
                    if self.options.limit is not None and handled >= self.options.limit:
                        self.outcome.stopped = f"--limit {self.options.limit} reached"
                        break
                    when, _, entry = heapq.heappop(heap)
                    self._wait(when, began, handled)
                    again = self._one(entry)
                    if again is None:
                        handled += 1
                    elif again == AWAY:  # stop, keep the rest
                        heapq.heappush(heap, (0.0, -1, entry))
                        break
                    elif again == FIRST:  # the connection broke: this one before any other
                        heapq.heappush(heap, (0.0, -1, entry))
                    else:
                        order += 1
                        heapq.heappush(heap, (again, order, entry))
                    if self.progress:
                        self.progress(self.outcome, len(heap))
        except KeyboardInterrupt:
            self.outcome.stopped = "interrupted"
        finally:
            self.transport.close()
        self.outcome.left = len(heap)

    def _wait(self, when: float, began: float, handled: int) -> None:
        pause = when - time.monotonic()
        if self.options.rate:
            pause = max(pause, began + handled * 60.0 / self.options.rate - time.monotonic())
        if pause > 0:
            time.sleep(pause)

    def _one(self, entry: Entry) -> float | None:
        """Deliver one message. Returns None when it is done with (sent, failed, deferred
        for the next run), a monotonic time to try it again (deferred), FIRST to try it
        again before any other (the connection broke), or AWAY (the server is away)."""
        row = entry.row
        if entry.state == "unknown" and self.transport.delivered(row):
            self.ledger.accepted(entry, 250, "found delivered after an interruption")
            self.outcome.sent += 1
            return None
        ready = self._message(entry)
        if ready is None:
            return None
        person, message, now = ready
        return self._hand_over(entry, person, message, now)

    def _message(self, entry: Entry) -> tuple[Participant, EmailMessage, str] | None:
        """The e-mail of one outbox row, its recipient and its Date; None when it cannot
        be built (the row is recorded as failed)."""
        row = entry.row
        person = self.conference.participants_by_id.get(row.participant_id)
        try:
            data = (self.outputs / row.file).read_bytes()
        except OSError as error:
            self._failed(entry, None, f"cannot read {row.file}: {error.strerror}")
            return None
        if person is None and row.method == "CANCEL":
            person = withdrawn(self.conference, row, data)
        if person is None:
            self._failed(entry, None, f"{row.participant_id} is not in the inputs")
            return None
        # The Date of the first attempt, so that a message sent again reads the same.
        if not names_recipient(data, person.email):
            self._failed(
                entry,
                None,
                f"{row.file} does not invite {person.email}, the address the inputs give "
                f"{row.participant_id}: the inputs changed since the run, or belong to "
                "another conference",
            )
            return None
        now = entry.date or format_datetime(datetime.now(UTC).replace(microsecond=0))
        date = parsedate_to_datetime(now)
        try:
            message = build_message(
                self.conference,
                person,
                row,
                data,
                date=date,
                subscription=subscription_for(self.ledger, row.participant_id),
            )
        except InviteProblem as problem:
            self._failed(entry, None, str(problem))
            return None
        return person, message, now

    def _hand_over(
        self, entry: Entry, person: Participant, message: EmailMessage, now: str
    ) -> float | None:
        """Hand one message to the server and record its answer (returns as ``_one``)."""
        row = entry.row
        was_unknown = entry.state == "unknown" or row.key in self.in_doubt
        sender = self.conference.organizer.email

        def hand_over() -> None:
            # First the flag: a stop that arrives while `unknown` is being recorded waits
            # too, until the answer is recorded.
            self.signals.handing_over = True
            self.ledger.handing_over(
                entry, recipient=person.email, server=self.transport.where, date=now
            )

        try:
            code, reply = self.transport.deliver(
                bytes(message), sender, person.email, row, hand_over
            )
        except Refused as refused:
            self.losses = 0
            result = None
            if refused.temporary:
                result = self._deferred(entry, refused.code, refused.reply)
            else:
                self._failed(entry, refused.code, refused.reply)
            self.signals.done_handing_over()
            return result
        except Lost as lost:
            if lost.handed_over:
                self.in_doubt.add(row.key)
            else:
                self.ledger.not_handed_over(entry)
            self.signals.done_handing_over()
            self.losses += 1
            if self.losses > self.options.attempts:
                self.outcome.stopped = f"the mail server went away: {lost}"
                return AWAY
            # Tried again first, after the back-off: a message whose fate is unknown must
            # be settled before another is handed over (never two in doubt at once).
            time.sleep(self._backoff(self.losses))
            return FIRST
        self.ledger.accepted(entry, code, reply)
        self.losses = 0
        self.outcome.sent += 1
        if was_unknown:
            self.outcome.resent.append(entry)
        self.signals.done_handing_over()
        return None

    def _backoff(self, tries: int) -> float:
        return self.options.backoff * 2 ** (tries - 1)

    def _deferred(self, entry: Entry, code: int, reply: str) -> float | None:
        key = entry.row.key
        self.tries[key] += 1
        wait = self._backoff(self.tries[key])
        self.ledger.deferred(entry, code, reply, time.time() + wait)
        if self.tries[key] >= self.options.attempts:
            self.outcome.deferred.append(_with(entry, code, reply))
            return None
        return time.monotonic() + wait

    def _failed(self, entry: Entry, code: int | None, reply: str) -> None:
        self.ledger.failed(entry, code, reply)
        self.outcome.failed.append(_with(entry, code, reply))


def _with(entry: Entry, code: int | None, reply: str) -> Entry:
    from dataclasses import replace

    return replace(entry, code=code, reply=reply)


def _plan(
    conference: Conference,
    outputs: Path,
    rows: list[OutboxRow],
    channel: str,
    options: SendOptions,
    outcome: Outcome,
) -> Outcome:
    """A dry run: what would be sent, by method and language; nothing is written."""
    done: set[tuple[str, str, int, str]] = set()
    earlier: list[OutboxRow] = []
    path = outputs / LEDGER_FILE
    if path.exists():
        with Ledger(path) as ledger:
            skip = ("sent", "superseded") + (() if options.retry_failed else ("failed",))
            done = {e.row.key for e in ledger.entries(channel, skip)}
            earlier = [e.row for e in ledger.entries(channel, PENDING + ("failed",))]
            earlier = [r for r in earlier if r.key not in done]
    seen: set[tuple[str, str, int, str]] = set()
    for row in [*earlier, *rows]:
        if row.key in done or row.key in seen:
            continue
        seen.add(row.key)
        person = conference.participants_by_id.get(row.participant_id)
        language = conference.city_of(person).language if person else "?"
        outcome.planned[(row.method, language)] += 1
    outcome.left = sum(outcome.planned.values())
    if options.limit is not None:
        outcome.left = min(outcome.left, options.limit)
    outcome.sent_before = len(done)
    return outcome


# -- the terminal -------------------------------------------------------------------------


class ProgressLine:
    """`sent 120 · failed 1 · left 2680`: one live line on a terminal, else a line every
    few seconds (logs)."""

    EVERY_SECONDS = 5.0

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.live = stream.isatty()
        self.last = 0.0
        self.drawn = False

    def __call__(self, outcome: Outcome, left: int) -> None:
        now = time.monotonic()
        if not self.live and now - self.last < self.EVERY_SECONDS:
            return
        if self.live and now - self.last < 0.1 and left:
            return
        self.last = now
        text = (
            f"sent {outcome.sent} · failed {len(outcome.failed)} · "
            f"deferred {len(outcome.deferred)} · left {left}"
        )
        if self.live:
            self.stream.write("\r\033[K" + text)
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def summary_lines(outcome: Outcome, *, dry_run: bool = False) -> list[str]:
    """The end-of-send summary, one measure per line."""
    how = (
        f"by SMTP to {outcome.where}"
        if outcome.channel == "smtp"
        else f"as .eml files into {outcome.where}"
    )
    if dry_run:
        lines = [f"dry run: would deliver {outcome.left} message(s) {how}"]
        for (method, language), count in sorted(outcome.planned.items()):
            lines.append(f"  {method:<8} {language:<3} {count}")
        lines.append(f"  already delivered before: {outcome.sent_before}")
        return lines
    lines = [f"delivered {how}"]
    rows: list[tuple[str, object]] = [
        ("sent now", outcome.sent),
        ("sent before", outcome.sent_before),
        ("failed (permanent)", len(outcome.failed)),
        ("deferred (temporary)", len(outcome.deferred)),
        ("left", outcome.left),
    ]
    if outcome.failed_before:
        rows.append(("failed before", f"{outcome.failed_before} (--retry-failed tries them)"))
    if outcome.superseded:
        rows.append(("superseded", outcome.superseded))
    lines += [f"  {label:<24} {value}" for label, value in rows]
    for entry in [*outcome.failed, *outcome.deferred]:
        r = entry.row
        code = f"{entry.code} " if entry.code else ""
        lines.append(
            f"    - {r.participant_id} {r.event_id} {r.method} {r.sequence}: {code}{entry.reply}"
        )
    for entry in outcome.resent:
        r = entry.row
        lines.append(
            f"  sent again after an interruption (it may arrive twice, with the same "
            f"Message-ID {entry.message_id}): {r.participant_id} {r.event_id}"
        )
    if outcome.stopped:
        lines.append(f"  stopped: {outcome.stopped}; run the same command again to go on")
    return lines
