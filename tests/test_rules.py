"""Each hard rule on its own: a tiny conference where exactly that rule binds.

For every rule of the checker (scheduler/check.py; the table in docs/solver.md names the
solver's functions for it) two conferences that differ only in that rule: under the rule
the solver leaves out, or keeps someone from, what the rule forbids, and the checker finds
nothing wrong; with the rule relaxed the solver does place it, and that schedule, held to
the rule, is what the checker flags, in words naming that rule and no other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from scheduler.check import check
from scheduler.model import Conference, Matchmaking, Resources, Schedule, Session
from scheduler.solve import SolveOptions, solve
from tests.builders import (
    CANAKKALE,
    MANNHEIM,
    OSNABRUECK,
    calendar,
    conference,
    participant,
    session,
    unavailable,
)

NO_MEETINGS = Matchmaking(meetings=(), matches=(), impossible=())
JUNE_3 = date(2020, 6, 3)  # a Wednesday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant in June 2020 (Osnabrück is two hours ahead)."""
    return datetime(2020, 6, day, hour, minute, tzinfo=UTC)


def base(*sessions: Session, **overrides: Any) -> Conference:
    """Two hosts and two attendees in Osnabrück who want every session."""
    people = [participant(p) for p in ("h1", "h2", "a1", "a2")]
    values: dict[str, Any] = {"participants": people, "sessions": sessions}
    values.update(overrides)
    return conference(**values)


def solved(conf: Conference) -> Schedule:
    """A deterministic solve (work-limited, so the machine's load does not matter), held
    to the checker."""
    schedule = solve(conf, NO_MEETINGS, SolveOptions(time_limit=2.0, deterministic=True))
    assert check(conf, NO_MEETINGS, schedule) == []
    assert schedule.bound >= schedule.objective
    return schedule


def one_left_out(words: str) -> Callable[[Schedule], None]:
    """Exactly one session is left out, and its reason says ``words``."""

    def expect(schedule: Schedule) -> None:
        assert len(schedule.unscheduled) == 1, schedule.unscheduled
        assert words in schedule.unscheduled[0].reason, schedule.unscheduled[0].reason

    return expect


def seated(sid: str, count: int) -> Callable[[Schedule], None]:
    """Everything is placed; ``sid`` has exactly ``count`` people, hosts included."""

    def expect(schedule: Schedule) -> None:
        assert schedule.unscheduled == ()
        assert len(schedule.attendees_of(sid)) == count, schedule.attendees_of(sid)

    return expect


def attends(pid: str, count: int) -> Callable[[Schedule], None]:
    """Everything is placed; ``pid`` attends exactly ``count`` sessions."""

    def expect(schedule: Schedule) -> None:
        assert schedule.unscheduled == ()
        assert len([a for a in schedule.attendance_of(pid) if a.role == "attendee"]) == count

    return expect


@dataclass(frozen=True)
class Case:
    rule: str  # as the checker names it
    binding: Conference  # the rule binds
    relaxed: Conference  # the same conference, the rule relaxed
    expect: Callable[[Schedule], None]  # what the solve under the rule must show
    flagged: tuple[str, ...]  # every checker message on the relaxed schedule says one


def _case(
    rule: str,
    binding: Conference,
    relax: dict[str, Any],
    expect: Callable[[Schedule], None],
    *flagged: str,
) -> Case:
    return Case(rule, binding, replace(binding, **relax), expect, flagged)


def _cases() -> list[Case]:
    one_day: dict[str, Any] = {"not_before": JUNE_3, "not_after": JUNE_3}
    two_hours = calendar(day_start=time(9), day_end=time(11))
    pinned = at(3, 8)  # 10:00 in Osnabrück
    return [
        _case(
            "_check_rooms",
            base(
                session("s1", hosts=("h1",), fixed_start=pinned),
                session("s2", hosts=("h2",), fixed_start=pinned),
                resources=Resources(rooms=1, interpreters=2),
            ),
            {"resources": Resources(rooms=2, interpreters=2)},
            one_left_out("room capacity: 1 room is full"),
            "room",
        ),
        _case(
            "_check_simultaneous",
            base(
                session("s1", hosts=("h1",), fixed_start=pinned, language="de-tr"),
                session("s2", hosts=("h2",), fixed_start=pinned, language="de-tr"),
                resources=Resources(rooms=4, interpreters=1),
            ),
            {"resources": Resources(rooms=4, interpreters=2)},
            one_left_out("interpreters: 1 interpreter is busy"),
            "interpreters",
        ),
        _case(  # a host's two sessions fit the two-hour day only back to back
            "_check_buffers (hosts)",
            base(
                session("s1", hosts=("h1",), **one_day),
                session("s2", hosts=("h1",), **one_day),
                calendar=replace(two_hours, buffer_minutes=15),
            ),
            {"calendar": replace(two_hours, buffer_minutes=0)},
            one_left_out("host h1 is booked at every allowed time"),
            "minutes between",
        ),
        _case(
            "_check_buffers (attendees)",
            base(
                session("s1", hosts=("h1",), fixed_start=at(3, 8)),
                session("s2", hosts=("h2",), fixed_start=at(3, 9)),
            ),
            {"calendar": calendar(buffer_minutes=0)},
            attends("a1", 1),
            "minutes between",
        ),
        _case(
            "_check_participants_days: events per day (hosts)",
            base(
                session("s1", hosts=("h1",), duration=30, **one_day),
                session("s2", hosts=("h1",), duration=30, **one_day),
                calendar=calendar(max_events_per_day=1),
            ),
            {"calendar": calendar(max_events_per_day=2)},
            one_left_out("host h1 already has 1 events (max_events_per_day) on 2020-06-03"),
            "per day",
        ),
        _case(
            "_check_participants_days: events per day (attendees)",
            base(
                session("s1", hosts=("h1",), fixed_start=at(3, 8)),
                session("s2", hosts=("h2",), fixed_start=at(3, 12)),
                calendar=calendar(max_events_per_day=1),
            ),
            {"calendar": calendar(max_events_per_day=2)},
            attends("a1", 1),
            "per day",
        ),
        _case(
            "_check_participants_days: day hours",
            base(
                session("s1", hosts=("h1",), fixed_start=pinned),
                participants=[participant("h1", role="youth"), participant("a1")],
            ),
            {"participants": (participant("h1"), participant("a1"))},
            one_left_out("outside the day hours 14:00–18:00 for role youth"),
            "before the day start",
        ),
        _case(
            "_check_participants_days: weekdays",
            base(session("s1", hosts=("h1",), fixed_start=at(6, 8))),  # a Saturday
            {"calendar": calendar(weekdays=frozenset(range(6)))},
            one_left_out("Saturday 2020-06-06 is not a conference day"),
            "not a conference weekday",
        ),
        _case(  # Corpus Christi 2020 is a holiday in Baden-Württemberg, not in Lower Saxony
            "_check_participants_days: public holidays",
            base(
                session("s1", hosts=("h1",), fixed_start=at(11, 8)),
                cities=(OSNABRUECK, CANAKKALE, MANNHEIM),
                participants=[participant("h1", "man"), participant("a1")],
            ),
            {"calendar": calendar(public_holidays=False)},
            one_left_out("2020-06-11 is a public holiday in DE-BW"),
            "public holiday",
        ),
        _case(
            "_check_participants_days: unavailability",
            base(
                session("s1", hosts=("h1",), fixed_start=pinned),
                unavailability=[unavailable("h1", at(3, 7), at(3, 10), "Stadtrat")],
            ),
            {"unavailability": ()},
            one_left_out("they are unavailable then (Stadtrat)"),
            "is unavailable",
        ),
        _case(
            "_check_window",
            base(session("s1", hosts=("h1",), fixed_start=at(4, 8), **one_day)),
            {"sessions": (session("s1", hosts=("h1",), fixed_start=at(4, 8)),)},
            one_left_out("is outside the days it may take place"),
            "outside its not_before/not_after",
        ),
        _case(
            "_check_grid",
            base(session("s1", hosts=("h1",), fixed_start=at(3, 8, 5))),
            {"calendar": calendar(grid_minutes=5)},
            one_left_out("is not on the 15-minute grid"),
            "grid",
        ),
        _case(  # a late pin; unpinned, the session goes to the first morning
            "_check_event: fixed start",
            base(session("s1", hosts=("h1",), fixed_start=at(5, 13))),
            {"sessions": (session("s1", hosts=("h1",)),)},
            attends("a1", 1),
            "fixed to start",
        ),
        _case(
            "_check_session_attendance: capacity",
            base(session("s1", hosts=("h1",), capacity=2)),
            {"sessions": (session("s1", hosts=("h1",)),)},
            seated("s1", 2),
            "capacity is 2",
        ),
    ]


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_solver_and_checker_agree_on_each_rule(case: Case) -> None:
    schedule = solved(case.binding)
    case.expect(schedule)
    relaxed = solved(case.relaxed)
    assert relaxed.unscheduled == ()
    violations = check(case.binding, NO_MEETINGS, relaxed)
    assert violations, "the relaxed schedule should break the rule"
    for violation in violations:
        assert any(words in violation for words in case.flagged), violation
