"""review.wanted_sessions says why a participant misses a session they want, from the
checker's rules: a reason given means attending would break a rule; "not chosen" means
the checker would accept it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from scheduler import review
from scheduler.check import check
from scheduler.export.tables import table_frames
from scheduler.model import Attendance, Matchmaking, Schedule, ScheduledEvent
from tests.builders import (
    CANAKKALE,
    MANNHEIM,
    OSNABRUECK,
    calendar,
    conference,
    participant,
    session,
)

NO_MEETINGS = Matchmaking((), (), ())


def at(hour: int) -> datetime:
    return datetime(2020, 6, 11, hour, 0, tzinfo=UTC)  # Thursday: Fronleichnam in DE-BW


def test_holiday_full_day_and_not_chosen_agree_with_the_checker() -> None:
    conf = conference(
        cities=(OSNABRUECK, CANAKKALE, MANNHEIM),
        calendar=calendar(max_events_per_day=1),
        participants=[
            participant("man1", "man", interests={"digital": 2}),
            participant("busy", interests={"digital": 2, "urban": 3}),
            participant("free", interests={"digital": 1}),
        ],
        sessions=[session("s1"), session("s2", theme="urban")],
    )

    def event(eid: str, theme: str, hour: int) -> ScheduledEvent:
        return ScheduledEvent(
            eid,
            "workshop",
            theme,
            {"de": f"Sitzung {eid}", "tr": f"Oturum {eid}"},
            at(hour),
            at(hour + 1),
            "de",
            1,
        )

    schedule = Schedule(
        events=(event("s1", "digital", 7), event("s2", "urban", 10)),
        attendance=(Attendance("s2", "busy", "attendee"),),
        unscheduled=(),
        status="FEASIBLE",
        objective=3,
        bound=6,
        solve_seconds=0.1,
    )
    assert check(conf, NO_MEETINGS, schedule) == []

    wants = review.wanted_sessions(conf, table_frames(conf, NO_MEETINGS, schedule))
    why = wants.set_index(["participant_id", "session_id"])["why_missed"].to_dict()
    assert why == {
        ("man1", "s1"): "public holiday where they live (Corpus Christi)",
        ("busy", "s1"): "day full (1 events on 2020-06-11)",
        ("busy", "s2"): "",
        ("free", "s1"): "not chosen (no rule found that blocks it: a longer solve may add it)",
    }
    for (pid, sid), reason in why.items():
        if not reason:
            continue
        weight = conf.wanted_weight(conf.participants_by_id[pid], conf.sessions_by_id[sid])
        more = replace(
            schedule,
            attendance=(*schedule.attendance, Attendance(sid, pid, "attendee")),
            objective=schedule.objective + weight,
        )
        broken = check(conf, NO_MEETINGS, more)
        assert bool(broken) == (not reason.startswith("not chosen")), (pid, reason, broken)
