"""The solver: places every session and meeting and decides who attends (docs/solver.md).

availability  the time grid and who is free when (per availability profile)
events        sessions and meetings with their allowed starts, or why they have none
greedy        phase 1: a quick placement, improved by re-insertion
placement     phase 1: the CP-SAT model, when the greedy leaves events out
improve       phase 1: local search on the real attended weight
rearrange     phase 1: CP-SAT moves several events at once when the local search is stuck
attendance    phase 2: who attends (exact per person and day, capacities repaired,
              CP-SAT polish and the fairness stage when capacities bind)
keep          a re-plan: the published events that stay where they were
bound         proven upper bounds on the attended weight for any schedule
lagrange      a tighter one: each participant's own copy of the starts, priced
reasons       why an event was left out, in words
assemble      rooms, attendance rows, the Schedule
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from scheduler.model import Conference, Matchmaking, PublishedPlan, Schedule
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
from scheduler.solve.budget import REPORT_EVERY, Budget
from scheduler.solve.events import PlannedEvent, plan_events, wanted
from scheduler.solve.greedy import GreedyPlacer
from scheduler.solve.improve import LocalSearch
from scheduler.solve.keep import Kept, best_extra_move, keep_published
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


def default_workers() -> int:
    """CP-SAT workers: the cores this process may use (``os.sched_getaffinity`` where the
    system has it), or ``SCHEDULER_WORKERS`` when set (the test suite sets 1: pytest-xdist
    already runs one test per core)."""
    named = os.environ.get("SCHEDULER_WORKERS", "")
    if named.isdigit() and int(named) > 0:
        return int(named)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 120.0  # seconds, whole solve
    seed: int = 0
    deterministic: bool = False  # identical outputs for identical inputs and seed
    workers: int = field(default_factory=default_workers)
    progress: Callable[[Progress], None] | None = None
    # a re-plan: the published version, kept wherever it still fits (solve/keep.py),
    # and how many kept events may move further when that raises the attended weight
    published: PublishedPlan | None = None
    moves: int = 0


# the phase-1 model offers at most about this many (event, start) pairs; beyond it the
# starts are thinned to a coarser step (any subset of allowed starts stays valid)
MAX_START_CHOICES = 10_000
MAX_GREEDY_START_CHOICES = 200_000  # the same for the greedy placement and local search
# phase 2 runs CP-SAT over (participant, session) pairs only up to this many
MAX_ATTENDANCE_PAIRS = 250_000


@dataclass
class _Outcome:
    """A complete schedule in the making: a placement and who attends."""

    starts: dict[str, int]
    plan: dict[tuple[str, date], list[str]]
    objective: int
    bound: int
    # partner meetings, new contacts, sessions, published entries kept, weight
    rank: tuple[int, int, int, int, int]
    days: list[PersonDay]
    host_by_city: dict[str, int]


def _step_minutes(grid: TimeGrid, placeable: list[PlannedEvent], most: int) -> int:
    """The finest step (a multiple of the grid) that offers at most ``most`` starts."""
    total = sum(int(e.allowed.sum()) for e in placeable)
    step = grid.grid
    while total * grid.grid / step > most and step < 120:
        step *= 2
    return step


# a re-plan with --moves tries this many candidate moves (the estimate's best) per move
EXTRA_MOVE_CANDIDATES = 8


def _extra_moves(
    options: SolveOptions,
    kept: Kept,
    best: _Outcome,
    placer: GreedyPlacer,
    attend: Callable[[PlacementResult], _Outcome],
) -> tuple[_Outcome, dict[str, float]]:
    """``--moves N``: up to N kept events move, one at a time, each to where it raises the
    attended weight most (phase 2 measures it); the schedule then, and what each move
    bought."""
    bought: dict[str, float] = {}
    if options.moves <= 0 or not kept.kept:
        return best, bought
    for eid, cell in sorted(best.starts.items()):
        placer.put(eid, cell)
    for _ in range(options.moves):
        # the move that buys most; among equals the one that keeps most calendar entries
        found: tuple[tuple[float, int], str, _Outcome] | None = None
        for eid, cell in best_extra_move(placer, kept, best.starts, set(bought))[
            :EXTRA_MOVE_CANDIDATES
        ]:
            trial = attend(PlacementResult({**best.starts, eid: cell}, 0.0))
            worth = (trial.objective - best.objective, trial.rank[3])
            if (
                trial.rank[:3] >= best.rank[:3]
                and worth[0] > 0
                and (found is None or worth > found[0])
            ):
                found = (worth, eid, trial)
        if found is None:
            break
        (gain, _kept_entries), eid, trial = found
        placer.take(eid)
        placer.put(eid, trial.starts[eid])
        kept.displaced[eid] = f"moved to raise the attended weight by {gain:g} (--moves)"
        bought[eid] = gain
        best = trial
    return best, bought


def solve(conference: Conference, matchmaking: Matchmaking, options: SolveOptions) -> Schedule:
    """Place every session and meeting of the conference; see docs/solver.md."""
    budget = Budget(options.time_limit, options.deterministic)

    def report(phase: str, objective: float, bound: float) -> None:
        if options.progress is not None:
            options.progress(Progress(phase, float(objective), float(bound), budget.elapsed()))

    grid = TimeGrid(conference)
    people = conference.participants_by_id
    planned = plan_events(conference, matchmaking, grid)
    events = {e.id: e for e in planned}
    placeable = [e for e in planned if e.problem is None]
    published = options.published or PublishedPlan({}, {}, frozenset())
    kept = keep_published(conference, grid, placeable, published)
    keep_attendance = frozenset((pid, eid) for pid, eid in published.entries if eid in kept.kept)
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

    def staying(starts: dict[str, int]) -> frozenset[tuple[str, str]]:
        """The published entries of events still at their published start."""
        return frozenset(e for e in keep_attendance if starts.get(e[1]) == kept.kept[e[1]])

    def attend(result: PlacementResult) -> _Outcome:
        days, host_weight = person_days(
            conference, grid, events, result.starts, wants, staying(result.starts)
        )
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
            kept_entries(result.starts, plan),
            objective,
        )
        return _Outcome(dict(result.starts), plan, objective, bound, rank, days, host_by_city)

    def kept_entries(starts: dict[str, int], plan: dict[tuple[str, date], list[str]]) -> int:
        """How many entries of the published calendars a plan keeps (0 in a first run)."""
        keep = staying(starts)
        return sum(1 for (pid, _), sids in plan.items() for sid in sids if (pid, sid) in keep)

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
    greedy_step = _step_minutes(grid, placeable, MAX_GREEDY_START_CHOICES)
    placer = model.placer(wants, greedy_step)
    consider(placer.run())
    consider(placer.improve(budget.greedy_deadline()))
    assert best is not None
    cp_sat_seconds = budget.placement_cp_sat()
    if len(best.starts) < len(placeable) and cp_sat_seconds is not None:
        second = model.solve(
            seconds=cp_sat_seconds,
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
    if best.objective < best.bound and budget.local_search():
        search = LocalSearch(conference, placer, wants, options.seed)
        last_report = [budget.elapsed()]

        def after_pass() -> None:
            # a complete schedule now and then, for progress (it costs a phase 2); not in
            # deterministic mode, where what is kept must not depend on the clock
            if options.deterministic or budget.elapsed() - last_report[0] < REPORT_EVERY:
                return
            consider(dict(placer.placed))
            last_report[0] = budget.elapsed()

        rearranger = Rearranger(search, options.seed)

        def rearrange() -> bool:
            seconds = budget.rearrangement(rearranger.work)
            if seconds is None:
                return False
            return rearranger.step(seconds, options.workers, options.seed, options.deterministic)

        starts = search.run(
            deadline=budget.placement_deadline,
            max_passes=budget.local_search_passes(),
            notify=after_pass,
            rearrange=rearrange,
            finished=lambda: rearranger.proven,
        )
        consider(starts)

    best, extra_moves = _extra_moves(options, kept, best, model.placer(wants, greedy_step), attend)
    if options.moves > 0 and kept.kept:
        # the bound of a problem where kept events may move: their starts given back
        kept.unpin(events)
        bounds.clear()
        best = attend(PlacementResult(best.starts, 0.0))
        report("schedule", best.objective, best.bound)

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
    polish_seconds = budget.attendance()
    host_total = sum(best.host_by_city.values())
    if capacity_binding and pairs <= MAX_ATTENDANCE_PAIRS and polish_seconds is not None:
        polished = improve_with_cp_sat(
            conference,
            events,
            days,
            best.plan,
            best.host_by_city,
            dict(wanted_by_city),
            seconds=polish_seconds,
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
        entries = kept_entries(best.starts, polished), kept_entries(best.starts, best.plan)
        if (entries[0], weight) >= (entries[1], best.objective):
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
        seconds=budget.tighter_bound(),
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
        seconds=budget.elapsed(),
        rooms={eid: published.rooms[eid] for eid in kept.kept if eid in published.rooms},
        displaced=kept.displaced,
        extra_moves=extra_moves,
    )


__all__ = ["Progress", "SolveOptions", "solve"]
