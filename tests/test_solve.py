"""The solver on small conferences built in code; every schedule is verified by the
independent checker and its bound must hold."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from scheduler.check import check
from scheduler.model import (
    Conference,
    Matchmaking,
    Meeting,
    Resources,
    Schedule,
    satisfaction,
)
from scheduler.solve import Progress, SolveOptions, solve
from tests.builders import (
    CANAKKALE,
    KILIS,
    MANNHEIM,
    OSNABRUECK,
    calendar,
    conference,
    participant,
    session,
)

NO_MEETINGS = Matchmaking(meetings=(), matches=(), impossible=())
CITIES = (OSNABRUECK, CANAKKALE, MANNHEIM, KILIS)


def solved(conf: Conference, mm: Matchmaking = NO_MEETINGS, **options: object) -> Schedule:
    """Solve, and hold every schedule to the checker and to an honest bound. Deterministic
    unless a test says otherwise: a 2-second limit on the clock is a lottery on a busy
    machine, the same limit in CP-SAT's deterministic time is not."""
    options.setdefault("deterministic", True)
    schedule = solve(conf, mm, SolveOptions(time_limit=options.pop("time_limit", 2.0), **options))  # type: ignore[arg-type]
    assert check(conf, mm, schedule) == []
    assert schedule.bound >= schedule.objective
    assert schedule.status == ("OPTIMAL" if schedule.objective == schedule.bound else "FEASIBLE")
    return schedule


def attendees(schedule: Schedule, event_id: str) -> set[str]:
    return {a.participant_id for a in schedule.attendees_of(event_id)}


def meeting(
    city_a: str, city_b: str, delegates: tuple[str, ...], minutes: int = 45, language: str = "de-tr"
) -> Meeting:
    return Meeting(
        id=f"pm-{city_a}-{city_b}",
        kind="partner_meeting",
        city_a=city_a,
        city_b=city_b,
        delegates=delegates,
        language=language,  # type: ignore[arg-type]
        duration_minutes=minutes,
        titles={"de": "Partnertreffen", "tr": "Toplantı", "en": "Partner meeting"},
        score=1.0,
        reasons={"de": "", "tr": "", "en": ""},
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant in June 2020."""
    return datetime(2020, 6, day, hour, minute, tzinfo=UTC)


def test_holiday_in_one_region_only() -> None:
    # 11 June 2020 is Fronleichnam in Baden-Württemberg (Mannheim), not in Lower Saxony
    conf = conference(
        cities=CITIES,
        participants=[
            participant("osn1", "osn"),
            participant("man1", "man"),
            participant("man2", "man"),
        ],
        sessions=[
            session(
                "s-osn", hosts=("osn1",), not_before=date(2020, 6, 11), not_after=date(2020, 6, 11)
            ),
            session(
                "s-man", hosts=("man2",), not_before=date(2020, 6, 11), not_after=date(2020, 6, 11)
            ),
        ],
    )
    schedule = solved(conf)
    assert schedule.events_by_id["s-osn"].start.date() == date(2020, 6, 11)
    assert "man1" not in attendees(schedule, "s-osn")  # the Mannheim attendee has a holiday
    (left_out,) = schedule.unscheduled
    assert left_out.item_id == "s-man"
    assert "man2" in left_out.reason


def test_youth_host_only_after_school() -> None:
    conf = conference(
        participants=[participant("y1", "osn", role="youth", interests={"youth": 3})],
        sessions=[session("s1", theme="youth", hosts=("y1",))],
    )
    schedule = solved(conf)
    start = schedule.events_by_id["s1"].start
    assert start.time() >= time(12, 0)  # 14:00 in Berlin (UTC+2)


def test_interpreter_shortage_never_overlaps() -> None:
    conf = conference(
        resources=Resources(rooms=4, interpreters=1),
        participants=[participant(f"p{i}", "osn", languages=("de",)) for i in range(3)],
        sessions=[
            session(
                f"s{i}",
                language="de-tr",
                duration=180,
                not_before=date(2020, 6, 3),
                not_after=date(2020, 6, 3),
            )
            for i in range(3)
        ],
    )
    schedule = solved(conf)
    events = sorted(schedule.events, key=lambda e: e.start)
    assert len(events) == 3  # 09:00-18:00 holds exactly three three-hour sessions in a row
    for a, b in itertools.pairwise(events):
        assert a.end <= b.start


def test_meeting_across_two_time_zones_fits_both_local_days() -> None:
    conf = conference(
        participants=[
            participant("d-osn", "osn", role="administration"),
            participant("d-can", "can", role="administration", languages=("tr",)),
        ],
    )
    # eight hours: only 07:00-15:00 UTC is inside 09:00-18:00 in both Berlin and Istanbul
    mm = Matchmaking(
        meetings=(meeting("can", "osn", ("d-can", "d-osn"), minutes=480),),
        matches=(),
        impossible=(),
    )
    schedule = solved(conf, mm)
    event = schedule.events_by_id["pm-can-osn"]
    assert (event.start.time(), event.end.time()) == (time(7, 0), time(15, 0))
    assert attendees(schedule, "pm-can-osn") == {"d-osn", "d-can"}


def test_meeting_without_common_time_names_both_cities() -> None:
    conf = conference(
        participants=[
            participant("d-osn", "osn", role="administration"),
            participant("d-can", "can", role="administration", languages=("tr",)),
        ],
    )
    mm = Matchmaking(
        meetings=(meeting("can", "osn", ("d-can", "d-osn"), minutes=9 * 60),),
        matches=(),
        impossible=(),
    )
    schedule = solved(conf, mm)
    (left_out,) = schedule.unscheduled
    assert "Osnabrück" in left_out.reason and "Çanakkale" in left_out.reason


def test_capacity_is_respected() -> None:
    conf = conference(
        participants=[participant("host", "osn")] + [participant(f"p{i}", "osn") for i in range(5)],
        sessions=[session("s1", hosts=("host",), capacity=3)],
    )
    # deterministic: OPTIMAL must not depend on how busy the machine is
    schedule = solved(conf, deterministic=True)
    assert len(attendees(schedule, "s1")) == 3
    assert schedule.status == "OPTIMAL"  # two seats, every wanting person weighs the same


def test_host_double_booked_by_two_pins_leaves_one_out_with_the_host_named() -> None:
    conf = conference(
        participants=[participant("p003", "osn")],
        sessions=[
            session("s01", hosts=("p003",), fixed_start=at(3, 7)),
            session("s02", hosts=("p003",), fixed_start=at(3, 7, 30)),
        ],
    )
    schedule = solved(conf)
    assert len(schedule.events) == 1
    (left_out,) = schedule.unscheduled
    assert "p003" in left_out.reason
    kept = schedule.events[0].event_id
    assert kept in left_out.reason


def test_pin_on_a_weekend_or_holiday_is_left_out_with_a_reason() -> None:
    conf = conference(
        cities=CITIES,
        participants=[participant("osn1", "osn"), participant("man1", "man")],
        sessions=[
            session("weekend", hosts=("osn1",), fixed_start=at(6, 8)),  # Saturday
            session("holiday", hosts=("man1",), fixed_start=at(11, 8)),  # Fronleichnam in BW
        ],
    )
    schedule = solved(conf)
    reasons = {u.item_id: u.reason for u in schedule.unscheduled}
    assert set(reasons) == {"weekend", "holiday"}
    assert "osn1" in reasons["weekend"] and "Saturday" in reasons["weekend"]
    assert "man1" in reasons["holiday"] and "holiday" in reasons["holiday"]


def test_session_longer_than_the_day_hours_says_so() -> None:
    conf = conference(
        cities=CITIES,
        participants=[participant("osn1", "osn")],
        sessions=[session("marathon", duration=600, hosts=("osn1",))],  # day is 09:00-18:00
    )
    schedule = solved(conf)
    (left_out,) = schedule.unscheduled
    assert left_out.item_id == "marathon"
    assert "osn1" in left_out.reason and "no free 600 minutes" in left_out.reason
    assert "unavailable" not in left_out.reason


def test_no_interpreters_leaves_interpreted_events_out_with_that_reason() -> None:
    conf = conference(
        cities=CITIES,
        resources=Resources(rooms=2, interpreters=0),
        participants=[participant("osn1", "osn")],
        sessions=[session("both", language="de-tr"), session("german", language="de")],
    )
    schedule = solved(conf)
    (left_out,) = schedule.unscheduled
    assert left_out.item_id == "both" and "resources.interpreters = 0" in left_out.reason
    assert [e.event_id for e in schedule.events] == ["german"]


def test_buffer_between_two_sessions_of_one_person() -> None:
    conf = conference(
        participants=[participant("p1", "osn")],
        sessions=[
            session("s1", fixed_start=at(3, 7)),
            session("s2", fixed_start=at(3, 8)),  # starts when s1 ends: no 15-minute buffer
        ],
    )
    schedule = solved(conf)
    assert len(schedule.attendance_of("p1")) == 1


def test_at_most_max_events_per_day() -> None:
    conf = conference(
        participants=[participant("p1", "osn")],
        sessions=[session(f"s{i}", fixed_start=at(3, 7 + 2 * i)) for i in range(4)],
    )
    schedule = solved(conf)
    assert len(schedule.attendance_of("p1")) == 3
    assert schedule.objective == 6


def test_sessions_of_one_audience_are_spread_so_everyone_attends_everything() -> None:
    conf = conference(
        calendar=calendar(max_events_per_day=2),
        end=date(2020, 6, 5),
        participants=[participant(f"p{i}", "osn", interests={"digital": 3}) for i in range(4)],
        sessions=[session(f"s{i}") for i in range(6)],
    )
    schedule = solved(conf, deterministic=True)  # OPTIMAL whatever the machine's load
    # three days, two per day: only placing them two a day lets everyone attend all six
    assert schedule.objective == 4 * 6 * 3
    assert schedule.status == "OPTIMAL"


def test_deterministic_mode_gives_identical_schedules() -> None:
    conf = conference(
        participants=[
            participant(f"p{i}", "osn" if i % 2 else "can", languages=("de", "tr"))
            for i in range(6)
        ],
        sessions=[session(f"s{i}", capacity=3, language="de-tr") for i in range(5)],
    )
    first = solved(conf, deterministic=True, time_limit=3.0)
    second = solved(conf, deterministic=True, time_limit=3.0)
    assert replace(first, solve_seconds=0) == replace(second, solve_seconds=0)


def test_fairness_never_costs_total_weight() -> None:
    # one seat: Osnabrück's person wants it more (3) than Çanakkale's (1); fairness would
    # prefer Çanakkale, but the total comes first
    osn = participant("p-osn", "osn", languages=("de", "tr"), interests={"digital": 3})
    can = participant("p-can", "can", languages=("de", "tr"), interests={"digital": 1})
    host = participant("host", "osn", interests={"digital": 0})
    conf = conference(
        participants=[host, osn, can], sessions=[session("s1", hosts=("host",), capacity=2)]
    )
    schedule = solved(conf, deterministic=True)  # OPTIMAL whatever the machine's load
    assert attendees(schedule, "s1") == {"host", "p-osn"}
    assert schedule.objective == 3 and schedule.status == "OPTIMAL"
    assert satisfaction(conf, schedule).overall == 0.75


def test_progress_is_reported_with_honest_numbers() -> None:
    lines: list[Progress] = []
    conf = conference(
        participants=[participant(f"p{i}", "osn") for i in range(3)],
        sessions=[session(f"s{i}") for i in range(3)],
    )
    schedule = solved(conf, progress=lines.append)
    complete = [p for p in lines if p.phase in ("schedule", "done")]
    assert complete and complete[-1].objective == schedule.objective
    assert all(p.bound >= p.objective for p in complete)


def test_a_generated_conference_is_scheduled_within_the_rules(tmp_path) -> None:
    from scheduler.generate import generate
    from scheduler.load import load_conference
    from scheduler.matchmaking import match

    generate(tmp_path, cities=10, participants=60, sessions=12, seed=3)
    conf, _warnings = load_conference(tmp_path)
    mm = match(conf)
    schedule = solved(conf, mm, time_limit=4.0)
    placed = {e.event_id for e in schedule.events}
    assert placed | {u.item_id for u in schedule.unscheduled} == {s.id for s in conf.sessions} | {
        m.id for m in mm.meetings
    } | {u.item_id for u in mm.impossible}
    assert "opening" in placed  # the pinned opening plenary
    assert all(m.id in placed for m in mm.meetings if m.kind == "partner_meeting")
    assert schedule.objective > 0


def test_full_rooms_are_named_as_the_reason() -> None:
    day = date(2020, 6, 3)
    conf = conference(
        resources=Resources(rooms=1, interpreters=1),
        participants=[participant("p1", "osn")],
        sessions=[
            session("all-day", duration=540, fixed_start=at(3, 7)),  # 09:00-18:00 Berlin
            session("squeezed", not_before=day, not_after=day),
        ],
    )
    schedule = solved(conf)
    (left_out,) = schedule.unscheduled
    assert left_out.item_id == "squeezed"
    assert left_out.reason == "room capacity: 1 room is full at every allowed time"


def test_bound_and_objective_against_every_possible_schedule() -> None:
    """On a one-day conference small enough to list every schedule the checker accepts,
    the bound is at least the best of them, and the solver finds that best."""
    from itertools import combinations, product

    from scheduler.model import Attendance, ScheduledEvent

    day = date(2020, 6, 3)
    conf = conference(
        calendar=calendar(grid_minutes=60, buffer_minutes=0, max_events_per_day=2),
        resources=Resources(rooms=2, interpreters=1),
        participants=[
            participant("host", "osn", interests={"digital": 1}),
            participant("adult", "osn", interests={"digital": 2, "youth": 3}),
            participant(
                "young",
                "can",
                role="youth",
                languages=("de", "tr"),
                interests={"youth": 3, "digital": 1},
            ),
        ],
        sessions=[
            session("a", hosts=("host",), not_before=day, not_after=day, duration=120),
            session("b", theme="youth", not_before=day, not_after=day, capacity=1),
        ],
    )
    starts = [datetime(2020, 6, 3, h, tzinfo=UTC) for h in range(5, 17)]
    pairs = [(p.id, s.id) for p in conf.participants for s in conf.sessions if p.id != "host"]
    best = 0.0
    for start_a, start_b in product(starts, repeat=2):
        events = []
        for sid, start, room in (("a", start_a, 1), ("b", start_b, 2)):
            s = conf.sessions_by_id[sid]
            events.append(
                ScheduledEvent(
                    sid,
                    s.kind,
                    s.theme,
                    s.titles,
                    start,
                    start + timedelta(minutes=s.duration_minutes),
                    s.language,
                    room,
                )
            )
        for size in range(len(pairs) + 1):
            for chosen in combinations(pairs, size):
                rows = [Attendance("a", "host", "host")] + [
                    Attendance(s, p, "attendee") for p, s in chosen
                ]
                candidate = Schedule(
                    events=tuple(sorted(events, key=lambda e: (e.start, e.event_id))),
                    attendance=tuple(sorted(rows, key=lambda r: (r.event_id, r.participant_id))),
                    unscheduled=(),
                    status="FEASIBLE",
                    objective=0,
                    bound=0,
                    solve_seconds=0,
                )
                weight = sum(
                    conf.wanted_weight(
                        conf.participants_by_id[r.participant_id], conf.sessions_by_id[r.event_id]
                    )
                    for r in rows
                )
                if weight <= best:
                    continue
                candidate = replace(candidate, objective=float(weight), bound=float(weight))
                if not [v for v in check(conf, NO_MEETINGS, candidate) if "status" not in v]:
                    best = weight
    schedule = solved(conf)
    assert schedule.bound >= best
    assert schedule.objective == best


def test_a_scarce_seat_goes_to_the_worse_off_city_when_totals_tie() -> None:
    # one seat in s1, wanted equally (w=2) by a-osn and z-can; a-osn also gets s2, so
    # giving the seat to z-can leaves the worst city at 0.5 instead of 0
    host = participant("host", "osn", interests={"digital": 0})
    osn = participant("a-osn", "osn", languages=("de", "tr"), interests={"digital": 2})
    can = participant("z-can", "can", languages=("de", "tr"), interests={"digital": 2})
    conf = conference(
        participants=[host, osn, can],
        sessions=[
            session("s1", hosts=("host",), capacity=2, language="de-tr"),
            session("s2", language="de"),
        ],
        preferences={("z-can", "s2"): 0},
    )
    schedule = solved(conf)
    assert attendees(schedule, "s1") == {"host", "z-can"}
    assert schedule.objective == 4
    assert satisfaction(conf, schedule).worst_city == ("osn", 0.5)


def test_meetings_and_sessions_share_the_interpreters() -> None:
    day = date(2020, 6, 3)
    conf = conference(
        start=day,
        end=day,
        resources=Resources(rooms=4, interpreters=1),
        participants=[
            participant("d-osn", "osn", role="administration"),
            participant("d-can", "can", role="administration", languages=("tr",)),
            participant("p1", "osn", languages=("de",)),
        ],
        sessions=[session("long", language="de-tr", duration=480, fixed_start=at(3, 7))],
    )
    mm = Matchmaking(
        meetings=(meeting("can", "osn", ("d-can", "d-osn")),), matches=(), impossible=()
    )
    schedule = solved(conf, mm)
    # the partner meeting ranks first; the pinned session cannot share the interpreter
    assert "pm-can-osn" in schedule.events_by_id
    (left_out,) = schedule.unscheduled
    assert left_out.item_id == "long"
    assert left_out.reason == "interpreters: 1 interpreter is busy then (pm-can-osn)"


def test_shaking_a_day_never_double_books_the_one_room() -> None:
    """The local search's shake puts a day's sessions back one by one; when the first
    ones take the place the last one needs, the day must go back as it was (a run with
    rooms = 1 published two sessions at once in one room before)."""
    from scheduler.solve.availability import TimeGrid
    from scheduler.solve.events import plan_events, wanted
    from scheduler.solve.improve import LocalSearch
    from scheduler.solve.placement import PlacementModel
    from tests.builders import unavailable

    day = date(2020, 6, 3)
    conf = conference(
        calendar=calendar(day_start=time(9), day_end=time(12), buffer_minutes=0),
        resources=Resources(rooms=1, interpreters=1),
        participants=[participant("p1", "osn", interests={"digital": 3, "urban": 0})],
        sessions=[
            session("short", duration=60, not_before=day, not_after=day),
            session("long", theme="urban", duration=120, not_before=day, not_after=day),
        ],
        # p1, who wants the short one, is free only 10:00-11:00 Berlin: put back first
        # there, it leaves no two free hours for the long one
        unavailability=(
            unavailable("p1", at(3, 7), at(3, 8)),
            unavailable("p1", at(3, 9), at(3, 10)),
        ),
    )
    grid = TimeGrid(conf)
    events = plan_events(conf, NO_MEETINGS, grid)
    wants = wanted(conf)
    model = PlacementModel(
        conf, grid, events, wants, step_minutes=15, conflict_pairs_per_session=40
    )
    for seed in range(12):
        placer = model.placer(wants, 15)
        placer.put("short", round(grid.cell_at(at(3, 7))))  # 09:00 Berlin
        placer.put("long", placer.placed["short"] + grid.cells_for(60))
        search = LocalSearch(conf, placer, wants, seed)
        search.shake(events)
        assert int(placer.rooms.max()) <= 1, seed
        assert set(placer.placed) == {"short", "long"}


def test_two_sessions_that_must_trade_places_are_rearranged_together() -> None:
    """With one room, a session its audience can attend only at 09:00 sits at 10:00 and
    another one holds 09:00: no single move helps, a joint one does (rearrange.py)."""
    from scheduler.solve.availability import TimeGrid
    from scheduler.solve.events import plan_events, wanted
    from scheduler.solve.improve import LocalSearch
    from scheduler.solve.placement import PlacementModel
    from scheduler.solve.rearrange import Rearranger
    from tests.builders import unavailable

    day = date(2020, 6, 3)
    conf = conference(
        calendar=calendar(day_start=time(9), day_end=time(11), buffer_minutes=0),
        resources=Resources(rooms=1, interpreters=1),
        participants=[
            participant("early", "osn", interests={"digital": 3, "urban": 0}),
            participant("any", "osn", interests={"digital": 0, "urban": 3}),
        ],
        sessions=[
            session("a", duration=60, not_before=day, not_after=day, hosts=()),
            session("b", theme="urban", duration=60, not_before=day, not_after=day, hosts=()),
        ],
        unavailability=(unavailable("early", at(3, 8), at(3, 9)),),  # free 09-10 Berlin
    )
    grid = TimeGrid(conf)
    events = plan_events(conf, NO_MEETINGS, grid)
    wants = wanted(conf)
    model = PlacementModel(
        conf, grid, events, wants, step_minutes=15, conflict_pairs_per_session=40
    )
    nine = round(grid.cell_at(at(3, 7)))
    ten = nine + grid.cells_for(60)
    placer = model.placer(wants, 15)
    placer.put("b", nine)
    placer.put("a", ten)
    search = LocalSearch(conf, placer, wants, 0)
    before = search.total()
    assert not search.try_move("a", search.candidates("a"))
    assert not search.try_move("b", search.candidates("b"))
    rearranger = Rearranger(search, 0)
    assert rearranger.rearrange(["a", "b"], seconds=5, workers=1, seed=0, deterministic=True)
    assert placer.placed == {"a": nine, "b": ten}
    assert search.total() == before + 3
    assert int(placer.rooms.max()) <= 1


def test_a_meeting_takes_one_of_the_days_places_in_the_bound_wherever_it_goes() -> None:
    """One conference day, two events a day: the delegate's meeting leaves room for one
    of the two sessions they want, and the bound knows it without asking where the
    meeting is (it holds for any placement of the same meetings)."""
    day = date(2020, 6, 3)
    conf = conference(
        start=day,
        end=day,
        calendar=calendar(max_events_per_day=2),
        participants=[
            participant("d1", "osn", role="administration", interests={"digital": 3}),
            participant("d2", "can", role="administration", languages=("tr",)),
        ],
        sessions=[session("s1"), session("s2")],
    )
    mm = Matchmaking(meetings=(meeting("can", "osn", ("d1", "d2")),), matches=(), impossible=())
    schedule = solved(conf, mm, deterministic=True)  # OPTIMAL whatever the load
    assert "pm-can-osn" in schedule.events_by_id
    assert schedule.objective == 3
    assert schedule.bound == 3
    assert schedule.status == "OPTIMAL"


def test_a_small_conference_is_solved_to_proven_optimality(tmp_path) -> None:
    """With up to 50 movable events a rearrangement takes the whole problem (every event
    at any start, everyone's attendance) to CP-SAT; here the local search with day-sized
    rearrangements stops below the bound (1712 of 1722 when measured), the whole-problem
    model reaches it, so the optimum is proven.
    Deterministic mode, so the result does not depend on the machine's speed."""
    from scheduler.generate import generate
    from scheduler.load import load_conference
    from scheduler.matchmaking import match

    generate(tmp_path, cities=16, participants=120, sessions=16, seed=1)
    conf, _warnings = load_conference(tmp_path)
    # without capacities the local search's measure is exactly the attended weight
    conf = replace(conf, sessions=tuple(replace(s, capacity=None) for s in conf.sessions))
    mm = match(conf)
    schedule = solved(conf, mm, time_limit=5.0, deterministic=True)
    assert not schedule.unscheduled
    assert schedule.status == "OPTIMAL"
    assert schedule.objective == schedule.bound
