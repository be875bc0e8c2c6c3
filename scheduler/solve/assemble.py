"""From decisions to the Schedule: rooms, attendance rows, unscheduled items with reasons."""

from __future__ import annotations

import heapq
from datetime import date, timedelta
from typing import Literal

from scheduler.model import (
    Attendance,
    Conference,
    Matchmaking,
    Schedule,
    ScheduledEvent,
    UnscheduledItem,
)
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import PlannedEvent
from scheduler.solve.reasons import why_left_out


def assign_rooms(
    starts: dict[str, int], events: dict[str, PlannedEvent], grid: TimeGrid
) -> dict[str, int]:
    """Rooms 1..n so that events in one room never overlap: by start time, each event takes
    the lowest-numbered room free at its start (interval graph colouring, which needs no
    more rooms than events overlapping at one moment — the cumulative rule bounds that)."""
    order = sorted(starts, key=lambda eid: (starts[eid], eid))
    free_rooms: list[int] = []
    busy: list[tuple[int, int]] = []  # (end in minutes, room)
    next_room = 1
    rooms: dict[str, int] = {}
    for eid in order:
        begin = starts[eid] * grid.grid
        while busy and busy[0][0] <= begin:
            heapq.heappush(free_rooms, heapq.heappop(busy)[1])
        if free_rooms:
            room = heapq.heappop(free_rooms)
        else:
            room = next_room
            next_room += 1
        rooms[eid] = room
        heapq.heappush(busy, (begin + events[eid].duration, room))
    return rooms


def build_schedule(
    conference: Conference,
    matchmaking: Matchmaking,
    grid: TimeGrid,
    events: dict[str, PlannedEvent],
    starts: dict[str, int],
    plan: dict[tuple[str, date], list[str]],
    objective: int,
    bound: int,
    seconds: float,
) -> Schedule:
    rooms = assign_rooms(starts, events, grid)
    scheduled = []
    rows: list[Attendance] = []
    for eid, cell in starts.items():
        event = events[eid]
        begin = grid.instant(cell)
        source = event.session if event.session is not None else event.meeting
        assert source is not None
        scheduled.append(
            ScheduledEvent(
                event_id=eid,
                kind=event.kind,
                theme=event.session.theme if event.session is not None else None,
                titles=dict(source.titles),
                start=begin,
                end=begin + timedelta(minutes=event.duration),
                language=event.language,  # type: ignore[arg-type]
                room=rooms[eid],
            )
        )
        for pid in event.people:
            rows.append(Attendance(eid, pid, "host" if event.is_session else "delegate"))
    for (pid, _day), sessions in plan.items():
        for sid in sessions:
            rows.append(Attendance(sid, pid, "attendee"))
    unscheduled = [
        UnscheduledItem(
            item_id=event.id,
            kind=event.kind,
            reason=event.problem or why_left_out(conference, grid, event, starts, events),
        )
        for event in events.values()
        if event.id not in starts
    ]
    unscheduled += list(matchmaking.impossible)
    status: Literal["OPTIMAL", "FEASIBLE"] = "OPTIMAL" if objective >= bound else "FEASIBLE"
    return Schedule(
        events=tuple(sorted(scheduled, key=lambda e: (e.start, e.event_id))),
        attendance=tuple(sorted(rows, key=lambda a: (a.event_id, a.participant_id))),
        unscheduled=tuple(sorted(unscheduled, key=lambda u: u.item_id)),
        status=status,
        objective=float(objective),
        bound=float(bound),
        solve_seconds=seconds,
    )
