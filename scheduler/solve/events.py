"""Sessions and meetings as one kind of thing to place: who must be there, how long it
lasts, and at which grid cells it may start (or, when none, why not)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from scheduler.model import (
    Conference,
    EventKind,
    Matchmaking,
    Meeting,
    Participant,
    Session,
)
from scheduler.solve.availability import TimeGrid, local_day_hours


@dataclass
class PlannedEvent:
    """A session or meeting with its time rules resolved onto the grid."""

    id: str
    kind: EventKind
    duration: int  # minutes
    length: int  # cells
    language: str
    interpreted: bool
    people: tuple[str, ...]  # hosts (sessions) or delegates (meetings), who must attend
    session: Session | None = None
    meeting: Meeting | None = None
    fixed_cell: int | None = None
    allowed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    problem: str | None = None  # why it cannot be placed at all, in words

    @property
    def is_session(self) -> bool:
        return self.session is not None

    @property
    def people_role(self) -> str:
        return "host" if self.is_session else "delegate"

    @property
    def seats(self) -> int | None:
        """Attendees it may take besides its hosts; None = no limit."""
        if self.session is None or self.session.capacity is None:
            return None
        return max(0, self.session.capacity - len(self.people))


def describe_local(grid: TimeGrid, cell: int) -> str:
    """A cell's start in the organiser's zone, as an organiser reads it."""
    moment = grid.instant(cell).astimezone(grid.conference.zone)
    return moment.strftime("%Y-%m-%d %H:%M")


def why_not_free(
    conference: Conference, grid: TimeGrid, person: Participant, cell: int, length: int
) -> str:
    """Why a person cannot be in an event of ``length`` cells starting at ``cell``."""
    city = conference.city_of(person)
    zone = city.zone
    start = grid.instant(cell)
    end = start + timedelta(minutes=length * grid.grid)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.date()
    rules = conference.calendar
    if day.weekday() not in rules.weekdays:
        return f"{day:%A} {day.isoformat()} is not a conference day in {city.name}"
    if rules.public_holidays:
        holiday = city.holiday(day)
        if holiday:
            return (
                f"{day.isoformat()} is a public holiday in {city.region or city.country} "
                f"({holiday.name})"
            )
    day_start, day_end = local_day_hours(conference, person.role)
    if local_start.time() < day_start or local_end.date() != day or local_end.time() > day_end:
        suffix = (
            f" for role {person.role}"
            if (day_start, day_end) != (rules.day_start, rules.day_end)
            else ""
        )
        return (
            f"{local_start:%H:%M}–{local_end:%H:%M} local time in {city.name} is outside the day "
            f"hours {day_start:%H:%M}–{day_end:%H:%M}{suffix}"
        )
    for item in conference.unavailability:
        if item.participant_id == person.id and item.start < end and start < item.end:
            return "they are unavailable then" + (f" ({item.reason})" if item.reason else "")
    return "they are not free then"


def _window(
    conference: Conference, grid: TimeGrid, duration: int, session: Session | None
) -> np.ndarray:
    first, last = conference.start, conference.end
    if session is not None:
        if session.not_before is not None:
            first = max(first, session.not_before)
        if session.not_after is not None:
            last = min(last, session.not_after)
    return grid.window_starts(duration, first, last)


def _who(conference: Conference, pid: str, role: str) -> str:
    person = conference.participants_by_id[pid]
    city = conference.cities_by_id.get(person.city_id)
    return f"{role} {pid}" + (f" of {city.name}" if city and role == "delegate" else "")


def plan_events(
    conference: Conference, matchmaking: Matchmaking, grid: TimeGrid
) -> list[PlannedEvent]:
    """Every session and meeting, with its allowed start cells or the reason it has none."""
    planned: list[PlannedEvent] = []
    everyone = conference.participants
    for session in sorted(conference.sessions, key=lambda s: s.id):
        planned.append(
            PlannedEvent(
                id=session.id,
                kind=session.kind,
                duration=session.duration_minutes,
                length=grid.cells_for(session.duration_minutes),
                language=session.language,
                interpreted=session.interpreted,
                people=tuple(sorted(set(session.hosts))),
                session=session,
            )
        )
    for meeting in sorted(matchmaking.meetings, key=lambda m: m.id):
        planned.append(
            PlannedEvent(
                id=meeting.id,
                kind=meeting.kind,
                duration=meeting.duration_minutes,
                length=grid.cells_for(meeting.duration_minutes),
                language=meeting.language,
                interpreted=meeting.interpreted,
                people=tuple(sorted(set(meeting.delegates))),
                meeting=meeting,
            )
        )
    for event in planned:
        _resolve_starts(conference, grid, event, everyone)
    return planned


def _resolve_starts(
    conference: Conference, grid: TimeGrid, event: PlannedEvent, everyone: tuple[Participant, ...]
) -> None:
    """The event's allowed starts, or (none) its problem in words."""
    people = [
        conference.participants_by_id[p] for p in event.people if p in conference.participants_by_id
    ]
    if event.interpreted and conference.resources.interpreters == 0:
        event.problem = "it needs an interpreter (language de-tr) and there are none (resources.interpreters = 0)"
        event.allowed = np.zeros(grid.cells, dtype=bool)
        return
    window = _window(conference, grid, event.duration, event.session)
    if not window.any():
        event.problem = "its not_before/not_after leave no day inside the conference window"
        event.allowed = window
        return
    if event.session is not None and event.session.fixed_start is not None:
        _pin_fixed_start(conference, grid, event, people, window, event.session.fixed_start)
        return
    allowed = window.copy()
    for person in people:
        own = grid.allowed_starts(grid.profile(person), event.length) & window
        if not own.any():
            event.problem = _never_free(conference, grid, event, person, window)
            event.allowed = own
            return
        allowed &= own
    if not people:
        allowed &= grid.everyone_starts(everyone, event.length)
    if not allowed.any():
        event.problem = _no_common_time(conference, event, bool(people))
    event.allowed = allowed


def _pin_fixed_start(
    conference: Conference,
    grid: TimeGrid,
    event: PlannedEvent,
    people: list[Participant],
    window: np.ndarray,
    fixed_start: datetime,
) -> None:
    """A session with a fixed start: allowed at that one cell, or its problem in words."""
    fixed = fixed_start.astimezone(UTC)
    exact = grid.cell_at(fixed)
    cell = round(exact)
    when = fixed.astimezone(conference.zone).strftime("%Y-%m-%d %H:%M")
    if abs(exact - cell) > 1e-9 or not 0 <= cell < grid.cells:
        event.problem = f"its fixed start {when} is not on the {grid.grid}-minute grid"
    elif not window[cell]:
        event.problem = f"its fixed start {when} is outside the days it may take place"
    else:
        busy = (p for p in people if not grid.allowed_starts(grid.profile(p), event.length)[cell])
        person = next(busy, None)
        if person is not None:
            reason = why_not_free(conference, grid, person, cell, event.length)
            who = _who(conference, person.id, event.people_role)
            event.problem = f"{who} cannot attend at its fixed start {when}: {reason}"
    mask = np.zeros(grid.cells, dtype=bool)
    if event.problem is None:
        mask[cell] = True
        event.fixed_cell = cell
    event.allowed = mask


def _never_free(
    conference: Conference,
    grid: TimeGrid,
    event: PlannedEvent,
    person: Participant,
    window: np.ndarray,
) -> str:
    """Why a host or delegate free at no start of the event's window keeps it out."""
    who = _who(conference, person.id, event.people_role)
    what = "session" if event.is_session else "meeting"
    # free at some moment but never long enough: the event is longer than any stretch of
    # their day hours, which "unavailable" would hide from the organiser
    if (grid.allowed_starts(grid.profile(person), 1) & window).any():
        return (
            f"{who} has no free {event.duration} minutes "
            f"within their day hours on any day this {what} may take place"
        )
    return f"{who} is unavailable on every day this {what} may take place"


def _no_common_time(conference: Conference, event: PlannedEvent, has_people: bool) -> str:
    """Why an event whose people are each free sometimes has no start for all of them."""
    if not has_people:
        what = "session" if event.is_session else "meeting"
        return f"no participant could attend at any time this {what} may take place"
    if event.meeting is not None:
        names = " and ".join(
            conference.cities_by_id[c].name for c in (event.meeting.city_a, event.meeting.city_b)
        )
        return f"no {event.duration}-minute time when all delegates of {names} are free"
    return (
        f"no {event.duration}-minute time when all its hosts ({', '.join(event.people)}) are free"
    )


def wanted(conference: Conference) -> dict[str, list[tuple[str, int]]]:
    """Per session id, the (participant id, w) of everyone with w > 0 who is not a host."""
    result: dict[str, list[tuple[str, int]]] = {s.id: [] for s in conference.sessions}
    for person, session, w in conference.wanted_pairs:
        if person.id not in session.hosts:
            result[session.id].append((person.id, w))
    return result


__all__ = ["PlannedEvent", "describe_local", "plan_events", "wanted", "why_not_free"]
