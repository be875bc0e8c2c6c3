"""Versions of a published conference: what the calendars hold, and what changed.

Every run publishes a *version* of the conference. Its state (``state.json`` in the
outputs) says what each participant's calendar holds and each event's SEQUENCE, so that
the next run (``run --previous``) can

- keep the published events and calendar entries where they still fit (solve/keep.py),
- tell exactly who is affected (``changes.csv``) and which messages to send
  (``outbox.csv``: a REQUEST for every entry that is new or visibly changed, a CANCEL for
  every entry that left a calendar), and
- raise the SEQUENCE of every event that visibly changed (time, title, language, link,
  a meeting's members), so that calendar clients apply the update.

A first run is the same computation against an empty version 0: every entry is new.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from scheduler.errors import UserError
from scheduler.export.agendas import AgendaVersion
from scheduler.export.ical import Cancellation
from scheduler.export.tables import utc_text
from scheduler.model import (
    SESSION_KINDS,
    Conference,
    Matchmaking,
    PublishedPlan,
    Schedule,
    ScheduledEvent,
)

STATE_FILE = "state.json"
STATE_FORMAT = "citypartner-scheduler state 1"

ChangeKind = Literal["added", "moved", "cancelled", "removed_from"]
Method = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class PublishedEvent:
    """An event as the published version holds it."""

    start: datetime  # UTC
    end: datetime
    room: int
    sequence: int
    look: str  # digest of everything a participant can see of it (see `look`)


@dataclass(frozen=True)
class Published:
    """A published version, as read from its outputs folder (version 0: nothing yet)."""

    version: int = 0
    events: Mapping[str, PublishedEvent] = field(default_factory=dict)
    # events that were published once and no longer take place: their last SEQUENCE, so
    # that an event that comes back gets a higher one
    retired: Mapping[str, int] = field(default_factory=dict)
    calendars: Mapping[str, frozenset[str]] = field(default_factory=dict)  # pid -> events
    # entries cancelled for one person while the event went on: the CANCEL's SEQUENCE, so
    # that a later invitation to the same event beats it
    cancelled: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    attended_weight: float = 0.0
    new_contacts: frozenset[tuple[str, str]] = frozenset()  # (city_a, city_b) that meet
    folder: Path | None = None  # where it was read from

    def plan(self) -> PublishedPlan:
        """What the solver should keep where it can."""
        return PublishedPlan(
            starts={eid: e.start for eid, e in self.events.items()},
            rooms={eid: e.room for eid, e in self.events.items()},
            entries=frozenset(
                (pid, eid) for pid, events in self.calendars.items() for eid in events
            ),
        )


@dataclass(frozen=True)
class Change:
    """A row of changes.csv."""

    participant_id: str
    event_id: str
    change: ChangeKind
    old_start: datetime | None
    new_start: datetime | None
    reason: str


@dataclass(frozen=True)
class Message:
    """A row of outbox.csv: an iTIP message to send to one participant."""

    participant_id: str
    event_id: str
    method: Method
    sequence: int

    @property
    def file(self) -> str:
        """The message's file, relative to the outputs folder."""
        return f"invites/{self.participant_id}/{self.event_id}.ics"


@dataclass(frozen=True)
class Version:
    """What this run publishes beside the schedule: sequences, changes, messages."""

    number: int
    sequences: Mapping[str, int]  # every scheduled event's SEQUENCE
    looks: Mapping[str, str]
    retired: Mapping[str, int]
    calendars: Mapping[str, frozenset[str]]
    cancelled: Mapping[str, Mapping[str, int]]
    changes: tuple[Change, ...]
    messages: tuple[Message, ...]  # sorted by participant, event
    events_moved: int
    events_cancelled: int
    events_added: int
    attended_weight_before: float

    @property
    def cancellations(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.method == "CANCEL")

    @property
    def participants_affected(self) -> int:
        """Participants who get any message (a new, changed or cancelled entry)."""
        return len({m.participant_id for m in self.messages})


# --- what a participant sees of an event -------------------------------------------------


def members(schedule: Schedule, event_id: str) -> tuple[str, ...]:
    """Who is on an event's calendar entry, sorted."""
    return tuple(sorted(a.participant_id for a in schedule.attendees_of(event_id)))


def look(
    conference: Conference, matchmaking: Matchmaking, schedule: Schedule, event: ScheduledEvent
) -> str:
    """A digest of everything a participant can see of an event: its time, titles,
    language, theme, link and, for a meeting, its members (names and addresses, as every
    member's invite lists them), the two cities and why they meet. Other people joining or
    leaving a session are not visible, so they are not part of it."""
    seen: dict[str, Any] = {
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "kind": event.kind,
        "titles": sorted(event.titles.items()),
        "language": event.language,
        "theme": event.theme,
        "link": conference.meeting_url_for(event.event_id),
    }
    theme = conference.themes_by_id.get(event.theme or "")
    if theme is not None:
        seen["theme_names"] = sorted(theme.names.items())
    meeting = matchmaking.meetings_by_id.get(event.event_id)
    if meeting is not None:
        people = conference.participants_by_id
        cities = conference.cities_by_id
        seen["members"] = [
            [pid, people[pid].name, people[pid].email, people[pid].city_id]
            for pid in members(schedule, event.event_id)
            if pid in people
        ]
        seen["cities"] = [
            [c, cities[c].name, cities[c].timezone] for c in (meeting.city_a, meeting.city_b)
        ]
        seen["reasons"] = sorted(meeting.reasons.items())
    text = json.dumps(seen, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- the next version ---------------------------------------------------------------------


def next_version(
    published: Published,
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
) -> Version:
    """Compare the new schedule with the published version: every event's SEQUENCE, each
    participant's changes and the messages to send."""
    events = schedule.events_by_id
    looks = {e.event_id: look(conference, matchmaking, schedule, e) for e in schedule.events}
    sequences = _sequences(published, events, looks)
    retired = _retired(published, events)
    calendars: dict[str, set[str]] = {}
    for attendance in schedule.attendance:
        if attendance.event_id in events:
            calendars.setdefault(attendance.participant_id, set()).add(attendance.event_id)
    cancelled = _invitations_beat_cancels(published, calendars, sequences)
    entries = _Entries(
        published,
        conference,
        matchmaking,
        events,
        looks,
        sequences,
        retired,
        cancelled,
        {item.item_id: item.reason for item in schedule.unscheduled},
        schedule.displaced,
    )
    for pid in sorted(set(published.calendars) | set(calendars)):
        entries.compare(pid, published.calendars.get(pid, frozenset()), calendars.get(pid, set()))
    moved = sum(
        1
        for eid, e in events.items()
        if eid in published.events and published.events[eid].start != e.start
    )
    return Version(
        number=published.version + 1,
        sequences=sequences,
        looks=looks,
        retired=retired,
        calendars={pid: frozenset(ids) for pid, ids in calendars.items()},
        cancelled={pid: held for pid, held in cancelled.items() if held},
        # a first run: nothing to compare with (every invitation is new)
        changes=tuple(entries.changes) if published.version else (),
        messages=tuple(entries.messages),
        events_moved=moved,
        events_cancelled=sum(1 for eid in published.events if eid not in events),
        events_added=sum(1 for eid in events if eid not in published.events),
        attended_weight_before=published.attended_weight,
    )


def _sequences(
    published: Published, events: Mapping[str, ScheduledEvent], looks: Mapping[str, str]
) -> dict[str, int]:
    """Every scheduled event's SEQUENCE: one up when what participants see changed, one
    above its CANCEL when it comes back, 0 when new."""
    sequences: dict[str, int] = {}
    for eid in events:
        before = published.events.get(eid)
        if before is not None:
            sequences[eid] = before.sequence + (looks[eid] != before.look)
        elif eid in published.retired:
            sequences[eid] = published.retired[eid] + 1  # back after a cancellation
        else:
            sequences[eid] = 0
    return sequences


def _retired(published: Published, events: Mapping[str, ScheduledEvent]) -> dict[str, int]:
    """The events published once that take place no more, with their CANCEL's SEQUENCE."""
    retired = {eid: seq for eid, seq in published.retired.items() if eid not in events}
    for eid, before in published.events.items():
        if eid not in events:
            retired[eid] = before.sequence + 1  # the CANCEL's SEQUENCE
    return retired


def _invitations_beat_cancels(
    published: Published, calendars: Mapping[str, set[str]], sequences: dict[str, int]
) -> dict[str, dict[str, int]]:
    """The CANCELs each person holds for events that go on; an invitation back to such an
    event gets a SEQUENCE above that CANCEL's (raising ``sequences``)."""
    cancelled = {pid: dict(entries) for pid, entries in published.cancelled.items()}
    for pid, has in calendars.items():
        for eid in has - published.calendars.get(pid, frozenset()):
            earlier = cancelled.get(pid, {}).pop(eid, None)
            if earlier is not None and sequences[eid] <= earlier:
                sequences[eid] = earlier + 1
    return cancelled


@dataclass
class _Entries:
    """Each participant's calendar entries compared, version against version: the rows of
    changes.csv and the messages of outbox.csv."""

    published: Published
    conference: Conference
    matchmaking: Matchmaking
    events: Mapping[str, ScheduledEvent]
    looks: Mapping[str, str]
    sequences: Mapping[str, int]
    retired: Mapping[str, int]
    cancelled: dict[str, dict[str, int]]
    why_unscheduled: Mapping[str, str]
    displaced: Mapping[str, str]  # why an event could not stay where it was
    changes: list[Change] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def compare(self, pid: str, had: frozenset[str], has: set[str]) -> None:
        for eid in sorted(had | has):
            before = self.published.events.get(eid)
            now = self.events.get(eid)
            if now is not None and eid in has:
                self.on_calendar(pid, eid, eid in had, before, now)
            else:
                self.left_calendar(pid, eid, before, now)

    def on_calendar(
        self,
        pid: str,
        eid: str,
        had: bool,
        before: PublishedEvent | None,
        now: ScheduledEvent,
    ) -> None:
        """An entry of the new version: added, moved, changed (a REQUEST) or as it was."""
        if not had:
            reason = "newly planned" if before is None else "now attends"
            self.changes.append(Change(pid, eid, "added", None, now.start, reason))
        elif before is not None and (before.start, before.end) != (now.start, now.end):
            reason = self.displaced.get(eid, "moved to a better time")
            self.changes.append(Change(pid, eid, "moved", before.start, now.start, reason))
        elif before is not None and self.looks[eid] == before.look:
            return  # nothing visible changed for them: no message
        self.messages.append(Message(pid, eid, "REQUEST", self.sequences[eid]))

    def left_calendar(
        self, pid: str, eid: str, before: PublishedEvent | None, now: ScheduledEvent | None
    ) -> None:
        """An entry that leaves this person's calendar: cancelled, or removed from it."""
        old_start = before.start if before is not None else None
        if now is None:
            reason = self.why_unscheduled.get(eid) or _why_gone(
                self.conference, self.matchmaking, eid
            )
            self.changes.append(Change(pid, eid, "cancelled", old_start, None, reason))
            self.messages.append(Message(pid, eid, "CANCEL", self.retired[eid]))
            return
        reason = _why_removed(self.conference, pid, before, now)
        self.changes.append(Change(pid, eid, "removed_from", old_start, now.start, reason))
        # higher than what they hold, even when nothing changed for the others
        sequence = max(self.sequences[eid], before.sequence + 1 if before else 0)
        self.cancelled.setdefault(pid, {})[eid] = sequence
        self.messages.append(Message(pid, eid, "CANCEL", sequence))


def _why_gone(conference: Conference, matchmaking: Matchmaking, event_id: str) -> str:
    """Why a published event takes place no more."""
    if event_id in conference.sessions_by_id or event_id in matchmaking.meetings_by_id:
        return "it could not be placed any more"
    if event_id.startswith(("pm-", "nc-")):
        return "the meeting is no longer planned"
    return "the session was removed from sessions.csv"


def _why_removed(
    conference: Conference,
    participant_id: str,
    before: PublishedEvent | None,
    now: ScheduledEvent,
) -> str:
    """Why a person no longer attends an event that still takes place."""
    if participant_id not in conference.participants_by_id:
        return "withdrawn from participants.csv"
    if before is not None and (before.start, before.end) != (now.start, now.end):
        return "cannot attend at its new time"
    if now.kind not in SESSION_KINDS:
        return "no longer a delegate of this meeting"
    return "can no longer attend it (availability, capacity or a clash)"


def cancellations(
    version: Version, published: Published, conference: Conference
) -> list[Cancellation]:
    """The CANCEL messages of a version, each with what the person's calendar holds: the
    published time, and the title and address of their published invitation (a person who
    withdrew is no longer in the inputs, but must still be told)."""
    from icalendar import Calendar

    result = []
    for message in version.cancellations:
        before = published.events[message.event_id]
        person = conference.participants_by_id.get(message.participant_id)
        title, name, email = message.event_id, "", ""
        invite = published.folder / message.file if published.folder else None
        if invite is not None and invite.is_file():
            vevent = Calendar.from_ical(invite.read_bytes()).walk("VEVENT")[0]
            title = str(vevent.get("SUMMARY", title))
            if person is None:
                name, email = _address_of_the_absent(conference, vevent)
        if person is not None:
            name, email = person.name, person.email
        if email:
            result.append(
                Cancellation(
                    message.participant_id,
                    message.event_id,
                    message.sequence,
                    before.start,
                    before.end,
                    title,
                    name,
                    email,
                )
            )
    return result


def _address_of_the_absent(conference: Conference, vevent: Any) -> tuple[str, str]:
    """A withdrawn person's name and address from their invitation: its one ATTENDEE (a
    session), or the one member no longer among the participants (a meeting)."""
    attendees = vevent.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    current = {p.email.casefold() for p in conference.participants}
    absent = [a for a in attendees if str(a).removeprefix("mailto:").casefold() not in current]
    if len(absent) != 1:
        return "", ""
    return str(absent[0].params.get("CN", "")), str(absent[0]).removeprefix("mailto:")


def agenda_version(
    published: Published,
    version: Version,
    schedule: Schedule,
    stamp: datetime,
    conference: Conference,
) -> AgendaVersion:
    """What the agendas say of this version: its number and date, the events new in it
    and the earlier start of each event that moved."""
    events = schedule.events_by_id
    moved = {
        eid: before.start
        for eid, before in published.events.items()
        if eid in events and events[eid].start != before.start
    }
    added = frozenset(eid for eid in events if eid not in published.events)
    day = stamp.astimezone(conference.zone).date()
    return AgendaVersion(version.number, day, added if published.version else frozenset(), moved)


# --- state.json ----------------------------------------------------------------------------


def state(version: Version, schedule: Schedule, stamp: datetime) -> dict[str, Any]:
    """state.json: what the next re-plan needs, human-readable."""
    return {
        "format": STATE_FORMAT,
        "version": version.number,
        "published_at": utc_text(stamp),
        "attended_weight": schedule.objective,
        "events": {
            e.event_id: {
                "start": utc_text(e.start),
                "end": utc_text(e.end),
                "room": e.room,
                "sequence": version.sequences[e.event_id],
                "look": version.looks[e.event_id],
            }
            for e in schedule.events
        },
        "retired": dict(sorted(version.retired.items())),
        "calendars": {pid: sorted(ids) for pid, ids in sorted(version.calendars.items())},
        "cancelled": {
            pid: dict(sorted(entries.items())) for pid, entries in sorted(version.cancelled.items())
        },
    }


def write_state(folder: Path, version: Version, schedule: Schedule, stamp: datetime) -> None:
    text = json.dumps(state(version, schedule, stamp), ensure_ascii=False, indent=1)
    (Path(folder) / STATE_FILE).write_text(text + "\n", encoding="utf-8")


def read_published(folder: Path) -> Published:
    """The published version in ``folder`` (a run's outputs), checked against its
    schedule.csv and attendance.csv; a UserError says why it cannot be re-planned from."""
    from scheduler.export.tables import read_tables

    folder = Path(folder)
    path = folder / STATE_FILE
    if not folder.is_dir():
        raise UserError(f"--previous {folder}: no such folder")
    if not path.is_file():
        raise UserError(
            f"--previous {folder}: it holds no {STATE_FILE}, so it is not a version this tool "
            "published (outputs of a run of this version of the tool carry one)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != STATE_FORMAT:
            raise ValueError(f"format {raw.get('format')!r}, expected {STATE_FORMAT!r}")
        events = {
            eid: PublishedEvent(
                start=_parse_utc(e["start"]),
                end=_parse_utc(e["end"]),
                room=int(e["room"]),
                sequence=int(e["sequence"]),
                look=str(e["look"]),
            )
            for eid, e in raw["events"].items()
        }
        published = Published(
            version=int(raw["version"]),
            events=events,
            retired={str(k): int(v) for k, v in raw.get("retired", {}).items()},
            calendars={
                str(pid): frozenset(str(e) for e in ids) for pid, ids in raw["calendars"].items()
            },
            cancelled={
                str(pid): {str(e): int(q) for e, q in entries.items()}
                for pid, entries in raw.get("cancelled", {}).items()
            },
            attended_weight=float(raw.get("attended_weight", 0.0)),
            folder=folder,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UserError(f"{path} is damaged ({error}); re-plan from an intact copy") from None
    try:
        tables = read_tables(folder)
    except (OSError, ValueError, KeyError) as error:
        raise UserError(f"--previous {folder}: its tables cannot be read ({error})") from None
    _agree(folder, published, tables)
    matches = tables["matches"]
    new_contacts = frozenset(
        (row.city_a, row.city_b)
        for row in matches.itertuples(index=False)
        if row.kind == "new" and row.event_id
    )
    return replace(published, new_contacts=new_contacts)


def _agree(folder: Path, published: Published, tables: Mapping[str, Any]) -> None:
    """The state must describe the schedule and attendance published beside it."""
    schedule = tables["schedule"]
    starts = {
        row.event_id: row.start.to_pydatetime().astimezone(UTC)
        for row in schedule.itertuples(index=False)
    }
    stated = {eid: e.start for eid, e in published.events.items()}
    if starts != stated:
        differ = sorted(set(starts) ^ set(stated)) or sorted(
            eid for eid in starts if starts[eid] != stated.get(eid)
        )
        raise UserError(
            f"--previous {folder}: {STATE_FILE} does not match schedule.csv (event "
            f"{differ[0]}); was the folder edited by hand? Re-plan from the folder as published"
        )
    entries: Counter[tuple[str, str]] = Counter(
        (str(row.participant_id), str(row.event_id))
        for row in tables["attendance"].itertuples(index=False)
    )
    stated_entries = Counter(
        (pid, eid) for pid, events in published.calendars.items() for eid in events
    )
    if entries != stated_entries:
        differ = sorted(set(entries - stated_entries) | set(stated_entries - entries))
        raise UserError(
            f"--previous {folder}: {STATE_FILE} does not match attendance.csv (participant "
            f"{differ[0][0]}, event {differ[0][1]}); re-plan from the folder as published"
        )


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


__all__ = [
    "Change",
    "Message",
    "Published",
    "PublishedEvent",
    "Version",
    "next_version",
    "read_published",
    "write_state",
]
