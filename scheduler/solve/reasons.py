"""Why an event with allowed starts was still left out: every rule that blocks it at
each of its allowed starts, given what was placed, in words an organiser can act on (the
rules and their labels from rules.py)."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np

from scheduler.model import Conference
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import PlannedEvent, describe_local
from scheduler.solve.rules import (
    NO_PLACE_FOUND,
    RoomsInUse,
    booked_label,
    busy_cells,
    daily_cap_label,
    day_full,
    interpreters_label,
    rooms_label,
    spans_overlap,
)


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
    blocked = _Blocked(conference, grid, event, placed, events)
    cells = [int(c) for c in np.flatnonzero(event.allowed)]
    counts: Counter[str] = Counter()
    for cell in cells:
        causes = blocked.rooms(cell)
        for pid in event.people:
            if pid in conference.participants_by_id:
                causes |= blocked.person(pid, cell)
        if not causes:
            return NO_PLACE_FOUND
        counts.update(causes)
    first_reason = blocked.first_reason
    total = len(cells)
    everywhere = [c for c, n in counts.items() if n == total]
    if event.fixed_cell is not None:
        return "; ".join(_say(c, conference, first_reason, "pinned") for c in sorted(counts))
    if everywhere:
        return _say(min(everywhere), conference, first_reason, "everywhere")
    parts = [
        f"{_say(c, conference, first_reason, 'partly')} ({n} of {total} allowed times)"
        for c, n in counts.most_common(3)
    ]
    return "every allowed time is blocked: " + "; ".join(parts)


class _Blocked:
    """Which rules block one event at a start, given what is placed; the first time each
    blocks, in words (``first_reason``)."""

    def __init__(
        self,
        conference: Conference,
        grid: TimeGrid,
        event: PlannedEvent,
        placed: dict[str, int],
        events: dict[str, PlannedEvent],
    ):
        self.conference = conference
        self.grid = grid
        self.event = event
        self.placed = placed
        self.events = events
        self.in_use = RoomsInUse(conference, grid.cells + 1)
        for eid, cell in placed.items():
            self.in_use.put(events[eid], cell)
        self.first_reason: dict[str, str] = {}

    def rooms(self, cell: int) -> set[str]:
        """The rooms rule and the interpreters rule, if either blocks the event there."""
        event, placed, events = self.event, self.placed, self.events
        at = np.array([cell], dtype=np.int64)
        causes: set[str] = set()
        if not self.in_use.room_free(event, at)[0]:
            causes.add("rooms")
            self.first_reason.setdefault("rooms", _taken_by(cell, event, placed, events, False))
        if not self.in_use.interpreter_free(event, at)[0]:
            causes.add("interpreters")
            self.first_reason.setdefault(
                "interpreters", _taken_by(cell, event, placed, events, True)
            )
        return causes

    def person(self, pid: str, cell: int) -> set[str]:
        """The buffers rule and the daily cap, if either keeps host or delegate ``pid``
        from the event there (the first event in the way named)."""
        grid, event, conference = self.grid, self.event, self.conference
        cap = conference.calendar.max_events_per_day
        zone = ZoneInfo(conference.city_of(conference.participants_by_id[pid]).timezone)
        day = grid.local_date(cell, zone)
        cells = busy_cells(grid, event.duration)
        causes: set[str] = set()
        same_day = 0
        for eid, other_cell in sorted(self.placed.items(), key=lambda kv: (kv[1], kv[0])):
            other = self.events[eid]
            if pid not in other.people:
                continue
            if spans_overlap(cell, cells, other_cell, busy_cells(grid, other.duration)):
                key = f"busy {pid}"
                causes.add(key)
                when = describe_local(grid, other_cell)
                self.first_reason.setdefault(
                    key, booked_label(event.people_role, pid, _noun(other), eid, when)
                )
            if grid.local_date(other_cell, zone) == day:
                same_day += 1
        if day_full(same_day, cap):
            key = f"full day {pid}"
            causes.add(key)
            self.first_reason.setdefault(
                key, daily_cap_label(event.people_role, pid, cap, day.isoformat())
            )
        return causes


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
    when = {"pinned": " then", "everywhere": " at every allowed time"}.get(mode, "")
    if cause in ("rooms", "interpreters"):
        if cause == "rooms":
            what = rooms_label(conference.resources.rooms)
        else:
            what = interpreters_label(conference.resources.interpreters)
        by = f" ({first_reason[cause]})" if mode == "pinned" and first_reason.get(cause) else ""
        return f"{what}{when}{by}"
    if cause.startswith("busy") and mode == "everywhere":
        return first_reason[cause].replace(
            " is already booked by ", " is booked at every allowed time, e.g. by "
        )
    return first_reason[cause]
