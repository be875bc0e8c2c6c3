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
from functools import partial

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
from scheduler.solve.budget import Budget
from scheduler.solve.events import PlannedEvent, plan_events, wanted
from scheduler.solve.greedy import GreedyPlacer
from scheduler.solve.improve import LocalSearch
from scheduler.solve.keep import Kept, best_extra_move, keep_published
from scheduler.solve.lagrange import tighter_bound
from scheduler.solve.placement import PlacementModel
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


# the placement model keeps this many of each session's strongest shared-audience pairs
# as overlap penalties, fewer for a conference of many sessions (the model stays small)
SHARED_AUDIENCE_PAIRS = 40
SHARED_AUDIENCE_PAIRS_MANY = 12
MANY_SESSIONS = 150
# a re-plan with --moves tries this many candidate moves (the estimate's best) per move
EXTRA_MOVE_CANDIDATES = 8


@dataclass
class _Outcome:
    """A complete schedule in the making: a placement and who attends."""

    starts: dict[str, int]
    plan: dict[tuple[str, date], list[str]]
    objective: int  # attended weight
    bound: int  # proven for every schedule that holds the same meetings
    # partner meetings, new contacts, sessions, published entries kept, weight
    rank: tuple[int, int, int, int, int]
    days: list[PersonDay]
    host_by_city: dict[str, int]


@dataclass
class _Problem:
    """What every phase reads: the events, who wants what, and in a re-plan what stays
    where it was; with the bounds already computed, per set of meetings held."""

    conference: Conference
    grid: TimeGrid
    events: dict[str, PlannedEvent]
    placeable: list[PlannedEvent]  # the events with at least one allowed start
    wants: dict[str, list[tuple[str, int]]]
    wanted_by_city: dict[str, int]
    published: PublishedPlan
    kept: Kept
    keep_attendance: frozenset[tuple[str, str]]  # published entries of kept events
    bounds: dict[tuple[str, ...], int] = field(default_factory=dict)

    @classmethod
    def of(
        cls, conference: Conference, matchmaking: Matchmaking, published: PublishedPlan
    ) -> _Problem:
        """The events of the conference on its grid; a re-plan's published events pinned
        wherever they still fit."""
        grid = TimeGrid(conference)
        planned = plan_events(conference, matchmaking, grid)
        placeable = [e for e in planned if e.problem is None]
        kept = keep_published(conference, grid, placeable, published)
        wants = wanted(conference)
        return cls(
            conference,
            grid,
            {e.id: e for e in planned},
            placeable,
            wants,
            _wanted_by_city(conference, wants),
            published,
            kept,
            frozenset((pid, eid) for pid, eid in published.entries if eid in kept.kept),
        )

    @property
    def sessions(self) -> list[PlannedEvent]:
        """The sessions that can be placed: each counts in the bound, wherever it goes."""
        return [e for e in self.placeable if e.is_session]

    def held(self, starts: dict[str, int]) -> list[PlannedEvent]:
        """The meetings a placement holds, by id."""
        return [self.events[eid] for eid in sorted(starts) if not self.events[eid].is_session]

    def bound(self, starts: dict[str, int]) -> int:
        """The transportation bound for the meetings a placement holds: it depends only on
        which meetings take place, not where (computed once per set of meetings)."""
        meetings = self.held(starts)
        key = tuple(m.id for m in meetings)
        if key not in self.bounds:
            self.bounds[key] = attendance_bound(
                self.conference, self.grid, self.sessions, meetings, self.wants
            )
        return self.bounds[key]

    def staying(self, starts: dict[str, int]) -> frozenset[tuple[str, str]]:
        """The published entries of events still at their published start."""
        kept = self.kept.kept
        return frozenset(e for e in self.keep_attendance if starts.get(e[1]) == kept[e[1]])

    def kept_entries(self, starts: dict[str, int], plan: dict[tuple[str, date], list[str]]) -> int:
        """How many entries of the published calendars a plan keeps (0 in a first run)."""
        keep = self.staying(starts)
        return sum(1 for (pid, _), sids in plan.items() for sid in sids if (pid, sid) in keep)

    def attend(self, starts: dict[str, int]) -> _Outcome:
        """Phase 2 for a placement: who attends what, the attended weight and its bound."""
        conference, events = self.conference, self.events
        days, host_weight = person_days(
            conference, self.grid, events, starts, self.wants, self.staying(starts)
        )
        host_by_city = _host_weight_by_city(conference, events, starts)
        plan = assign(conference, events, days, self.wanted_by_city, host_by_city)
        objective = host_weight + plan_weight(days, plan)
        kinds = [events[eid].kind for eid in starts]
        rank = (
            kinds.count("partner_meeting"),
            kinds.count("new_contact_meeting"),
            sum(events[eid].is_session for eid in starts),
            self.kept_entries(starts, plan),
            objective,
        )
        bound = self.bound(starts)
        return _Outcome(dict(starts), plan, objective, bound, rank, days, host_by_city)

    def unpin_kept(self) -> None:
        """--moves: the kept events get their starts back, so the bounds must be new."""
        self.kept.unpin(self.events)
        self.bounds.clear()


def _wanted_by_city(
    conference: Conference, wants: dict[str, list[tuple[str, int]]]
) -> dict[str, int]:
    """Per city, the weight its participants want: as attendees and as hosts."""
    people = conference.participants_by_id
    by_city: dict[str, int] = defaultdict(int)
    for session in conference.sessions:
        for pid, w in wants.get(session.id, ()):
            by_city[people[pid].city_id] += w
        for pid in set(session.hosts):
            if pid in people:
                by_city[people[pid].city_id] += conference.wanted_weight(people[pid], session)
    return by_city


def _host_weight_by_city(
    conference: Conference, events: dict[str, PlannedEvent], starts: dict[str, int]
) -> dict[str, int]:
    """Per city, the weight its hosts attend by hosting the sessions placed."""
    people = conference.participants_by_id
    by_city: dict[str, int] = defaultdict(int)
    for eid in starts:
        session = events[eid].session
        if session is None:
            continue
        for pid in events[eid].people:
            if pid in people:
                by_city[people[pid].city_id] += conference.wanted_weight(people[pid], session)
    return by_city


@dataclass
class _Search:
    """The search state: the best complete schedule so far (its attended weight and bound
    with it), and the progress line that reports it."""

    problem: _Problem
    options: SolveOptions
    budget: Budget
    best: _Outcome
    last_report: float = 0.0  # when the local search last reported a schedule

    @classmethod
    def start(
        cls, problem: _Problem, options: SolveOptions, budget: Budget, starts: dict[str, int]
    ) -> _Search:
        """The search from its first complete schedule (reported)."""
        search = cls(problem, options, budget, problem.attend(starts))
        search.report_best()
        return search

    def report(self, phase: str, objective: float, bound: float) -> None:
        """One progress line (when the caller listens)."""
        if self.options.progress is not None:
            progress = Progress(phase, float(objective), float(bound), self.budget.elapsed())
            self.options.progress(progress)

    def report_best(self, phase: str = "schedule") -> None:
        """The best schedule's attended weight and bound."""
        self.report(phase, self.best.objective, self.best.bound)

    def report_if_better(self, phase: str, objective: float) -> None:
        """A phase found a better attended weight than the best schedule's."""
        if objective > self.best.objective:
            self.report(phase, objective, self.best.bound)

    def consider(self, starts: dict[str, int]) -> bool:
        """Complete a placement with phase 2; keep it (and report it) when it ranks higher.
        Whether it did."""
        if starts == self.best.starts:
            return False
        candidate = self.problem.attend(starts)
        if candidate.rank <= self.best.rank:
            return False
        self.best = candidate
        self.report_best()
        return True

    def report_now_and_then(self, starts: dict[str, int]) -> None:
        """During the local search, a complete schedule every REPORT_EVERY seconds (it
        costs a phase 2); never in deterministic mode, where what is kept must not depend
        on the clock."""
        if not self.budget.report_due(self.last_report):
            return
        self.consider(dict(starts))
        self.last_report = self.budget.elapsed()


def solve(conference: Conference, matchmaking: Matchmaking, options: SolveOptions) -> Schedule:
    """Place every session and meeting of the conference; see docs/solver.md. The phases
    in order, each keeping the best complete schedule so far (``_Search``), each within
    its share of the time limit (``Budget``)."""
    budget = Budget(options.time_limit, options.deterministic)
    published = options.published or PublishedPlan({}, {}, frozenset())
    problem = _Problem.of(conference, matchmaking, published)
    model = _placement_model(problem)
    greedy_step = _step_minutes(problem.grid, problem.placeable, MAX_GREEDY_START_CHOICES)
    fresh_placer = partial(model.placer, problem.wants, greedy_step)

    # phase 1: a greedy placement at once, improved by re-insertion; CP-SAT when the
    # greedy leaves events out; local search on the real attended weight (phase 2 scores
    # each complete schedule); in a re-plan with --moves, kept events moved
    placer = fresh_placer()
    search = _Search.start(problem, options, budget, placer.run())
    search.consider(placer.improve(budget.greedy_deadline()))
    placer = _place_the_rest_with_cp_sat(search, model, placer, fresh_placer)
    _local_search(search, placer)
    extra_moves = _move_kept_events(search, fresh_placer)
    # phase 2: who attends, exactly with the capacities (when they bind)
    _polish_attendance(search)
    # the bound: tighter ones in the time that is left
    _tighten_bound(search)
    search.report_best("done")
    return _schedule(search, matchmaking, extra_moves)


def _step_minutes(grid: TimeGrid, placeable: list[PlannedEvent], most: int) -> int:
    """The finest step (a multiple of the grid) that offers at most ``most`` starts."""
    total = sum(int(e.allowed.sum()) for e in placeable)
    step = grid.grid
    while total * grid.grid / step > most and step < 120:
        step *= 2
    return step


def _placement_model(problem: _Problem) -> PlacementModel:
    """The phase-1 CP-SAT model (built only when it runs)."""
    sessions = sum(e.is_session for e in problem.placeable)
    return PlacementModel(
        problem.conference,
        problem.grid,
        problem.placeable,
        problem.wants,
        step_minutes=_step_minutes(problem.grid, problem.placeable, MAX_START_CHOICES),
        conflict_pairs_per_session=(
            SHARED_AUDIENCE_PAIRS if sessions <= MANY_SESSIONS else SHARED_AUDIENCE_PAIRS_MANY
        ),
    )


def _placer_at(fresh_placer: Callable[[], GreedyPlacer], starts: dict[str, int]) -> GreedyPlacer:
    """A new greedy placer holding a placement."""
    placer = fresh_placer()
    for eid, cell in sorted(starts.items()):
        placer.put(eid, cell)
    return placer


def _place_the_rest_with_cp_sat(
    search: _Search,
    model: PlacementModel,
    placer: GreedyPlacer,
    fresh_placer: Callable[[], GreedyPlacer],
) -> GreedyPlacer:
    """Phase 1, when the greedy leaves events out: the CP-SAT placement model, hinted with
    the best placement. The placer to go on with: at CP-SAT's placement when that is the
    new best, else the one given."""
    options, best = search.options, search.best
    seconds = search.budget.placement_cp_sat()
    if len(best.starts) >= len(search.problem.placeable) or seconds is None:
        return placer
    found = model.solve(
        seconds=seconds,
        workers=options.workers,
        seed=options.seed,
        deterministic=options.deterministic,
        hint=best.starts,
        notify=partial(search.report, "placement"),  # in the model's own weighted units
    )
    if found is None or not search.consider(found.starts):
        return placer
    return _placer_at(fresh_placer, search.best.starts)


def _local_search(search: _Search, placer: GreedyPlacer) -> None:
    """Phase 1, until its share of the time limit is used (a number of passes when
    deterministic): single moves on the real attended weight and, where they are stuck,
    CP-SAT rearranging several events at once. Nothing to do at the bound."""
    problem, options, budget = search.problem, search.options, search.budget
    if search.best.objective >= search.best.bound or not budget.local_search():
        return
    local = LocalSearch(problem.conference, placer, problem.wants, options.seed)
    search.last_report = budget.elapsed()
    rearranger = Rearranger(local, options.seed)

    def rearrange() -> bool:
        """One rearrangement in its share of the budget; whether it moved anything."""
        seconds = budget.rearrangement(rearranger.work)
        if seconds is None:
            return False
        return rearranger.step(seconds, options.workers, options.seed, options.deterministic)

    starts = local.run(
        deadline=budget.placement_deadline,
        max_passes=budget.local_search_passes(),
        notify=lambda: search.report_now_and_then(placer.placed),
        rearrange=rearrange,
        finished=lambda: rearranger.proven,
    )
    search.consider(starts)


def _move_kept_events(
    search: _Search, fresh_placer: Callable[[], GreedyPlacer]
) -> dict[str, float]:
    """A re-plan with ``--moves N``: up to N kept events move, one at a time, each to where
    it raises the attended weight most (phase 2 measures it). What each move bought; the
    bound is then that of a problem where kept events may move."""
    problem, moves = search.problem, search.options.moves
    bought: dict[str, float] = {}
    if moves <= 0 or not problem.kept.kept:
        return bought
    placer = _placer_at(fresh_placer, search.best.starts)
    for _ in range(moves):
        found = _best_extra_move(search, placer, set(bought))
        if found is None:
            break
        eid, gain, trial = found
        placer.take(eid)
        placer.put(eid, trial.starts[eid])
        problem.kept.displaced[eid] = f"moved to raise the attended weight by {gain:g} (--moves)"
        bought[eid] = gain
        search.best = trial
    problem.unpin_kept()
    search.best = problem.attend(search.best.starts)
    search.report_best()
    return bought


def _best_extra_move(
    search: _Search, placer: GreedyPlacer, moved: set[str]
) -> tuple[str, float, _Outcome] | None:
    """Among the estimate's best moves of a kept event not yet moved, the one that buys
    most attended weight (among equals, the one that keeps most calendar entries) without
    placing fewer meetings or sessions: (event, gain, the schedule then); None: none buys."""
    best, problem = search.best, search.problem
    found: tuple[tuple[int, int], str, _Outcome] | None = None
    candidates = best_extra_move(placer, problem.kept, best.starts, moved)
    for eid, cell in candidates[:EXTRA_MOVE_CANDIDATES]:
        trial = problem.attend({**best.starts, eid: cell})
        worth = (trial.objective - best.objective, trial.rank[3])
        if trial.rank[:3] >= best.rank[:3] and worth[0] > 0 and (found is None or worth > found[0]):
            found = (worth, eid, trial)
    if found is None:
        return None
    (gain, _kept_entries), eid, trial = found
    return eid, gain, trial


def _polish_attendance(search: _Search) -> None:
    """Phase 2, when a capacity binds and the model is small enough: CP-SAT with the exact
    capacities, then the fairness stage. Kept when it keeps as many published entries and
    attends as much weight."""
    problem, options, best = search.problem, search.options, search.best
    seconds = search.budget.attendance()
    if not _capacity_binds(problem.events, best.days) or seconds is None:
        return
    host_total = sum(best.host_by_city.values())
    polished = improve_with_cp_sat(
        problem.conference,
        problem.events,
        best.days,
        best.plan,
        best.host_by_city,
        dict(problem.wanted_by_city),
        seconds=seconds,
        workers=options.workers,
        seed=options.seed,
        deterministic=options.deterministic,
        notify=lambda value: search.report_if_better("attendance", value + host_total),
    )
    weight = host_total + plan_weight(best.days, polished)
    entries = (
        problem.kept_entries(best.starts, polished),
        problem.kept_entries(best.starts, best.plan),
    )
    if (entries[0], weight) >= (entries[1], best.objective):
        best.plan = polished
        best.objective = weight


def _capacity_binds(events: dict[str, PlannedEvent], days: list[PersonDay]) -> bool:
    """Whether more people could attend some session than it has seats, with at most
    MAX_ATTENDANCE_PAIRS (participant, session) pairs (beyond, the polish is too big)."""
    if sum(len(d.options) for d in days) > MAX_ATTENDANCE_PAIRS:
        return False
    demand: dict[str, int] = defaultdict(int)
    for d in days:
        for o in d.options:
            demand[o.session] += 1
    return any((seats := events[sid].seats) is not None and n > seats for sid, n in demand.items())


def _tighten_bound(search: _Search) -> None:
    """Tighter bounds for the meetings the best schedule holds, in the time that is left
    (none is taken from the search); each better one is reported."""
    problem, best = search.problem, search.best
    best.bound = tighter_bound(
        problem.conference,
        problem.grid,
        problem.sessions,
        problem.held(best.starts),
        problem.wants,
        known=best.bound,
        target=best.objective,
        seconds=search.budget.tighter_bound(),
        notify=lambda better: search.report("bound", best.objective, better),
    )


def _schedule(search: _Search, matchmaking: Matchmaking, extra_moves: dict[str, float]) -> Schedule:
    """The Schedule of the best schedule found: a re-plan's kept events in their rooms."""
    problem, best = search.problem, search.best
    published, kept = problem.published, problem.kept
    return build_schedule(
        problem.conference,
        matchmaking,
        problem.grid,
        problem.events,
        best.starts,
        best.plan,
        objective=best.objective,
        bound=best.bound,
        seconds=search.budget.elapsed(),
        rooms={eid: published.rooms[eid] for eid in kept.kept if eid in published.rooms},
        displaced=kept.displaced,
        extra_moves=extra_moves,
    )


__all__ = ["Progress", "SolveOptions", "solve"]
