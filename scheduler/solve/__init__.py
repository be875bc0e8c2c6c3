"""The solver: places every session and meeting and decides who attends (docs/solver.md).

availability  the time grid and who is free when (per availability profile)
events        sessions and meetings with their allowed starts, or why they have none
greedy        phase 1: a quick placement, improved by re-insertion
placement     phase 1: the CP-SAT model, when the greedy leaves events out
improve       phase 1: local search on the real attended weight
rearrange     phase 1: CP-SAT moves several events at once when the local search is stuck
attendance    phase 2: who attends (exact per person and day, capacities repaired,
              CP-SAT polish and the fairness stage when capacities bind)
bound         proven upper bounds on the attended weight for any schedule
lagrange      a tighter one: each participant's own copy of the starts, priced
reasons       why an event was left out, in words
assemble      rooms, attendance rows, the Schedule
"""

from __future__ import annotations

import os
import time as clock
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from scheduler.model import Conference, Matchmaking, Schedule
from scheduler.solve.assemble import build_schedule
from scheduler.solve.attendance import (
    PersonDay,
    assign,
    improve_with_cp_sat,
    person_days,
    plan_weight,
)
from scheduler.solve.availability import TimeGrid
from scheduler.solve.bound import attendance_bound
from scheduler.solve.events import PlannedEvent, plan_events, wanted
from scheduler.solve.improve import LocalSearch
from scheduler.solve.lagrange import tighter_bound
from scheduler.solve.placement import PlacementModel, PlacementResult
from scheduler.solve.rearrange import Rearranger


@dataclass(frozen=True)
class Progress:
    """A live progress line: attended weight found so far and the proven bound."""

    phase: str
    objective: float
    bound: float
    elapsed: float

    @property
    def gap(self) -> float:
        return 0.0 if self.bound <= 0 else max(0.0, (self.bound - self.objective) / self.bound)


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 120.0  # seconds, whole solve
    seed: int = 0
    deterministic: bool = False  # identical outputs for identical inputs and seed
    workers: int = max(1, os.cpu_count() or 1)
    progress: Callable[[Progress], None] | None = None


# the phase-1 model offers at most about this many (event, start) pairs; beyond it the
# starts are thinned to a coarser step (any subset of allowed starts stays valid)
MAX_START_CHOICES = 10_000
MAX_GREEDY_START_CHOICES = 200_000  # the same for the greedy placement and local search
# phase 2 runs CP-SAT over (participant, session) pairs only up to this many
MAX_ATTENDANCE_PAIRS = 250_000
# share of the time limit for placement (greedy, CP-SAT, local search); the rest is for
# attendance (its CP-SAT polish runs only when capacities bind)
PLACEMENT_SHARE = 0.85
REPORT_EVERY = 10.0  # seconds between complete schedules reported during local search
DETERMINISTIC_PASSES = 3  # local-search passes in deterministic mode (no clock)
REARRANGE_SECONDS = 10.0  # CP-SAT time for one rearrangement (rearrange.py)
# in deterministic mode, the rearrangements' CP-SAT work (deterministic time) is at most
# this share of the time limit
DETERMINISTIC_REARRANGE_SHARE = 0.4


@dataclass
class _Outcome:
    """A complete schedule in the making: a placement and who attends."""

    starts: dict[str, int]
    plan: dict[tuple[str, date], list[str]]
    objective: int
    bound: int
    rank: tuple[int, int, int, int]  # partner meetings, new contacts, sessions, weight
    days: list[PersonDay]
    host_by_city: dict[str, int]


def _step_minutes(grid: TimeGrid, placeable: list[PlannedEvent], most: int) -> int:
    """The finest step (a multiple of the grid) that offers at most ``most`` starts."""
    total = sum(int(e.allowed.sum()) for e in placeable)
    step = grid.grid
    while total * grid.grid / step > most and step < 120:
        step *= 2
    return step


def solve(conference: Conference, matchmaking: Matchmaking, options: SolveOptions) -> Schedule:
    """Place every session and meeting of the conference; see docs/solver.md."""
    started = clock.monotonic()

    def elapsed() -> float:
        return clock.monotonic() - started

    def report(phase: str, objective: float, bound: float) -> None:
        if options.progress is not None:
            options.progress(Progress(phase, float(objective), float(bound), elapsed()))

    grid = TimeGrid(conference)
    people = conference.participants_by_id
    planned = plan_events(conference, matchmaking, grid)
    events = {e.id: e for e in planned}
    placeable = [e for e in planned if e.problem is None]
    wants = wanted(conference)
    wanted_by_city: dict[str, int] = defaultdict(int)
    for session in conference.sessions:
        for pid, w in wants.get(session.id, ()):
            wanted_by_city[people[pid].city_id] += w
        for pid in set(session.hosts):
            if pid in people:
                wanted_by_city[people[pid].city_id] += conference.wanted_weight(
                    people[pid], session
                )

    model = PlacementModel(
        conference,
        grid,
        placeable,
        wants,
        step_minutes=_step_minutes(grid, placeable, MAX_START_CHOICES),
        conflict_pairs_per_session=40 if sum(e.is_session for e in placeable) <= 150 else 12,
    )

    placeable_sessions = [e for e in placeable if e.is_session]
    bounds: dict[tuple[str, ...], int] = {}

    def attend(result: PlacementResult) -> _Outcome:
        days, host_weight = person_days(conference, grid, events, result.starts, wants)
        host_by_city: dict[str, int] = defaultdict(int)
        for eid in result.starts:
            event = events[eid]
            if event.session is None:
                continue
            for pid in event.people:
                if pid in people:
                    host_by_city[people[pid].city_id] += conference.wanted_weight(
                        people[pid], event.session
                    )
        plan = assign(conference, events, days, wanted_by_city, host_by_city)
        objective = host_weight + plan_weight(days, plan)
        sessions = [events[eid] for eid in sorted(result.starts) if events[eid].is_session]
        meetings = tuple(sorted(eid for eid in result.starts if not events[eid].is_session))
        if meetings not in bounds:
            # the bound depends only on which meetings take place, not where: every
            # session that can be placed counts, wherever it might go
            bounds[meetings] = attendance_bound(
                conference, grid, placeable_sessions, [events[m] for m in meetings], wants
            )
        bound = bounds[meetings]
        kinds = [events[eid].kind for eid in result.starts]
        rank = (
            kinds.count("partner_meeting"),
            kinds.count("new_contact_meeting"),
            len(sessions),
            objective,
        )
        return _Outcome(dict(result.starts), plan, objective, bound, rank, days, host_by_city)

    best: _Outcome | None = None

    def consider(starts: dict[str, int]) -> None:
        """Complete a placement with phase 2; keep it (and report it) when it ranks higher."""
        nonlocal best
        if best is not None and starts == best.starts:
            return
        candidate = attend(PlacementResult(starts, 0.0))
        if best is None or candidate.rank > best.rank:
            best = candidate
            report("schedule", best.objective, best.bound)

    def placement_progress(objective: float, bound: float) -> None:
        report("placement", objective, bound)

    # phase 1: a greedy placement at once, CP-SAT when the greedy leaves events out,
    # then local search on the real attended weight
    placement_deadline = started + options.time_limit * PLACEMENT_SHARE
    greedy_step = _step_minutes(grid, placeable, MAX_GREEDY_START_CHOICES)
    placer = model.placer(wants, greedy_step)
    consider(placer.run())
    consider(placer.improve(None if options.deterministic else placement_deadline))
    if len(best.starts) < len(placeable) and clock.monotonic() < placement_deadline - 1:
        second = model.solve(
            seconds=max(0.5, 0.5 * (placement_deadline - clock.monotonic())),
            workers=options.workers,
            seed=options.seed,
            deterministic=options.deterministic,
            hint=best.starts,
            notify=placement_progress,
        )
        if second is not None and second.starts != best.starts:
            before = best
            consider(second.starts)
            if best is not before:
                placer = model.placer(wants, greedy_step)
                for eid, cell in sorted(best.starts.items()):
                    placer.put(eid, cell)
    if best.objective < best.bound and (
        options.deterministic or clock.monotonic() < placement_deadline
    ):
        search = LocalSearch(conference, placer, wants, options.seed)
        last_report = [clock.monotonic()]

        def after_pass() -> None:
            # a complete schedule now and then, for progress (it costs a phase 2); not in
            # deterministic mode, where what is kept must not depend on the clock
            if options.deterministic or clock.monotonic() - last_report[0] < REPORT_EVERY:
                return
            consider(dict(placer.placed))
            last_report[0] = clock.monotonic()

        rearranger = Rearranger(search, options.seed)
        rearrange_work = options.time_limit * DETERMINISTIC_REARRANGE_SHARE

        def rearrange() -> bool:
            # without the clock, CP-SAT's own measure of work (about a second per unit)
            if options.deterministic:
                left = rearrange_work - rearranger.work
            else:
                left = placement_deadline - clock.monotonic()
            seconds = min(REARRANGE_SECONDS, left)
            if seconds < 0.5:
                return False
            return rearranger.step(seconds, options.workers, options.seed, options.deterministic)

        starts = search.run(
            deadline=placement_deadline,
            max_passes=DETERMINISTIC_PASSES if options.deterministic else None,
            notify=after_pass,
            rearrange=rearrange,
        )
        consider(starts)

    # phase 2 polish: exact capacities and the fairness stage, when small enough
    days = best.days
    pairs = sum(len(d.options) for d in days)
    demand: dict[str, int] = defaultdict(int)
    for d in days:
        for o in d.options:
            demand[o.session] += 1
    capacity_binding = any(
        (seats := events[sid].seats) is not None and n > seats for sid, n in demand.items()
    )
    time_left = options.time_limit - elapsed()
    host_total = sum(best.host_by_city.values())
    if capacity_binding and pairs <= MAX_ATTENDANCE_PAIRS and time_left > 1.0:
        polished = improve_with_cp_sat(
            conference,
            events,
            days,
            best.plan,
            best.host_by_city,
            dict(wanted_by_city),
            seconds=time_left - 0.5,
            workers=options.workers,
            seed=options.seed,
            deterministic=options.deterministic,
            notify=lambda value: (
                report("attendance", value + host_total, best.bound)
                if value + host_total > best.objective
                else None
            ),
        )
        weight = sum(best.host_by_city.values()) + plan_weight(days, polished)
        if weight >= best.objective:
            best.plan = polished
            best.objective = weight
    # tighter bounds in the time that is left (none is taken from the search)
    held = tuple(sorted(eid for eid in best.starts if not events[eid].is_session))
    best.bound = tighter_bound(
        conference,
        grid,
        placeable_sessions,
        [events[m] for m in held],
        wants,
        known=best.bound,
        target=best.objective,
        seconds=None if options.deterministic else options.time_limit - elapsed() - 0.5,
        notify=lambda better: report("bound", best.objective if best else 0, better),
    )
    report("done", best.objective, best.bound)
    return build_schedule(
        conference,
        matchmaking,
        grid,
        events,
        best.starts,
        best.plan,
        objective=best.objective,
        bound=best.bound,
        seconds=elapsed(),
    )


__all__ = ["Progress", "SolveOptions", "solve"]
