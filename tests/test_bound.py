"""The proven bounds (scheduler/solve/bound.py, lagrange.py): valid for every schedule,
checked against every schedule of tiny conferences and against proven optima."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, product
from pathlib import Path

import pytest

from scheduler.check import check
from scheduler.model import (
    Attendance,
    Conference,
    Matchmaking,
    Resources,
    Schedule,
    ScheduledEvent,
    UnscheduledItem,
)
from scheduler.solve import Progress, SolveOptions, solve
from scheduler.solve.availability import TimeGrid
from scheduler.solve.bound import attendance_bound, capacity_bound
from scheduler.solve.events import plan_events, wanted
from scheduler.solve.lagrange import LagrangianBound
from tests.builders import calendar, conference, participant, session, unavailable

NO_MEETINGS = Matchmaking(meetings=(), matches=(), impossible=())
DAY = date(2020, 6, 3)


def _bounds(conf: Conference, mm: Matchmaking, target: float) -> dict[str, int]:
    """Every bound, for the meetings of ``mm`` held."""
    grid = TimeGrid(conf)
    planned = [e for e in plan_events(conf, mm, grid) if e.problem is None]
    sessions = [e for e in planned if e.is_session]
    meetings = [e for e in planned if not e.is_session]
    wants = wanted(conf)
    capacity = capacity_bound(conf, grid, sessions, meetings, wants)
    assert capacity is not None
    lagrangian = LagrangianBound(conf, grid, sessions, meetings, wants)
    result = lagrangian.run(target=target, iterations=200)
    assert all(b >= result.bound for _, b in result.trace)
    return {
        "transport": attendance_bound(conf, grid, sessions, meetings, wants),
        "capacity": capacity,
        "lagrange": result.bound,
    }


def _best_schedule_weight(conf: Conference, starts: list[datetime]) -> float:
    """The attended weight of the best schedule the checker accepts: every start of
    every session (a pinned one: its pin) or none, and every set of attendees."""
    people = conf.participants_by_id

    def accepted(events: list[ScheduledEvent], rows: list[Attendance]) -> bool:
        placed = {e.event_id for e in events}
        schedule = Schedule(
            events=tuple(sorted(events, key=lambda e: (e.start, e.event_id))),
            attendance=tuple(sorted(rows, key=lambda r: (r.event_id, r.participant_id))),
            unscheduled=tuple(
                UnscheduledItem(s.id, s.kind, "left out")
                for s in sorted(conf.sessions, key=lambda s: s.id)
                if s.id not in placed
            ),
            status="FEASIBLE",
            objective=weight(rows),
            bound=weight(rows),
            solve_seconds=0,
        )
        return not [v for v in check(conf, NO_MEETINGS, schedule) if "status" not in v]

    def weight(rows: list[Attendance]) -> float:
        return sum(
            conf.wanted_weight(people[r.participant_id], conf.sessions_by_id[r.event_id])
            for r in rows
        )

    choices = [[None, s.fixed_start] if s.fixed_start else [None, *starts] for s in conf.sessions]
    best = 0.0
    for chosen_starts in product(*choices):
        events: list[ScheduledEvent] = []
        hosts = []
        for s, start in sorted(
            ((s, t) for s, t in zip(conf.sessions, chosen_starts, strict=True) if t is not None),
            key=lambda item: item[1],
        ):
            end = start + timedelta(minutes=s.duration_minutes)
            busy = {e.room for e in events if e.end > start}
            room = min(set(range(1, len(events) + 2)) - busy)  # the checker counts rooms
            events.append(
                ScheduledEvent(s.id, s.kind, s.theme, s.titles, start, end, s.language, room)
            )
            hosts += [Attendance(s.id, h, "host") for h in s.hosts]
        if not accepted(events, hosts):
            continue
        # attendees one at a time first: only pairs that pass alone can pass together
        single = [
            Attendance(e.event_id, p.id, "attendee")
            for e in events
            for p in conf.participants
            if p.id not in conf.sessions_by_id[e.event_id].hosts
            and conf.wanted_weight(p, conf.sessions_by_id[e.event_id]) > 0
            and accepted(events, [*hosts, Attendance(e.event_id, p.id, "attendee")])
        ]
        candidates = [
            [*hosts, *chosen]
            for size in range(len(single) + 1)
            for chosen in combinations(single, size)
        ]
        for rows in sorted(candidates, key=weight, reverse=True):
            if weight(rows) <= best:
                break
            if accepted(events, rows):
                best = weight(rows)
                break
    return best


def _tiny(**overrides: object) -> Conference:
    """One day, a coarse grid: few enough schedules to list them all."""
    values: dict[str, object] = {
        "calendar": calendar(grid_minutes=60, buffer_minutes=0, max_events_per_day=3),
        "resources": Resources(rooms=2, interpreters=1),
    }
    values.update(overrides)
    return conference(**values)


PINNED = datetime(2020, 6, 3, 9, tzinfo=UTC)  # 11:00 in Berlin
STARTS = [datetime(2020, 6, 3, h, tzinfo=UTC) for h in range(7, 16)]  # 9:00-17:00 Berlin


def test_two_pinned_sessions_that_clash_are_seen_by_the_lagrangian() -> None:
    """Somebody who wants both of two sessions pinned at the same time attends one: the
    transportation bound counts both, the Lagrangian (each participant's own plan) sees
    that only one fits; every bound stays at least the best schedule there is."""
    conf = _tiny(
        participants=[
            participant("h1", interests={"urban": 1}),
            participant("h2", interests={"urban": 1}),
            participant("both", interests={"digital": 2, "urban": 3}),
            participant("young", "can", role="youth", languages=("de", "tr")),
        ],
        sessions=[
            session("a", hosts=("h1",), fixed_start=PINNED),
            session("b", theme="urban", hosts=("h2",), fixed_start=PINNED),
            session("c", not_before=DAY, not_after=DAY),
        ],
    )
    best = _best_schedule_weight(conf, STARTS)
    bounds = _bounds(conf, NO_MEETINGS, best)
    assert all(value >= best for value in bounds.values()), (bounds, best)
    assert bounds["lagrange"] < bounds["transport"], bounds
    assert bounds["lagrange"] == best  # here it is exact
    # the solver reports the least bound; in deterministic mode the Lagrangian runs a
    # fixed number of steps, so this does not depend on the machine's speed
    options = SolveOptions(time_limit=5.0, workers=1, deterministic=True)
    schedule = solve(conf, NO_MEETINGS, options)
    assert check(conf, NO_MEETINGS, schedule) == []
    assert schedule.bound == best
    assert schedule.objective <= best


def test_two_sessions_one_room_apart_and_both_wanted_early_are_seen_by_the_lagrangian() -> None:
    """One room, so two sessions cannot run at once; q wants one, r the other, both are
    free at 9:00 only; p wants both and is free all day. Whichever session goes at 9:00,
    q or r misses theirs (best 3); the transportation bound and the capacity LP count
    both (4: neither sees where a session is placed). The Lagrangian sees it: a session
    spread over starts serves q and r only in the share that is at 9:00, and the one room
    at 9:00 holds one session's worth of the two."""
    away = [
        unavailable(pid, datetime(2020, 6, 3, 8, tzinfo=UTC), datetime(2020, 6, 3, 17, tzinfo=UTC))
        for pid in ("q", "r")
    ]
    conf = _tiny(
        resources=Resources(rooms=1, interpreters=1),
        participants=[
            participant("p", interests={"digital": 1, "urban": 1}),
            participant("q", interests={"digital": 1}),
            participant("r", interests={"urban": 1}),
        ],
        sessions=[
            session("a", not_before=DAY, not_after=DAY),
            session("b", theme="urban", not_before=DAY, not_after=DAY),
        ],
        unavailability=away,
    )
    best = _best_schedule_weight(conf, STARTS)
    bounds = _bounds(conf, NO_MEETINGS, best)
    assert best == 3
    assert bounds == {"transport": 4, "capacity": 4, "lagrange": 3}
    options = SolveOptions(time_limit=5.0, workers=1, deterministic=True)
    schedule = solve(conf, NO_MEETINGS, options)
    assert check(conf, NO_MEETINGS, schedule) == []
    assert schedule.bound == schedule.objective == best


@pytest.mark.parametrize("seats", [None, 1])
def test_every_bound_holds_against_every_schedule(seats: int | None) -> None:
    """Youth free from 14:00 only, a host who must be there, a session for two at most,
    rooms for two at once: the best of all schedules the checker accepts is never above
    any bound."""
    conf = _tiny(
        resources=Resources(rooms=1, interpreters=1),
        participants=[
            participant("host", interests={"digital": 1}),
            participant("adult", interests={"digital": 2, "youth": 3}),
            participant("young", "can", role="youth", languages=("de", "tr"),
                        interests={"youth": 3, "digital": 1}),
            participant("other", "can", role="youth", languages=("de", "tr"),
                        interests={"youth": 2, "urban": 3}),
        ],
        sessions=[
            session("a", hosts=("host",), not_before=DAY, not_after=DAY, duration=120),
            session("b", theme="youth", not_before=DAY, not_after=DAY, capacity=seats),
            session("c", theme="urban", not_before=DAY, not_after=DAY, duration=120),
        ],
    )  # fmt: skip
    best = _best_schedule_weight(conf, STARTS)
    bounds = _bounds(conf, NO_MEETINGS, best)
    assert best > 0
    assert all(value >= best for value in bounds.values()), (bounds, best)
    assert bounds["lagrange"] <= bounds["transport"]
    assert bounds["capacity"] <= bounds["transport"]


def test_bounds_hold_against_proven_optima_of_generated_conferences(tmp_path: Path) -> None:
    """Small generated conferences of several shapes, solved to proven optimality by the
    whole-problem CP-SAT (rearrange.py takes conferences this small whole): no bound is
    below the optimum, and the solver's bound is the least of them."""
    from scheduler.generate import Shape, generate
    from scheduler.load import load_conference
    from scheduler.matchmaking import match

    for number, shape in enumerate(
        [Shape(), Shape(youth_percent=60, youth_only_percent=60, interest_weights=(3,))]
    ):
        folder = tmp_path / str(number)
        generate(folder, cities=4, participants=20, sessions=5, seed=2, shape=shape)
        conf, _ = load_conference(folder)
        # without capacities the local search's measure is exactly the attended weight
        conf = replace(conf, sessions=tuple(replace(s, capacity=None) for s in conf.sessions))
        mm = match(conf)
        lines: list[Progress] = []
        options = SolveOptions(time_limit=2.0, workers=1, deterministic=True, progress=lines.append)
        schedule = solve(conf, mm, options)
        assert check(conf, mm, schedule) == []
        held = {e.event_id for e in schedule.events}
        kept = replace(mm, meetings=tuple(m for m in mm.meetings if m.id in held))
        bounds = _bounds(conf, kept, schedule.objective)
        assert all(value >= schedule.objective for value in bounds.values()), bounds
        assert schedule.bound <= bounds["transport"]
        assert schedule.bound >= schedule.objective
        assert schedule.status == "OPTIMAL"  # proven: the objective reaches a bound
        # the progress shows the bound only falling, never below a schedule found
        reported = [p.bound for p in lines]
        assert reported == sorted(reported, reverse=True)
        assert all(p.bound >= p.objective for p in lines)


def test_an_absence_that_splits_the_day_leaves_room_on_both_sides() -> None:
    """Free 9-10 and 13-14 only (local): one session fits before the absence and one
    after it. The transportation bound once took the day's free hours as one stretch (two
    hours, room for one session with its buffer) and was below this schedule."""
    from tests.builders import unavailable

    berlin = 2  # UTC+2 in June
    conf = _tiny(
        start=DAY,
        end=DAY,  # a one-day conference: that day's room is all there is
        calendar=calendar(grid_minutes=60, buffer_minutes=15, max_events_per_day=3),
        participants=[
            participant("host"),
            participant("away", interests={"digital": 3}),
        ],
        sessions=[
            session("a", hosts=("host",), not_before=DAY, not_after=DAY),
            session("b", hosts=("host",), not_before=DAY, not_after=DAY),
        ],
        unavailability=[
            unavailable("away", datetime(2020, 6, 3, 10 - berlin, tzinfo=UTC),
                        datetime(2020, 6, 3, 13 - berlin, tzinfo=UTC)),
            unavailable("away", datetime(2020, 6, 3, 14 - berlin, tzinfo=UTC),
                        datetime(2020, 6, 3, 18 - berlin, tzinfo=UTC)),
        ],
    )  # fmt: skip
    best = _best_schedule_weight(conf, STARTS)
    assert best == 6 + 2 * 2  # both sessions: 'away' 3 each, the host 2 each
    bounds = _bounds(conf, NO_MEETINGS, best)
    assert all(value >= best for value in bounds.values()), (bounds, best)
