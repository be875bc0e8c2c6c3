"""The independent checker of a re-plan: does a new version tell everybody exactly what
changed against the version published before it?

Written from the documented outputs alone (docs/workflow.md, "Re-planning"), without
the re-plan's code: it reads the two output folders as a participant's calendar and an
organiser's spreadsheet would, and re-derives every change from them.

- Every event's UID is the same in both versions.
- An event whose visible content changed (its time, titles, language, link or, for a
  meeting, its members; or what any participant who keeps it sees in their feed) has a
  higher SEQUENCE; an event where nothing visible changed keeps its SEQUENCE.
- Every entry that left a calendar (the event was cancelled, or goes on without that
  person) has a CANCEL with a higher SEQUENCE; every new entry and every kept entry of a
  visibly changed event has a REQUEST; nothing else is in outbox.csv.
- A cancelled event is in no feed; changes.csv lists exactly the added, moved, cancelled
  and removed entries, with their old and new starts.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from icalendar import Calendar

from scheduler.model import Conference

# What a participant's calendar shows of an event, as schedule.csv writes it.
VISIBLE_COLUMNS = (
    "start",
    "end",
    "kind",
    "theme",
    "title_de",
    "title_tr",
    "language",
    "interpreted",
)
Entry = tuple[str, str]  # (participant id, event id): an entry of someone's calendar
# What each entry should get: its message (REQUEST, CANCEL) and its row of changes.csv.
Expected = tuple[dict[Entry, str], dict[Entry, tuple[str, str, str]]]

# Properties that change with every version whatever happened.
VERSION_PROPERTIES = (b"DTSTAMP", b"SEQUENCE")


@dataclass
class _Version:
    """One output folder as the checker reads it."""

    events: dict[str, dict[str, str]]  # schedule.csv rows by event id
    entries: dict[str, set[str]]  # participant -> events (attendance.csv)
    members: dict[str, set[str]]  # event -> participants
    conference_feed: dict[str, tuple[str, int, bytes]]  # event -> (UID, SEQUENCE, content)
    feeds: dict[str, dict[str, tuple[str, int, bytes]]]  # participant -> event -> same
    version: int | None


def check_replan(conference: Conference, previous: Path, outputs: Path) -> list[str]:
    """Every way in which ``outputs`` (a re-plan) misinforms the participants of
    ``previous`` (the version it was planned from); empty when it tells them exactly."""
    problems: list[str] = []
    try:
        old, new = _read(Path(previous)), _read(Path(outputs))
    except (OSError, ValueError, KeyError) as error:
        return [f"re-plan: the outputs cannot be read ({error})"]
    sent = _outbox(Path(outputs), problems)
    changes = _changes(Path(outputs), problems)
    domain = conference.organizer.email.rsplit("@", 1)[-1]

    if old.version is not None and new.version != old.version + 1:
        problems.append(f"report.json: version {new.version}, expected {old.version + 1}")
    changed = {eid for eid in old.events.keys() & new.events.keys() if _changed(eid, old, new)}
    problems += _check_kept_events(conference, old, new, changed, domain)
    problems += _check_cancelled_events(old, new)
    expected_messages, expected_changes = _expected(old, new, changed)
    problems += _check_outbox(Path(outputs), expected_messages, sent, old, new, domain)
    problems += _check_changes(expected_changes, changes)
    return problems


def _check_kept_events(
    conference: Conference, old: _Version, new: _Version, changed: set[str], domain: str
) -> list[str]:
    """An event in both versions keeps its UID; its SEQUENCE rises exactly when it
    changed visibly."""
    problems = []
    for eid in sorted(old.events.keys() & new.events.keys()):
        was, now = old.conference_feed.get(eid), new.conference_feed.get(eid)
        if was is None or now is None:
            problems.append(f"event {eid}: missing from calendars/conference.ics")
            continue
        if now[0] != was[0] or now[0] != f"{eid}@{domain}":
            problems.append(f"event {eid}: UID {now[0]} changed (was {was[0]})")
        if eid in changed and now[1] <= was[1]:
            problems.append(
                f"event {eid}: it changed visibly but its SEQUENCE stayed {now[1]} (was {was[1]})"
            )
        if eid not in changed and now[1] != was[1] and not _english_title(conference, eid):
            problems.append(
                f"event {eid}: nothing visible changed but its SEQUENCE went from {was[1]} "
                f"to {now[1]}"
            )
    return problems


def _check_cancelled_events(old: _Version, new: _Version) -> list[str]:
    """A cancelled event is in no feed of the new version."""
    return [
        f"event {eid} was cancelled but is still in a feed"
        for eid in sorted(old.events.keys() - new.events.keys())
        if eid in new.conference_feed or any(eid in feed for feed in new.feeds.values())
    ]


def _expected(old: _Version, new: _Version, changed: set[str]) -> Expected:
    """The message (REQUEST or CANCEL) and the line of changes.csv each entry of a
    calendar should get, from the two versions alone."""
    expected_messages: dict[Entry, str] = {}
    expected_changes: dict[Entry, tuple[str, str, str]] = {}
    for pid in sorted(old.entries.keys() | new.entries.keys()):
        had, has = old.entries.get(pid, set()), new.entries.get(pid, set())
        for eid in sorted(had | has):
            old_start = old.events[eid]["start"] if eid in old.events else ""
            new_start = new.events[eid]["start"] if eid in new.events else ""
            if eid in has and eid not in had:
                expected_messages[(pid, eid)] = "REQUEST"
                expected_changes[(pid, eid)] = ("added", "", new_start)
            elif eid in has:
                if eid in changed:
                    expected_messages[(pid, eid)] = "REQUEST"
                if old_start != new_start:
                    expected_changes[(pid, eid)] = ("moved", old_start, new_start)
            else:
                expected_messages[(pid, eid)] = "CANCEL"
                kind = "cancelled" if eid not in new.events else "removed_from"
                expected_changes[(pid, eid)] = (kind, old_start, new_start)
    return expected_messages, expected_changes


def _check_outbox(
    outputs: Path,
    expected: dict[Entry, str],
    sent: dict[Entry, tuple[str, int, str]],
    old: _Version,
    new: _Version,
    domain: str,
) -> list[str]:
    """outbox.csv holds exactly the expected messages, each with its invite file."""
    problems = []
    for key in sorted(expected.keys() | sent.keys()):
        pid, eid = key
        want, got = expected.get(key), sent.get(key)
        if want is None:
            method_sent = got[0] if got else "message"
            problems.append(
                f"outbox.csv: a {method_sent} to {pid} for {eid}, where nothing changed"
            )
            continue
        if got is None:
            problems.append(f"outbox.csv: no {want} to {pid} for {eid}")
            continue
        method, sequence, file = got
        if method != want:
            problems.append(f"outbox.csv: {method} to {pid} for {eid}, expected {want}")
        problems += _check_message(outputs, key, method, sequence, file, old, new, domain)
    return problems


def _check_changes(
    expected: dict[Entry, tuple[str, str, str]], changes: dict[Entry, tuple[str, str, str]]
) -> list[str]:
    """changes.csv lists exactly the expected added, moved, cancelled and removed entries."""
    problems = []
    for key in sorted(expected.keys() | changes.keys()):
        want_change, got_change = expected.get(key), changes.get(key)
        if want_change != got_change:
            problems.append(
                f"changes.csv: participant {key[0]}, event {key[1]}: "
                f"{_describe(got_change)}, expected {_describe(want_change)}"
            )
    return problems


def _changed(eid: str, old: _Version, new: _Version) -> bool:
    """Did anything a participant can see of the event change?"""
    if any(old.events[eid][c] != new.events[eid][c] for c in VISIBLE_COLUMNS):
        return True
    was, now = old.conference_feed.get(eid), new.conference_feed.get(eid)
    if was is not None and now is not None and was[2] != now[2]:
        return True
    if not old.events[eid]["kind"].endswith("meeting"):
        keepers = old.members.get(eid, set()) & new.members.get(eid, set())
    else:
        if old.members.get(eid, set()) != new.members.get(eid, set()):
            return True
        keepers = old.members.get(eid, set())
    for pid in keepers:
        seen_before = old.feeds.get(pid, {}).get(eid)
        seen_now = new.feeds.get(pid, {}).get(eid)
        if seen_before is not None and seen_now is not None and seen_before[2] != seen_now[2]:
            return True
    return False


def _english_title(conference: Conference, eid: str) -> bool:
    """An English title is in no column the checker reads: its change cannot be seen."""
    session = conference.sessions_by_id.get(eid)
    return bool(session and session.titles.get("en"))


def _check_message(
    outputs: Path,
    key: tuple[str, str],
    method: str,
    sequence: int,
    file: str,
    old: _Version,
    new: _Version,
    domain: str,
) -> list[str]:
    pid, eid = key
    path = outputs / file
    where = f"outbox.csv: {method} to {pid} for {eid}"
    if file != f"invites/{pid}/{eid}.ics" or not path.is_file():
        return [f"{where}: no file {file}"]
    calendar = Calendar.from_ical(path.read_bytes())
    events = calendar.walk("VEVENT")
    problems = []
    if str(calendar.get("METHOD", "")) != method:
        problems.append(f"{where}: {file} has METHOD {calendar.get('METHOD')}")
    if len(events) != 1:
        return problems + [f"{where}: {file} holds {len(events)} events"]
    event = events[0]
    if str(event.get("UID")) != f"{eid}@{domain}":
        problems.append(f"{where}: {file} has UID {event.get('UID')}")
    if int(event.get("SEQUENCE", 0)) != sequence:
        problems.append(f"{where}: {file} has SEQUENCE {event.get('SEQUENCE')}, not {sequence}")
    before = old.conference_feed.get(eid)
    if method == "CANCEL":
        if str(event.get("STATUS", "")) != "CANCELLED":
            problems.append(f"{where}: {file} is not STATUS:CANCELLED")
        if before is not None and sequence <= before[1]:
            problems.append(f"{where}: SEQUENCE {sequence} is not above {before[1]}")
    else:
        now = new.conference_feed.get(eid)
        if now is not None and sequence != now[1]:
            problems.append(f"{where}: SEQUENCE {sequence}, the event's is {now[1]}")
    return problems


def _describe(change: tuple[str, str, str] | None) -> str:
    if change is None:
        return "no row"
    kind, old_start, new_start = change
    return f"{kind} ({old_start or '-'} -> {new_start or '-'})"


# --- reading ---------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _read(folder: Path) -> _Version:
    events = {row["event_id"]: row for row in _rows(folder / "schedule.csv")}
    entries: dict[str, set[str]] = defaultdict(set)
    members: dict[str, set[str]] = defaultdict(set)
    for row in _rows(folder / "attendance.csv"):
        entries[row["participant_id"]].add(row["event_id"])
        members[row["event_id"]].add(row["participant_id"])
    calendars = folder / "calendars"
    feeds = {
        path.stem: _feed(path)
        for path in sorted(calendars.glob("*.ics"))
        if path.name != "conference.ics"
    }
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    version = report.get("version")
    return _Version(
        events=events,
        entries=dict(entries),
        members=dict(members),
        conference_feed=_feed(calendars / "conference.ics"),
        feeds=feeds,
        version=int(version) if version is not None else None,
    )


def _feed(path: Path) -> dict[str, tuple[str, int, bytes]]:
    """Each VEVENT of a feed by event id: its UID, SEQUENCE and content without the
    properties that change with every version. Read line by line after RFC 5545's
    unfolding (a re-plan at M reads two thousand feeds: a full iCalendar parse of each
    took minutes); a property's name ends at the first ``;`` or ``:``."""
    result = {}
    text = path.read_bytes().replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
    event: list[bytes] | None = None
    depth = 0  # components open inside the VEVENT (its VALARMs)
    uid, number = "", 0
    for line in text.split(b"\r\n"):
        if event is None:
            if line == b"BEGIN:VEVENT":
                event, depth, uid, number = [], 0, "", 0
            continue
        if line == b"END:VEVENT" and depth == 0:
            result[uid.rsplit("@", 1)[0]] = (uid, number, b"\r\n".join(event))
            event = None
            continue
        depth += line.startswith(b"BEGIN:") - line.startswith(b"END:")
        name = _name(line) if depth == 0 else b""
        if name == b"UID":
            uid = _value(line)
        elif name == b"SEQUENCE":
            number = int(_value(line))
        if name in VERSION_PROPERTIES:
            continue
        event.append(line)
    return result


def _name(line: bytes) -> bytes:
    """A content line's property name, upper case: up to the first ``;`` or ``:``."""
    ends = [i for i in (line.find(b";"), line.find(b":")) if i >= 0]
    return line[: min(ends)].upper() if ends else line.upper()


def _value(line: bytes) -> str:
    """A content line's value: after the first ``:`` outside a quoted parameter value."""
    text = line.decode("utf-8")
    quoted = False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return text[i + 1 :]
    return ""


def _by_entry(
    path: Path, columns: tuple[str, ...], problems: list[str]
) -> dict[Entry, tuple[str, ...]]:
    """A table of one row per participant and event (outbox.csv, changes.csv): the
    ``columns`` of each row by (participant, event); a missing file or a second row for
    the same entry is a problem."""
    found: dict[Entry, tuple[str, ...]] = {}
    if not path.is_file():
        problems.append(f"{path.name} is missing")
        return found
    for row in _rows(path):
        key = (row["participant_id"], row["event_id"])
        if key in found:
            problems.append(f"{path.name}: two rows for {key[0]} and {key[1]}")
        found[key] = tuple(row[c] for c in columns)
    return found


def _outbox(outputs: Path, problems: list[str]) -> dict[Entry, tuple[str, int, str]]:
    rows = _by_entry(outputs / "outbox.csv", ("method", "sequence", "file"), problems)
    return {key: (method, int(sequence), file) for key, (method, sequence, file) in rows.items()}


def _changes(outputs: Path, problems: list[str]) -> dict[Entry, tuple[str, str, str]]:
    rows = _by_entry(outputs / "changes.csv", ("change", "old_start", "new_start"), problems)
    return {key: (change, old, new) for key, (change, old, new) in rows.items()}


__all__ = ["check_replan"]
