"""From decisions to the Schedule: rooms, attendance rows, unscheduled items with reasons."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
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
    starts: dict[str, int],
    events: dict[str, PlannedEvent],
    grid: TimeGrid,
    preferred: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Rooms 1..n so that events in one room never overlap: by start time, each event takes
    its preferred room (a re-plan: the published one) when that is free at its start, else
    the lowest-numbered free room. This is interval graph colouring, where any free room
    will do: no more events overlap at one moment than there are rooms (the cumulative
    rule), so a room up to that number is always free."""
    preferred = preferred or {}
    order = sorted(starts, key=lambda eid: (starts[eid], eid))
    busy: list[tuple[int, int]] = []  # (end in minutes, room), a heap
    rooms: dict[str, int] = {}
    for eid in order:
        begin = starts[eid] * grid.grid
        while busy and busy[0][0] <= begin:
            heapq.heappop(busy)
        taken = {room for _end, room in busy}
        wish = preferred.get(eid)
        if wish is not None and wish not in taken and wish <= grid.conference.resources.rooms:
            room = wish
        else:
            room = next(r for r in range(1, len(taken) + 2) if r not in taken)
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
    rooms: Mapping[str, int] | None = None,
    displaced: Mapping[str, str] | None = None,
    extra_moves: Mapping[str, float] | None = None,
) -> Schedule:
    """The Schedule of a placement and plan; ``rooms`` are the rooms to keep where free
    (a re-plan), ``displaced`` why published events had to move."""
    rooms = assign_rooms(starts, events, grid, rooms)
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
        displaced=dict(displaced or {}),
        extra_moves=dict(extra_moves or {}),
    )
