"""The independent checker: does a schedule keep every rule the inputs set (docs/inputs.md)?

Written from the documented file formats (docs/inputs.md, docs/workflow.md) and the
domain model alone, without the solver's code, so that a mistake in the solver is not
repeated here. Every rule is re-derived from the Conference (time zones, holidays, day
hours, buffers, resources, attendance); only the documented definitions ``can_follow``
and ``Conference.wanted_weight`` are shared, and each city's public holidays as load
resolved them (``City.holidays``).

``check`` verifies a Schedule in memory; ``check_outputs`` reads a written output folder
(schedule.csv, attendance.csv, unscheduled.csv, report.json) and verifies it against the
input folder it was made from. Both return violations in plain words; an empty list means
the schedule keeps every rule.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from scheduler.model import (
    EVENT_LANGUAGES,
    INTERPRETED,
    Attendance,
    Conference,
    EventKind,
    Matchmaking,
    Meeting,
    Participant,
    Schedule,
    ScheduledEvent,
    Session,
    Unavailability,
    UnscheduledItem,
)

# Objective and bound are sums of small integers: only float noise is forgiven.
OBJECTIVE_TOLERANCE = 1e-6
# report.json may round ratios (gap, satisfaction) for people to read.
RATIO_TOLERANCE = 1e-3

EVENT_KINDS: tuple[str, ...] = ("plenary", "workshop", "partner_meeting", "new_contact_meeting")
MEETING_PREFIX: Mapping[str, str] = {"partner_meeting": "pm", "new_contact_meeting": "nc"}
ATTENDANCE_ROLES: tuple[str, ...] = ("host", "delegate", "attendee")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def check(conference: Conference, matchmaking: Matchmaking, schedule: Schedule) -> list[str]:
    """Every rule the schedule breaks, in plain words naming the event and participant.

    An empty list means the schedule keeps every rule.
    """
    return _check_rules(conference, matchmaking, schedule) + _check_numbers(conference, schedule)


def _check_rules(conference: Conference, matchmaking: Matchmaking, schedule: Schedule) -> list[str]:
    """Every rule about what is placed where and who attends (not the reported numbers)."""
    violations: list[str] = []
    violations += _check_meeting_ids(matchmaking)
    violations += _check_coverage(conference, matchmaking, schedule)
    timed_events = []
    for event in schedule.events:
        found = _check_event(conference, matchmaking, event)
        violations += found
        if _is_aware(event.start) and _is_aware(event.end) and event.end > event.start:
            timed_events.append(event)
    violations += _check_rooms(conference, timed_events)
    violations += _check_simultaneous(conference, timed_events)
    violations += _check_attendance(conference, matchmaking, schedule)
    violations += _check_participants_days(conference, schedule, timed_events)
    return violations


# --- what is planned ---------------------------------------------------------------------


def _check_meeting_ids(matchmaking: Matchmaking) -> list[str]:
    """Meeting ids are pm-/nc- followed by the two city ids in sorted order."""
    violations = []
    for meeting in matchmaking.meetings:
        prefix = MEETING_PREFIX.get(meeting.kind)
        if prefix is None:
            violations.append(f"meeting {meeting.id}: unknown kind {meeting.kind!r}")
            continue
        low, high = sorted((meeting.city_a, meeting.city_b))
        expected = f"{prefix}-{low}-{high}"
        if meeting.id != expected:
            violations.append(
                f"meeting {meeting.id}: its id should be {expected} "
                f"({meeting.kind} of {meeting.city_a} and {meeting.city_b}, city ids sorted)"
            )
    return violations


def _check_coverage(
    conference: Conference, matchmaking: Matchmaking, schedule: Schedule
) -> list[str]:
    """Every session and meeting appears exactly once: scheduled or unscheduled."""
    expected: dict[str, str] = {s.id: s.kind for s in conference.sessions}
    for meeting in matchmaking.meetings:
        expected[meeting.id] = meeting.kind
    impossible = {item.item_id: item.kind for item in matchmaking.impossible}
    scheduled = Counter(e.event_id for e in schedule.events)
    unscheduled = Counter(u.item_id for u in schedule.unscheduled)
    return (
        _check_scheduled_items(scheduled, expected, impossible)
        + _check_unscheduled_items(schedule.unscheduled, unscheduled, expected, impossible)
        + _check_each_item_listed(conference, scheduled, unscheduled, expected, impossible)
    )


def _check_scheduled_items(
    scheduled: Counter[str], expected: Mapping[str, str], impossible: Mapping[str, str]
) -> list[str]:
    """Each scheduled event is a session or a meeting that can happen, scheduled once."""
    violations = []
    for event_id, count in sorted(scheduled.items()):
        if count > 1:
            violations.append(f"{event_id}: scheduled {count} times (once expected)")
        if event_id in impossible:
            violations.append(
                f"{event_id}: scheduled, but matchmaking found it cannot happen "
                f"(it must be listed as unscheduled)"
            )
        elif event_id not in expected:
            violations.append(f"{event_id}: scheduled, but no such session or meeting exists")
    return violations


def _check_unscheduled_items(
    items: Iterable[UnscheduledItem],
    unscheduled: Counter[str],
    expected: Mapping[str, str],
    impossible: Mapping[str, str],
) -> list[str]:
    """Each unscheduled item exists, has its kind and a reason, and is listed once."""
    violations = []
    for item in items:
        if item.item_id not in expected and item.item_id not in impossible:
            violations.append(
                f"{item.item_id}: listed as unscheduled, but no such session or meeting exists"
            )
            continue
        kind = expected.get(item.item_id) or impossible[item.item_id]
        if item.kind != kind:
            violations.append(
                f"{item.item_id}: listed as unscheduled with kind {item.kind!r}, but it is a {kind}"
            )
        if not item.reason.strip():
            violations.append(f"{item.item_id}: unscheduled without a reason")
    for item_id, count in sorted(unscheduled.items()):
        if count > 1:
            violations.append(f"{item_id}: listed as unscheduled {count} times (once expected)")
    return violations


def _check_each_item_listed(
    conference: Conference,
    scheduled: Counter[str],
    unscheduled: Counter[str],
    expected: Mapping[str, str],
    impossible: Mapping[str, str],
) -> list[str]:
    """Each session and meeting is scheduled or unscheduled, not both, not neither; a
    meeting that cannot happen is unscheduled."""
    violations = []
    for item_id in sorted(expected):
        if scheduled[item_id] and unscheduled[item_id]:
            violations.append(f"{item_id}: both scheduled and listed as unscheduled")
        elif not scheduled[item_id] and not unscheduled[item_id]:
            what = "session" if item_id in conference.sessions_by_id else "meeting"
            violations.append(f"{item_id}: {what} neither scheduled nor listed as unscheduled")
    for item_id in sorted(impossible):
        if not unscheduled[item_id]:
            violations.append(
                f"{item_id}: meeting that cannot happen is missing from the unscheduled list"
            )
    return violations


# --- each event on its own -----------------------------------------------------------------


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


def _check_event(
    conference: Conference, matchmaking: Matchmaking, event: ScheduledEvent
) -> list[str]:
    """Kind, theme, language, duration, grid, fixed start, window, room of one event."""
    eid = event.event_id
    session = conference.sessions_by_id.get(eid)
    meeting = matchmaking.meetings_by_id.get(eid)
    violations = []
    if event.kind not in EVENT_KINDS:
        violations.append(f"{eid}: unknown kind {event.kind!r}")
    if event.language not in EVENT_LANGUAGES:
        violations.append(f"{eid}: unknown language {event.language!r}")
    violations += _check_as_planned(event, session, meeting)

    if not (1 <= event.room <= conference.resources.rooms):
        violations.append(
            f"{eid}: room {event.room} does not exist (rooms are 1 to {conference.resources.rooms})"
        )

    violations += _check_in_utc(event)
    if not (_is_aware(event.start) and _is_aware(event.end)):
        return violations
    violations += _check_length(event, session, meeting)
    violations += _check_grid(conference, event)

    fixed = session.fixed_start if session is not None else None
    if fixed is not None and event.start != fixed:
        violations.append(
            f"{eid}: starts at {_utc(event.start)}, but it is fixed to start at {_utc(fixed)}"
        )
    violations += _check_window(conference, event, session)
    return violations


def _check_as_planned(
    event: ScheduledEvent, session: Session | None, meeting: Meeting | None
) -> list[str]:
    """Kind, theme, language and titles are those of the session or meeting."""
    eid = event.event_id
    if session is not None:
        return (
            _compare(eid, "kind", event.kind, session.kind)
            + _compare(eid, "theme", event.theme, session.theme)
            + _compare(eid, "language", event.language, session.language)
            + _compare_titles(eid, event.titles, session.titles)
        )
    if meeting is not None:
        return (
            _compare(eid, "kind", event.kind, meeting.kind)
            + _compare(eid, "theme", event.theme, None)
            + _compare(eid, "language", event.language, meeting.language)
            + _compare_titles(eid, event.titles, meeting.titles)
        )
    return []


def _check_in_utc(event: ScheduledEvent) -> list[str]:
    """Start and end are aware and given in UTC."""
    violations = []
    for name, moment in (("start", event.start), ("end", event.end)):
        if not _is_aware(moment):
            violations.append(f"{event.event_id}: {name} {moment.isoformat()} has no time zone")
        elif moment.utcoffset() != timedelta(0):
            violations.append(f"{event.event_id}: {name} {moment.isoformat()} is not given in UTC")
    return violations


def _check_length(
    event: ScheduledEvent, session: Session | None, meeting: Meeting | None
) -> list[str]:
    """The event lasts its session's or meeting's duration, and ends after it starts."""
    planned = session if session is not None else meeting
    duration = planned.duration_minutes if planned is not None else None
    length = event.end - event.start
    if duration is not None and length != timedelta(minutes=duration):
        lasts = f"lasts {_minutes(length)} minutes from {_utc(event.start)} to {_utc(event.end)}"
        return [f"{event.event_id}: {lasts}, but its duration is {duration} minutes"]
    if length <= timedelta(0):
        return [f"{event.event_id}: ends at {_utc(event.end)}, not after its start"]
    return []


def _compare(eid: str, what: str, found: object, expected: object) -> list[str]:
    if found == expected:
        return []
    return [f"{eid}: {what} is {found!r}, but the plan says {expected!r}"]


def _compare_titles(eid: str, found: Mapping[str, str], planned: Mapping[str, str]) -> list[str]:
    """The German and Turkish titles (the ones schedule.csv carries) are the plan's."""
    violations = []
    for lang in ("de", "tr"):
        violations += _compare(eid, f"title ({lang})", found.get(lang), planned.get(lang))
    return violations


def _check_grid(conference: Conference, event: ScheduledEvent) -> list[str]:
    """Every start is a whole multiple of grid_minutes from 00:00 UTC."""
    grid = conference.calendar.grid_minutes
    start = event.start.astimezone(UTC)
    midnight = datetime.combine(start.date(), time(0), tzinfo=UTC)
    offset = start - midnight
    if offset % timedelta(minutes=grid) != timedelta(0):
        where = f"{event.event_id}: starts at {_utc(event.start)}"
        return [f"{where}, not on the {grid}-minute grid counted from 00:00 UTC"]
    return []


def _check_window(
    conference: Conference, event: ScheduledEvent, session: Session | None
) -> list[str]:
    """Start and end date, in the organiser's zone, lie in the window and in
    not_before/not_after. The end is taken as its last instant (an event ending at
    midnight ends on the day before)."""
    zone = conference.zone
    first = event.start.astimezone(zone).date()
    last = (event.end - timedelta(microseconds=1)).astimezone(zone).date()
    violations = []
    limits: list[tuple[str, date | None, date | None]] = [
        ("the conference window", conference.start, conference.end)
    ]
    if session is not None and (session.not_before or session.not_after):
        limits.append(("its not_before/not_after", session.not_before, session.not_after))
    for what, earliest, latest in limits:
        for label, day in (("starts", first), ("ends", last)):
            if (earliest and day < earliest) or (latest and day > latest):
                violations.append(
                    f"{event.event_id}: {label} on {day.isoformat()} ({conference.timezone}), "
                    f"outside {what} {_span(earliest, latest)}"
                )
    return violations


def _span(earliest: date | None, latest: date | None) -> str:
    low = earliest.isoformat() if earliest else "…"
    high = latest.isoformat() if latest else "…"
    return f"{low} to {high}"


# --- resources -----------------------------------------------------------------------------


def _check_rooms(conference: Conference, events: list[ScheduledEvent]) -> list[str]:
    """No two events share a room at the same time; at most `rooms` events at once."""
    violations = []
    by_room: dict[int, list[ScheduledEvent]] = defaultdict(list)
    for event in events:
        by_room[event.room].append(event)
    for room, in_room in sorted(by_room.items()):
        in_room.sort(key=lambda e: (e.start, e.event_id))
        for i, first in enumerate(in_room):
            for second in in_room[i + 1 :]:
                if second.start >= first.end:
                    break
                violations.append(
                    f"room {room}: {first.event_id} ({_utc(first.start)}–{_utc(first.end)}) "
                    f"and {second.event_id} ({_utc(second.start)}–{_utc(second.end)}) overlap"
                )
    violations += _too_many_at_once(events, conference.resources.rooms, "rooms", "events")
    return violations


def _check_simultaneous(conference: Conference, events: list[ScheduledEvent]) -> list[str]:
    """At most `interpreters` interpreted (de-tr) events, sessions or meetings, at once."""
    interpreted = [e for e in events if e.language == INTERPRETED]
    return _too_many_at_once(
        interpreted, conference.resources.interpreters, "interpreters", "interpreted events"
    )


def _too_many_at_once(
    events: list[ScheduledEvent], limit: int, resource: str, what: str
) -> list[str]:
    """Sweep over start/end instants; intervals are half-open, so back-to-back is fine."""
    points: list[tuple[datetime, int, str]] = []
    for event in events:
        points.append((event.start, 1, event.event_id))
        points.append((event.end, 0, event.event_id))  # 0 sorts ends before starts
    points.sort()
    running: set[str] = set()
    violations = []
    for moment, is_start, event_id in points:
        if not is_start:
            running.discard(event_id)
            continue
        running.add(event_id)
        if len(running) > limit:
            violations.append(
                f"at {_utc(moment)}: {len(running)} {what} run at once "
                f"({', '.join(sorted(running))}), but there are only {limit} {resource}"
            )
    return violations


# --- who attends ---------------------------------------------------------------------------


def _check_attendance(
    conference: Conference, matchmaking: Matchmaking, schedule: Schedule
) -> list[str]:
    """Roles, hosts, delegates, wanted weight, duplicates and capacity per event."""
    violations = []
    scheduled_ids = {e.event_id for e in schedule.events}
    by_event: dict[str, list[Attendance]] = defaultdict(list)
    for attendance in schedule.attendance:
        if attendance.event_id not in scheduled_ids:
            violations.append(
                f"{attendance.event_id}: participant {attendance.participant_id} attends "
                f"an event that is not scheduled"
            )
            continue
        by_event[attendance.event_id].append(attendance)

    for event in schedule.events:
        eid = event.event_id
        rows = by_event.get(eid, [])
        counts = Counter(a.participant_id for a in rows)
        for pid, count in sorted(counts.items()):
            if count > 1:
                violations.append(f"{eid}: participant {pid} is listed {count} times")
        for attendance in rows:
            if attendance.participant_id not in conference.participants_by_id:
                violations.append(f"{eid}: unknown participant {attendance.participant_id}")
            if attendance.role not in ATTENDANCE_ROLES:
                violations.append(
                    f"{eid}: participant {attendance.participant_id} has unknown role "
                    f"{attendance.role!r}"
                )
        session = conference.sessions_by_id.get(eid)
        meeting = matchmaking.meetings_by_id.get(eid)
        if session is not None:
            violations += _check_session_attendance(conference, session, rows)
        elif meeting is not None:
            violations += _check_meeting_attendance(meeting, rows)
    return violations


def _check_session_attendance(
    conference: Conference, session: Session, rows: list[Attendance]
) -> list[str]:
    eid = session.id
    violations = []
    roles = {a.participant_id: a.role for a in rows}
    for host in session.hosts:
        if host not in roles:
            violations.append(f"{eid}: host {host} does not attend")
        elif roles[host] != "host":
            violations.append(f"{eid}: host {host} attends as {roles[host]!r}, not as 'host'")
    for pid, role in sorted(roles.items()):
        person = conference.participants_by_id.get(pid)
        if role == "host" and pid not in session.hosts:
            violations.append(f"{eid}: participant {pid} attends as host but is not a host")
        elif role == "delegate":
            violations.append(
                f"{eid}: participant {pid} attends a session as delegate "
                f"(delegates belong to meetings)"
            )
        elif role == "attendee" and person is not None and pid not in session.hosts:
            weight = conference.wanted_weight(person, session)
            if weight <= 0:
                violations.append(
                    f"{eid}: participant {pid} attends but does not want it "
                    f"({_why_not_wanted(person, session)})"
                )
    if session.capacity is not None and len(roles) > session.capacity:
        violations.append(
            f"{eid}: {len(roles)} attendees (hosts included), but capacity is {session.capacity}"
        )
    return violations


def _why_not_wanted(person: Participant, session: Session) -> str:
    if not person.can_follow(session.language):
        return f"cannot follow language {session.language}"
    if session.audience is not None and person.role not in session.audience:
        return f"role {person.role} is not in its audience"
    return "wanted weight 0"


def _check_meeting_attendance(meeting: Meeting, rows: list[Attendance]) -> list[str]:
    eid = meeting.id
    violations = []
    roles = {a.participant_id: a.role for a in rows}
    for delegate in meeting.delegates:
        if delegate not in roles:
            violations.append(f"{eid}: delegate {delegate} does not attend")
        elif roles[delegate] != "delegate":
            violations.append(
                f"{eid}: delegate {delegate} attends as {roles[delegate]!r}, not as 'delegate'"
            )
    for pid in sorted(roles):
        if pid not in meeting.delegates:
            violations.append(
                f"{eid}: participant {pid} attends, but only the cities' delegates meet"
            )
    return violations


# --- each participant's days ---------------------------------------------------------------


def _check_participants_days(
    conference: Conference, schedule: Schedule, events: list[ScheduledEvent]
) -> list[str]:
    """Weekdays, holidays, day hours, unavailability, buffers and events per day, each in
    the participant's own zone."""
    events_by_id = {e.event_id: e for e in events}
    agendas: dict[str, list[ScheduledEvent]] = defaultdict(list)
    for attendance in schedule.attendance:
        event = events_by_id.get(attendance.event_id)
        if event is not None and attendance.participant_id in conference.participants_by_id:
            agendas[attendance.participant_id].append(event)
    unavailable: dict[str, list[Unavailability]] = defaultdict(list)
    for period in conference.unavailability:
        unavailable[period.participant_id].append(period)

    violations = []
    for pid in sorted(agendas):
        person = conference.participants_by_id[pid]
        agenda = sorted(agendas[pid], key=lambda e: (e.start, e.event_id))
        for event in agenda:
            violations += _check_conference_days(conference, person, event)
            violations += _check_day_hours(conference, person, event)
            violations += _check_unavailability(conference, person, event, unavailable[pid])
        violations += _check_buffers(conference, pid, agenda)
        violations += _check_events_per_day(conference, person, agenda)
    return violations


def _who(conference: Conference, person: Participant) -> str:
    city = conference.city_of(person)
    return f"participant {person.id} ({city.name}, {city.timezone})"


def _check_conference_days(
    conference: Conference, person: Participant, event: ScheduledEvent
) -> list[str]:
    """Every local day the event touches is a conference weekday and, when holidays are
    kept free, no public holiday of the participant's city."""
    city = conference.city_of(person)
    rules = conference.calendar
    violations = []
    for day in _local_dates(event, city.zone):
        if day.weekday() not in rules.weekdays:
            violations.append(
                f"{event.event_id}: {_who(conference, person)} would attend on "
                f"{WEEKDAY_NAMES[day.weekday()]} {day.isoformat()}, not a conference weekday"
            )
        if rules.public_holidays:
            holiday = city.holiday(day)
            if holiday:
                violations.append(
                    f"{event.event_id}: {_who(conference, person)} would attend on "
                    f"{day.isoformat()}, a public holiday there ({holiday.name})"
                )
    return violations


def _check_day_hours(
    conference: Conference, person: Participant, event: ScheduledEvent
) -> list[str]:
    """The event lies inside the participant's local day (their role's, when narrower)."""
    zone = conference.city_of(person).zone
    rules = conference.calendar
    day_start, day_end = _local_day(conference, person)
    eid, who = event.event_id, _who(conference, person)
    local_start = event.start.astimezone(zone)
    local_end = event.end.astimezone(zone)
    violations = []
    if local_start.time() < day_start:
        violations.append(
            f"{eid}: {who} starts at {local_start:%H:%M} local time on "
            f"{local_start.date().isoformat()}, before the day start "
            f"{day_start:%H:%M}"
            + (f" for role {person.role}" if day_start != rules.day_start else "")
        )
    # compare instants, not clock times: an event ending at or after the next
    # local midnight ends "after" the day end although its clock time is early
    latest_end = datetime.combine(local_start.date(), day_end, tzinfo=zone)
    if local_end > latest_end:
        violations.append(
            f"{eid}: {who} ends at {local_end:%H:%M} local time on "
            f"{local_end.date().isoformat()}, after the day end {day_end:%H:%M}"
            + (f" for role {person.role}" if day_end != rules.day_end else "")
        )
    return violations


def _check_unavailability(
    conference: Conference,
    person: Participant,
    event: ScheduledEvent,
    periods: list[Unavailability],
) -> list[str]:
    """The event overlaps none of the participant's unavailable periods."""
    zone = conference.city_of(person).zone
    violations = []
    for period in periods:
        if event.start < period.end and period.start < event.end:
            reason = f" ({period.reason})" if period.reason else ""
            violations.append(
                f"{event.event_id}: {_who(conference, person)} is unavailable from "
                f"{period.start.astimezone(zone):%Y-%m-%d %H:%M} to "
                f"{period.end.astimezone(zone):%Y-%m-%d %H:%M} local time{reason}"
            )
    return violations


def _check_events_per_day(
    conference: Conference, person: Participant, agenda: list[ScheduledEvent]
) -> list[str]:
    """At most max_events_per_day events start on one local day of the participant."""
    zone = conference.city_of(person).zone
    most = conference.calendar.max_events_per_day
    violations = []
    per_day = Counter(e.start.astimezone(zone).date() for e in agenda)
    for day, count in sorted(per_day.items()):
        if count > most:
            ids = ", ".join(e.event_id for e in agenda if e.start.astimezone(zone).date() == day)
            violations.append(
                f"participant {person.id}: {count} events on {day.isoformat()} ({ids}), "
                f"at most {most} per day"
            )
    return violations


def _local_day(conference: Conference, person: Participant) -> tuple[time, time]:
    """The calendar's day, narrowed by every rule for the participant's role."""
    start, end = conference.calendar.day_start, conference.calendar.day_end
    for rule in conference.role_rules:
        if rule.role != person.role:
            continue
        if rule.day_start is not None:
            start = max(start, rule.day_start)
        if rule.day_end is not None:
            end = min(end, rule.day_end)
    return start, end


def _local_dates(event: ScheduledEvent, zone: ZoneInfo) -> list[date]:
    """The local dates the event touches (its end is exclusive)."""
    first = event.start.astimezone(zone).date()
    last = (event.end - timedelta(microseconds=1)).astimezone(zone).date()
    days = [first]
    while days[-1] < last:
        days.append(days[-1] + timedelta(days=1))
    return days


def _check_buffers(conference: Conference, pid: str, agenda: list[ScheduledEvent]) -> list[str]:
    """Between two events of one participant: no overlap and at least buffer_minutes."""
    buffer = timedelta(minutes=conference.calendar.buffer_minutes)
    violations = []
    for i, a in enumerate(agenda):
        for b in agenda[i + 1 :]:
            if b.start >= a.end + buffer:
                # sorted by start: a later event may still clash if `a` is long
                continue
            if b.start < a.end and a.start < b.end:
                violations.append(
                    f"participant {pid}: {a.event_id} ({_utc(a.start)}–{_utc(a.end)}) and "
                    f"{b.event_id} ({_utc(b.start)}–{_utc(b.end)}) overlap"
                )
            else:
                gap = b.start - a.end
                violations.append(
                    f"participant {pid}: only {_minutes(gap)} minutes between "
                    f"{a.event_id} and {b.event_id}, at least "
                    f"{conference.calendar.buffer_minutes} needed"
                )
    return violations


# --- the numbers ---------------------------------------------------------------------------


def _attended_weight(conference: Conference, attendance: Iterable[Attendance]) -> float:
    """Σ w over the (participant, session) pairs attended, hosts included: docs/inputs.md's
    'attended weight' that the objective and satisfaction count."""
    total = 0.0
    seen: set[tuple[str, str]] = set()
    for a in attendance:
        person = conference.participants_by_id.get(a.participant_id)
        session = conference.sessions_by_id.get(a.event_id)
        if person is None or session is None or (person.id, session.id) in seen:
            continue
        seen.add((person.id, session.id))
        total += conference.wanted_weight(person, session)
    return total


def _check_numbers(conference: Conference, schedule: Schedule) -> list[str]:
    violations = []
    scheduled = {e.event_id for e in schedule.events}
    attended = _attended_weight(
        conference, (a for a in schedule.attendance if a.event_id in scheduled)
    )
    if not math.isclose(schedule.objective, attended, abs_tol=OBJECTIVE_TOLERANCE):
        violations.append(
            f"objective is {schedule.objective:g}, but the attended weight is {attended:g}"
        )
    if schedule.bound < schedule.objective - OBJECTIVE_TOLERANCE:
        violations.append(f"bound {schedule.bound:g} is below the objective {schedule.objective:g}")
    if schedule.status not in ("OPTIMAL", "FEASIBLE"):
        violations.append(f"status is {schedule.status!r}, expected OPTIMAL or FEASIBLE")
    elif schedule.status == "OPTIMAL" and not math.isclose(
        schedule.bound, schedule.objective, abs_tol=OBJECTIVE_TOLERANCE
    ):
        violations.append(
            f"status is OPTIMAL, but the bound {schedule.bound:g} is above the objective "
            f"{schedule.objective:g}"
        )
    return violations


def _satisfaction(
    conference: Conference, attendance: Iterable[Attendance]
) -> tuple[float, dict[str, float]]:
    """Attended w ÷ wanted w, overall and for every city with wanted weight > 0."""
    attended_pairs = {(a.participant_id, a.event_id) for a in attendance}
    wanted: dict[str, float] = defaultdict(float)
    got: dict[str, float] = defaultdict(float)
    for person, session, w in conference.wanted_pairs:  # wanted_weight > 0
        wanted[person.city_id] += w
        if (person.id, session.id) in attended_pairs:
            got[person.city_id] += w
    total_wanted = sum(wanted.values())
    overall = sum(got.values()) / total_wanted if total_wanted else 0.0
    return overall, {c: got[c] / wanted[c] for c in sorted(wanted) if wanted[c] > 0}


def _utc(moment: datetime) -> str:
    if not _is_aware(moment):
        return moment.isoformat()
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _minutes(length: timedelta) -> str:
    return f"{length.total_seconds() / 60:g}"


# --- written outputs -----------------------------------------------------------------------

SCHEDULE_COLUMNS = (
    "event_id",
    "kind",
    "theme",
    "title_de",
    "title_tr",
    "start",
    "end",
    "language",
    "interpreted",
    "room",
    "attendees",
)
ATTENDANCE_COLUMNS = ("event_id", "participant_id", "role")
UNSCHEDULED_COLUMNS = ("item_id", "kind", "reason")
MATCHES_COLUMNS = ("city_a", "city_b", "kind", "score", "reasons", "event_id")
REPORT_FIELDS = (
    "status",
    "objective",
    "bound",
    "gap",
    "solve_seconds",
    "satisfaction",
    "satisfaction_by_city",
    "events_scheduled",
    "meetings_scheduled",
    "violations",
)
_NUMBER_COLUMNS = ("room", "attendees", "score")
_UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def check_outputs(inputs: Path, outputs: Path) -> list[str]:
    """Verify a written output folder against the input folder it was made from.

    Loads and matches the inputs again, reads schedule.csv, attendance.csv,
    unscheduled.csv and report.json, and returns every violation (empty: all good).
    Raises UserError when a folder is missing or the inputs are invalid.
    """
    from scheduler.matchmaking import match
    from scheduler.pipeline import load, require_folder

    outputs = require_folder(outputs, "output")
    conference, _warnings = load(inputs)
    return check_written(conference, match(conference, _kept_contacts(outputs)), outputs)


def _kept_contacts(outputs: Path) -> frozenset[tuple[str, str]]:
    """A re-plan (version 2 on) keeps the new contacts published before while they are
    still possible, so the meetings it holds are matched with those kept, as the run did;
    a first run's must be the best choice (nothing kept)."""
    try:
        version = json.loads((outputs / "report.json").read_text(encoding="utf-8")).get("version")
        if not isinstance(version, int) or version < 2:
            return frozenset()
        with (outputs / "matches.csv").open(encoding="utf-8", newline="") as handle:
            return frozenset(
                (row["city_a"], row["city_b"])
                for row in csv.DictReader(handle)
                if row.get("kind") == "new"
            )
    except (OSError, ValueError, KeyError):
        return frozenset()  # the file checks below say what is wrong


def check_written(conference: Conference, matchmaking: Matchmaking, outputs: Path) -> list[str]:
    """Read the written tables and report.json of `outputs` and check them, with the
    file-level rules (formats, counts, report fields) on top of ``check``."""
    outputs = Path(outputs)
    violations: list[str] = []
    tables: dict[str, list[dict[str, str]] | None] = {}
    for name, columns in (
        ("schedule.csv", SCHEDULE_COLUMNS),
        ("attendance.csv", ATTENDANCE_COLUMNS),
        ("unscheduled.csv", UNSCHEDULED_COLUMNS),
        ("matches.csv", MATCHES_COLUMNS),
    ):
        tables[name] = _read_table(outputs / name, columns, violations)
    report = _read_report(outputs / "report.json", violations)
    schedule_rows, attendance_rows, unscheduled_rows = (
        tables["schedule.csv"],
        tables["attendance.csv"],
        tables["unscheduled.csv"],
    )
    if schedule_rows is None or attendance_rows is None or unscheduled_rows is None:
        return violations  # without the tables there is nothing to check them against

    events, counts = _events_from_rows(schedule_rows, violations)
    attendance = tuple(
        Attendance(row["event_id"], row["participant_id"], cast(Any, row["role"]))
        for row in attendance_rows
    )
    unscheduled = tuple(
        UnscheduledItem(row["item_id"], cast(EventKind, row["kind"]), row["reason"])
        for row in unscheduled_rows
    )
    rows_per_event = Counter(a.event_id for a in attendance)
    for event_id, count in counts.items():
        if count is not None and count != rows_per_event[event_id]:
            violations.append(
                f"schedule.csv: {event_id} says {count} attendees, but attendance.csv has "
                f"{rows_per_event[event_id]} rows for it"
            )

    numbers = _report_numbers(report, violations) if report is not None else None
    status, objective, bound = numbers or ("FEASIBLE", math.nan, math.nan)
    schedule = Schedule(
        events=tuple(events),
        attendance=attendance,
        unscheduled=unscheduled,
        status=cast(Any, status),
        objective=objective,
        bound=bound,
        solve_seconds=0.0,
    )
    violations += _check_rules(conference, matchmaking, schedule)
    if tables["matches.csv"] is not None:
        scheduled = {e.event_id for e in events}
        violations += _check_matches(matchmaking, tables["matches.csv"], scheduled)
    # without a readable report (already said) there are no numbers to compare
    if report is not None and numbers is not None:
        violations += _check_numbers(conference, schedule)
        violations += _check_report(conference, schedule, report)
    return violations


def _check_matches(
    matchmaking: Matchmaking, rows: list[dict[str, str]], scheduled: set[str]
) -> list[str]:
    """matches.csv: every partnership and chosen new contact, nothing else; its event_id
    is the planned meeting when that meeting is scheduled, blank otherwise."""
    violations = []
    expected = {frozenset((m.city_a, m.city_b)): m for m in matchmaking.matches}
    seen: set[frozenset[str]] = set()
    for number, row in enumerate(rows, start=2):
        pair = frozenset((row["city_a"], row["city_b"]))
        where = f"matches.csv, row {number} ({row['city_a']}–{row['city_b']})"
        match = expected.get(pair)
        if match is None:
            violations.append(f"{where}: neither a partnership nor a chosen new contact")
            continue
        if pair in seen:
            violations.append(f"{where}: listed twice")
        seen.add(pair)
        if row["kind"] != match.kind:
            violations.append(f"{where}: kind {row['kind']!r}, expected {match.kind!r}")
        try:
            if not math.isclose(float(row["score"]), match.score, abs_tol=RATIO_TOLERANCE):
                violations.append(f"{where}: score {row['score']}, expected {match.score:.3f}")
        except ValueError:
            violations.append(f"{where}: score {row['score']!r} is not a number")
        meeting_id = match.meeting_id if match.meeting_id in scheduled else None
        if (row["event_id"] or None) != meeting_id:
            violations.append(
                f"{where}: event_id {row['event_id']!r}, expected "
                + (repr(meeting_id) if meeting_id else "blank (no meeting scheduled)")
            )
    for pair, match in sorted(expected.items(), key=lambda item: sorted(item[0])):
        if pair not in seen:
            violations.append(f"matches.csv: {match.kind} {match.city_a}–{match.city_b} missing")
    return violations


def _read_table(
    path: Path, columns: tuple[str, ...], violations: list[str]
) -> list[dict[str, str]] | None:
    if not path.is_file():
        violations.append(f"{path.name} is missing from the output folder")
        return None
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                violations.append(f"{path.name}: missing column(s) {', '.join(missing)}")
                return None
            rows = []
            for row in reader:
                if None in row or any(row[c] is None for c in columns):
                    violations.append(f"{path.name}, row {reader.line_num}: wrong number of cells")
                    continue
                rows.append({c: _cell_text(c, row[c]) for c in columns})
            return rows
    except UnicodeDecodeError:
        violations.append(f"{path.name} is not UTF-8")
        return None


def _cell_text(column: str, cell: str) -> str:
    """The text of a written cell: text cells that would start like a spreadsheet formula
    (or with ') are written with one leading ' (docs/workflow.md); numbers as they are."""
    return cell if column in _NUMBER_COLUMNS else cell.removeprefix("'")


def _read_report(path: Path, violations: list[str]) -> dict[str, Any] | None:
    if not path.is_file():
        violations.append("report.json is missing from the output folder")
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        violations.append(f"report.json is not valid JSON: {error}")
        return None
    if not isinstance(report, dict):
        violations.append("report.json does not hold an object")
        return None
    missing = [f for f in REPORT_FIELDS if f not in report]
    if missing:
        violations.append(f"report.json: missing field(s) {', '.join(missing)}")
    return report


def _parse_utc(text: str) -> datetime | None:
    if not _UTC_STAMP.match(text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _events_from_rows(
    rows: list[dict[str, str]], violations: list[str]
) -> tuple[list[ScheduledEvent], dict[str, int | None]]:
    """ScheduledEvents from schedule.csv rows, and the attendee count each row states."""
    events = []
    counts: dict[str, int | None] = {}
    for number, row in enumerate(rows, start=2):
        where = f"schedule.csv, row {number} ({row['event_id']})"
        start, end = _parse_utc(row["start"]), _parse_utc(row["end"])
        broken = False
        for name, value in (("start", start), ("end", end)):
            if value is None:
                violations.append(
                    f"{where}: {name} {row[name]!r} is not a UTC time like 2020-06-03T07:00:00Z"
                )
                broken = True
        if row["interpreted"] not in ("true", "false"):
            violations.append(f"{where}: interpreted {row['interpreted']!r} is not true/false")
        elif (row["interpreted"] == "true") != (row["language"] == INTERPRETED):
            violations.append(
                f"{where}: interpreted is {row['interpreted']}, but the language is "
                f"{row['language']}"
            )
        try:
            room = int(row["room"])
        except ValueError:
            violations.append(f"{where}: room {row['room']!r} is not a whole number")
            room = 0
        try:
            counts[row["event_id"]] = int(row["attendees"])
        except ValueError:
            violations.append(f"{where}: attendees {row['attendees']!r} is not a count")
            counts[row["event_id"]] = None
        if row["kind"] in MEETING_PREFIX and row["theme"]:
            violations.append(f"{where}: a meeting has theme {row['theme']!r}, blank expected")
        if broken or start is None or end is None:
            continue
        events.append(
            ScheduledEvent(
                event_id=row["event_id"],
                kind=cast(EventKind, row["kind"]),
                theme=row["theme"] or None,
                titles={"de": row["title_de"], "tr": row["title_tr"]},
                start=start,
                end=end,
                language=cast(Any, row["language"]),
                room=room,
            )
        )
    return events, counts


def _report_numbers(
    report: Mapping[str, Any], violations: list[str]
) -> tuple[str, float, float] | None:
    status = report.get("status")
    values = []
    for name in ("objective", "bound"):
        value = report.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            violations.append(f"report.json: {name} {value!r} is not a number")
            return None
        values.append(float(value))
    if status not in ("OPTIMAL", "FEASIBLE"):
        violations.append(f"report.json: status {status!r} is not OPTIMAL or FEASIBLE")
        return None
    return str(status), values[0], values[1]


def _check_report(
    conference: Conference, schedule: Schedule, report: Mapping[str, Any]
) -> list[str]:
    """The report's derived numbers, recomputed from the written tables. Missing fields
    were already reported when the file was read."""
    violations = []
    scheduled = {e.event_id for e in schedule.events}
    attendance = [a for a in schedule.attendance if a.event_id in scheduled]

    expected_gap = (
        0.0 if schedule.bound == 0 else (schedule.bound - schedule.objective) / schedule.bound
    )
    meetings = sum(1 for e in schedule.events if e.kind in MEETING_PREFIX)
    overall, by_city = _satisfaction(conference, attendance)
    violations += _compare_number(report, "gap", expected_gap, RATIO_TOLERANCE)
    violations += _compare_number(report, "events_scheduled", len(schedule.events), 0)
    violations += _compare_number(report, "meetings_scheduled", meetings, 0)
    violations += _compare_number(report, "satisfaction", overall, RATIO_TOLERANCE)
    seconds = report.get("solve_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        violations.append(f"report.json: solve_seconds {seconds!r} is not a duration")

    reported = report.get("satisfaction_by_city", {})
    if not isinstance(reported, dict):
        violations.append(f"report.json: satisfaction_by_city {reported!r} is not an object")
    else:
        for city in sorted(set(by_city) | set(reported)):
            if city not in reported:
                violations.append(f"report.json: satisfaction_by_city lacks city {city}")
            elif city not in by_city:
                violations.append(
                    f"report.json: satisfaction_by_city lists {city}, which wants no session"
                )
            else:
                violations += _compare_number(
                    reported, city, by_city[city], RATIO_TOLERANCE, "satisfaction_by_city."
                )
    if report.get("violations", []) != []:
        violations.append(
            f"report.json: violations is {report.get('violations')!r}, an empty list expected"
        )
    return violations


def _compare_number(
    values: Mapping[str, Any], name: str, expected: float, tolerance: float, prefix: str = ""
) -> list[str]:
    if name not in values:
        return []
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"report.json: {prefix}{name} {value!r} is not a number"]
    if not math.isclose(float(value), expected, abs_tol=tolerance):
        return [
            f"report.json: {prefix}{name} is {value:g}, but the written tables give {expected:g}"
        ]
    return []
