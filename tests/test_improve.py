"""The local search's measure where seats bind (scheduler/solve/improve.py): it counts the
attended weight phase 2 gets, seats given to those who would lose most without them."""

from __future__ import annotations

from datetime import date, time

from scheduler.model import Conference, Resources
from scheduler.solve.attendance import assign, improve_with_cp_sat, person_days, plan_weight
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import plan_events, wanted
from scheduler.solve.improve import LocalSearch
from scheduler.solve.placement import PlacementModel
from tests.builders import calendar, conference, participant, session, unavailable
from tests.test_solve import NO_MEETINGS, at, attendees, solved

DAY = date(2020, 6, 3)


def two_sessions() -> Conference:
    """``small`` has two seats and four who want it; two of them would otherwise go to
    ``other``, the other two have nothing else."""
    keen = {"digital": 3, "urban": 2}
    return conference(
        calendar=calendar(day_start=time(9), day_end=time(11), buffer_minutes=0),
        resources=Resources(rooms=2, interpreters=1),
        participants=[
            participant("both1", interests=keen),
            participant("both2", interests=keen),
            participant("only1", interests={"digital": 3}),
            participant("only2", interests={"digital": 3}),
        ],
        sessions=[
            session("small", capacity=2, not_before=DAY, not_after=DAY),
            session("other", theme="urban", not_before=DAY, not_after=DAY),
        ],
    )


def one_seat_conference() -> Conference:
    """One event a day. ``other`` is fixed at 10:00 and wanted by four who also want
    ``small`` (one seat); ``alone`` wants only ``small`` and is free only 09:00-10:00."""
    keen = {"digital": 3, "urban": 1}
    return conference(
        calendar=calendar(
            day_start=time(9), day_end=time(11), buffer_minutes=0, max_events_per_day=1
        ),
        resources=Resources(rooms=2, interpreters=1),
        participants=[participant(f"q{i}", interests=keen) for i in range(4)]
        + [participant("alone", interests={"digital": 3})],
        sessions=[
            session("small", capacity=1, not_before=DAY, not_after=DAY),
            session("other", theme="urban", fixed_start=at(3, 8)),
        ],
        unavailability=(unavailable("alone", at(3, 8), at(3, 9)),),
    )


def search_at(conf: Conference, starts: dict[str, int]) -> tuple[LocalSearch, TimeGrid]:
    grid = TimeGrid(conf)
    events = plan_events(conf, NO_MEETINGS, grid)
    wants = wanted(conf)
    model = PlacementModel(
        conf, grid, events, wants, step_minutes=15, conflict_pairs_per_session=40
    )
    placer = model.placer(wants, 15)
    for eid, cell in starts.items():
        placer.put(eid, cell)
    return LocalSearch(conf, placer, wants, 0), grid


def phase_two_weight(conf: Conference, grid: TimeGrid, starts: dict[str, int]) -> int:
    """The attended weight phase 2 gets (seat repair, then CP-SAT with the exact seats)."""
    events = {e.id: e for e in plan_events(conf, NO_MEETINGS, grid)}
    days, host_weight = person_days(conf, grid, events, starts, wanted(conf))
    wanted_by_city = {"osn": 1, "can": 1}
    plan = assign(conf, events, days, wanted_by_city, {})
    exact = improve_with_cp_sat(conf, events, days, plan, {}, wanted_by_city, 5, 1, 0, True, None)
    assert plan_weight(days, exact) >= plan_weight(days, plan)
    return host_weight + plan_weight(days, exact)


def test_the_measure_is_the_attended_weight_where_seats_bind() -> None:
    """Both sessions at 09:00: small's two seats go to the two with nothing else, the two
    who also want ``other`` go there: 3 + 3 + 2 + 2. The old measure (small's weight
    scaled by seats ÷ wanting) made it 2 + 2 + 1.5 + 1.5."""
    conf = two_sessions()
    grid = TimeGrid(conf)
    nine = round(grid.cell_at(at(3, 7)))
    search, grid = search_at(conf, {"small": nine, "other": nine})
    assert search.total() == 10
    assert phase_two_weight(conf, grid, {"small": nine, "other": nine}) == 10
    # one after the other, everybody who wants both could take both: still two seats
    ten = nine + grid.cells_for(60)
    search, grid = search_at(conf, {"small": nine, "other": ten})
    assert search.total() == phase_two_weight(conf, grid, {"small": nine, "other": ten}) == 10
    schedule = solved(conf)
    assert schedule.objective == 10


def test_a_session_with_few_seats_goes_where_they_serve_those_with_nothing_else() -> None:
    """At 10:00 small's one seat would cost its taker ``other``; at 09:00 it goes to
    ``alone``, who has nothing else (one_seat_conference)."""
    conf = one_seat_conference()
    grid = TimeGrid(conf)
    nine, ten = round(grid.cell_at(at(3, 7))), round(grid.cell_at(at(3, 8)))
    search, _ = search_at(conf, {"small": ten, "other": ten})
    assert search.total() == phase_two_weight(conf, grid, {"small": ten, "other": ten}) == 6
    assert search.try_move("small", search.candidates("small"))
    assert search.placer.placed["small"] == nine
    assert search.total() == phase_two_weight(conf, grid, {"small": nine, "other": ten}) == 7
    schedule = solved(conf)
    assert schedule.objective == 7
    assert attendees(schedule, "small") == {"alone"}


def test_a_rearrangement_keeps_the_seats_as_the_measure_does() -> None:
    """The whole problem freed at once (rearrange.py): CP-SAT gives the one seat to the
    one with nothing else, as the single move does, and proves that nothing better
    exists for the measure."""
    from scheduler.solve.rearrange import Rearranger

    conf = one_seat_conference()
    grid = TimeGrid(conf)
    nine, ten = round(grid.cell_at(at(3, 7))), round(grid.cell_at(at(3, 8)))
    search, _ = search_at(conf, {"small": ten, "other": ten})
    rearranger = Rearranger(search, 0)
    assert rearranger.rearrange(["small"], 5, 1, 0, True, anywhere=True)
    assert rearranger.proven
    assert search.placer.placed["small"] == nine
    assert search.holders["small"] == {"alone"}
    assert search.total() == phase_two_weight(conf, grid, {"small": nine, "other": ten}) == 7


def test_the_measure_is_a_plan_that_keeps_every_seat() -> None:
    """On small conferences with few seats everywhere, after a search: no session has
    more seat holders than seats, the measure is the weight of the days as planned, and
    phase 2's exact model finds at least as much."""
    import random

    themes = ("digital", "urban", "climate")
    for seed in range(4):
        rng = random.Random(seed)
        people = [
            participant(f"p{i}", interests={t: rng.choice((0, 1, 2, 3)) for t in themes})
            for i in range(8)
        ]
        sessions = [
            session(f"s{j}", theme=themes[j % 3], capacity=rng.choice((1, 2, 3)), hosts=())
            for j in range(5)
        ]
        conf = conference(
            end=date(2020, 6, 4),
            calendar=calendar(day_start=time(9), day_end=time(13), max_events_per_day=2),
            resources=Resources(rooms=2, interpreters=1),
            participants=people,
            sessions=sessions,
            unavailability=tuple(
                unavailable(p.id, at(3, 7 + k), at(3, 8 + k)) for k, p in enumerate(people[:3])
            ),
        )
        grid = TimeGrid(conf)
        events = plan_events(conf, NO_MEETINGS, grid)
        wants = wanted(conf)
        model = PlacementModel(conf, grid, events, wants, 15, 40)
        placer = model.placer(wants, 15)
        placer.run()
        search = LocalSearch(conf, placer, wants, seed)
        starts = search.run(deadline=float("inf"), max_passes=3)
        assert search.scarce and any(search.holders.values())
        assert all(len(search.holders[s]) <= seats for s, seats in search.scarce.items())
        planned = sum(search.day_plan(*key)[0] for key in search.value)
        assert search.total() == planned
        assert phase_two_weight(conf, grid, starts) >= search.total()
        solved(conf, time_limit=1.0)  # the checker passes the whole solve
