"""Why an event with allowed starts was still left out: every rule that blocks it at
each of its allowed starts, given what was placed, in words an organiser can act on."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np

from scheduler.model import Conference
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import PlannedEvent, describe_local


def _noun(event: PlannedEvent) -> str:
    if event.session is not None:
        return "pinned session" if event.fixed_cell is not None else "session"
    return "meeting"


def why_left_out(
    conference: Conference,
    grid: TimeGrid,
    event: PlannedEvent,
    placed: dict[str, int],
    events: dict[str, PlannedEvent],
) -> str:
    """The reason an event with allowed starts is not in the schedule."""
    rules = conference.calendar
    g = grid.grid
    rooms = np.zeros(grid.cells + 1, dtype=np.int32)
    interpreters = np.zeros(grid.cells + 1, dtype=np.int32)
    for eid, cell in placed.items():
        other = events[eid]
        rooms[cell : cell + other.length] += 1
        if other.interpreted:
            interpreters[cell : cell + other.length] += 1
    people = conference.participants_by_id
    cells = [int(c) for c in np.flatnonzero(event.allowed)]
    counts: Counter[str] = Counter()
    first_reason: dict[str, str] = {}
    for cell in cells:
        causes: set[str] = set()
        if rooms[cell : cell + event.length].max(initial=0) >= conference.resources.rooms:
            causes.add("rooms")
            first_reason.setdefault("rooms", _taken_by(cell, event, placed, events, False))
        if (
            event.interpreted
            and interpreters[cell : cell + event.length].max(initial=0)
            >= conference.resources.interpreters
        ):
            causes.add("interpreters")
            first_reason.setdefault("interpreters", _taken_by(cell, event, placed, events, True))
        begin, end = cell * g, cell * g + event.duration
        for pid in event.people:
            if pid not in people:
                continue
            zone = ZoneInfo(conference.city_of(people[pid]).timezone)
            day = grid.local_date(cell, zone)
            same_day = 0
            for eid, other_cell in sorted(placed.items(), key=lambda kv: (kv[1], kv[0])):
                other = events[eid]
                if pid not in other.people:
                    continue
                o_begin, o_end = other_cell * g, other_cell * g + other.duration
                if o_begin < end + rules.buffer_minutes and begin < o_end + rules.buffer_minutes:
                    key = f"busy {pid}"
                    causes.add(key)
                    first_reason.setdefault(
                        key,
                        f"{event.people_role} {pid} is already booked by the {_noun(other)} {eid} "
                        f"at {describe_local(grid, other_cell)}",
                    )
                if grid.local_date(other_cell, zone) == day:
                    same_day += 1
            if same_day >= rules.max_events_per_day:
                key = f"full day {pid}"
                causes.add(key)
                first_reason.setdefault(
                    key,
                    f"{event.people_role} {pid} already has {rules.max_events_per_day} events "
                    f"(max_events_per_day) on {day.isoformat()}",
                )
        if not causes:
            return (
                "the solver found no place for it within the time limit "
                "(a longer time limit may place it)"
            )
        counts.update(causes)
    total = len(cells)
    everywhere = [c for c, n in counts.items() if n == total]
    if event.fixed_cell is not None:
        parts = []
        for cause in sorted(counts):
            parts.append(_say(cause, conference, first_reason, "pinned"))
        return "; ".join(parts)
    if everywhere:
        return _say(min(everywhere), conference, first_reason, "everywhere")
    parts = [
        f"{_say(c, conference, first_reason, 'partly')} ({n} of {total} allowed times)"
        for c, n in counts.most_common(3)
    ]
    return "every allowed time is blocked: " + "; ".join(parts)


def _taken_by(
    cell: int,
    event: PlannedEvent,
    placed: dict[str, int],
    events: dict[str, PlannedEvent],
    interpreted: bool,
) -> str:
    """The placed events that overlap ``event`` at ``cell`` (interpreted ones only, if
    asked), for naming what a pinned event competes with."""
    names = [
        eid
        for eid, other in sorted(placed.items())
        if other < cell + event.length
        and cell < other + events[eid].length
        and (events[eid].interpreted or not interpreted)
    ]
    return ", ".join(names)


def _say(cause: str, conference: Conference, first_reason: dict[str, str], mode: str) -> str:
    """One cause in words; ``mode``: "pinned" (at its one start, naming what competes),
    "everywhere" (at every allowed start) or "partly" (at some of them)."""
    rooms = conference.resources.rooms
    interpreters = conference.resources.interpreters
    when = {"pinned": " then", "everywhere": " at every allowed time"}.get(mode, "")
    if cause in ("rooms", "interpreters"):
        if cause == "rooms":
            what = "room capacity: " + (
                "1 room is full" if rooms == 1 else f"{rooms} rooms are full"
            )
        else:
            what = "interpreters: " + (
                "1 interpreter is busy"
                if interpreters == 1
                else f"{interpreters} interpreters are busy"
            )
        by = f" ({first_reason[cause]})" if mode == "pinned" and first_reason.get(cause) else ""
        return f"{what}{when}{by}"
    if cause.startswith("busy") and mode == "everywhere":
        return first_reason[cause].replace(
            " is already booked by ", " is booked at every allowed time, e.g. by "
        )
    return first_reason[cause]
