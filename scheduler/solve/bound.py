"""A proven upper bound on the attended weight, valid for EVERY schedule that holds the
meetings the solver placed (wherever they go): any placement of any subset of the
sessions that can be placed at all (those with an allowed start).

Relaxation (a transportation problem, solved exactly as a min-cost flow):
- participant p may attend session e only if SOME allowed start of e (any grid start the
  hosts, window, not_before/not_after and fixed_start allow) keeps p free;
- p takes part in at most Σ over p's local days of (events that fit that day) − p's
  meetings sessions, hosted ones included; events that fit a day are at most
  max_events_per_day and at most what the day's runs of free cells hold (each run
  apart: an absence of a few hours splits a day);
- a session takes at most capacity − hosts attendees;
- a host's own weight on a session they host counts once, using one of their places
  (the session may be left out, so it is not forced).
Overlaps between sessions are ignored, so the bound is ≥ the optimum of any schedule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp

from scheduler.model import Conference, Participant
from scheduler.solve.availability import Profile, TimeGrid
from scheduler.solve.events import PlannedEvent
from scheduler.solve.rules import busy_minutes, free_to_start, most_busy_minutes, most_in_run


@dataclass
class Transport:
    """The transportation relaxation's data: who may attend which session, and how many
    sessions each participant may attend at most."""

    arcs: dict[str, list[tuple[int, int]]]  # pid -> (session index, w) they may attend
    own: dict[str, list[tuple[int, int]]]  # host -> (session index, their w) they host
    limit: dict[str, int]  # pid -> most sessions they can attend (every host included)


def transport(
    conference: Conference,
    grid: TimeGrid,
    sessions: list[PlannedEvent],
    meetings: list[PlannedEvent],
    wanted: dict[str, list[tuple[str, int]]],
) -> Transport:
    """The relaxation described in the module doc, before it is solved."""
    people = conference.participants_by_id
    own: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for j, event in enumerate(sessions):
        for pid in event.people:
            if pid in people and event.session is not None:
                w = conference.wanted_weight(people[pid], event.session)
                if w > 0:
                    own[pid].append((j, w))
    arcs = _reachable(grid, people, sessions, wanted)
    hosts = {pid for e in sessions for pid in e.people if pid in people}
    limit = _places(conference, grid, sessions, meetings, sorted(set(arcs) | set(own) | hosts))
    return Transport(arcs, dict(own), limit)


def _reachable(
    grid: TimeGrid,
    people: Mapping[str, Participant],
    sessions: list[PlannedEvent],
    wanted: dict[str, list[tuple[str, int]]],
) -> dict[str, list[tuple[int, int]]]:
    """Arcs participant -> (session index, w): where some allowed start keeps them free."""
    arcs: dict[str, list[tuple[int, int]]] = defaultdict(list)
    reach_cache: dict[tuple[object, str], bool] = {}
    for j, event in enumerate(sessions):
        for pid, w in wanted.get(event.id, []):
            key = (grid.profile(people[pid]), event.id)
            ok = reach_cache.get(key)
            if ok is None:
                ok = bool((event.allowed & free_to_start(grid, people[pid], event.length)).any())
                reach_cache[key] = ok
            if ok:
                arcs[pid].append((j, w))
    return dict(arcs)


def _places(
    conference: Conference,
    grid: TimeGrid,
    sessions: list[PlannedEvent],
    meetings: list[PlannedEvent],
    takers: list[str],
) -> dict[str, int]:
    """How many sessions each participant can attend at most: per local day the daily cap
    or what its runs of free cells hold, whichever is less, less their meetings."""
    people = conference.participants_by_id
    meetings_of: dict[str, int] = defaultdict(int)
    for meeting in meetings:
        for pid in meeting.people:
            meetings_of[pid] += 1
    shortest = min([e.duration for e in sessions] + [e.duration for e in meetings], default=60)
    cap = conference.calendar.max_events_per_day
    window = grid.window_starts(0, conference.start, conference.end)
    day_runs: dict[object, list[list[int]]] = {}
    limit: dict[str, int] = {}
    for pid in takers:
        person = people[pid]
        profile = grid.profile(person)
        runs = day_runs.get(profile)
        if runs is None:
            zone = ZoneInfo(conference.city_of(person).timezone)
            runs = day_runs[profile] = free_runs(grid, profile, zone, window)
        # an event lies inside one run of free cells, a buffer after the one before
        room = sum(
            min(cap, sum(most_in_run(grid, n, shortest) for n in lengths)) for lengths in runs
        )
        limit[pid] = max(0, room - meetings_of.get(pid, 0))
    return limit


def transport_prices(
    relaxation: Transport, sessions: list[PlannedEvent]
) -> tuple[dict[str, float], list[float]] | None:
    """An optimal dual of the relaxation's linear programme (GLOP): the value of one more
    place for each participant and of one more seat of each session. None when GLOP
    fails. (The Lagrangian bound starts from them: lagrange.py.)"""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:
        return None
    objective = solver.Objective()
    objective.SetMaximization()
    seat_rows = {
        j: solver.Constraint(0, float(e.seats))
        for j, e in enumerate(sessions)
        if e.seats is not None
    }
    person_rows = {}
    for pid in sorted(relaxation.limit):
        row = solver.Constraint(0, float(relaxation.limit[pid]))
        person_rows[pid] = row
        for j, w in relaxation.arcs.get(pid, ()):
            x = solver.NumVar(0, 1, "")
            objective.SetCoefficient(x, w)
            row.SetCoefficient(x, 1)
            if j in seat_rows:
                seat_rows[j].SetCoefficient(x, 1)
        for _j, w in relaxation.own.get(pid, ()):
            x = solver.NumVar(0, 1, "")
            objective.SetCoefficient(x, w)
            row.SetCoefficient(x, 1)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    places = {pid: max(0.0, row.dual_value()) for pid, row in person_rows.items()}
    seats = [0.0] * len(sessions)
    for j, row in seat_rows.items():
        seats[j] = max(0.0, row.dual_value())
    return places, seats


def attendance_bound(
    conference: Conference,
    grid: TimeGrid,
    sessions: list[PlannedEvent],
    meetings: list[PlannedEvent],
    wanted: dict[str, list[tuple[str, int]]],
    attending: set[tuple[str, str]] | None = None,
) -> int:
    """The bound described in the module doc. ``sessions`` are all sessions that can be
    placed; ``meetings`` the meetings placed. When ``attending`` is given, it receives
    the (participant, session) pairs the relaxation's optimum attends (to see where a
    schedule falls short of it: bench/bench_gap.py)."""
    relaxation = transport(conference, grid, sessions, meetings, wanted)
    arcs, own, limit = relaxation.arcs, relaxation.own, relaxation.limit
    if not arcs and not own:
        return 0
    takers = sorted(set(arcs) | set(own))

    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    person_node = {pid: 2 + i for i, pid in enumerate(takers)}
    session_node = {j: 2 + len(person_node) + j for j in range(len(sessions))}
    supply = sum(limit[pid] for pid in takers)
    tails, heads, caps, costs = [], [], [], []
    pair_of_arc: dict[int, tuple[str, str]] = {}

    def arc(tail: int, head: int, cap: int, cost: int) -> None:
        tails.append(tail)
        heads.append(head)
        caps.append(cap)
        costs.append(cost)

    arc(source, sink, supply, 0)  # seats left unused
    for pid, node in person_node.items():
        arc(source, node, limit[pid], 0)
        for j, w in arcs.get(pid, ()):
            pair_of_arc[len(tails)] = (pid, sessions[j].id)
            arc(node, session_node[j], 1, -w)
        for _j, w in own.get(pid, ()):
            arc(node, sink, 1, -w)
    for j, event in enumerate(sessions):
        seats = event.seats
        arc(session_node[j], sink, supply if seats is None else seats, 0)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int64),
        np.array(heads, dtype=np.int64),
        np.array(caps, dtype=np.int64),
        np.array(costs, dtype=np.int64),
    )
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        # fall back to the trivial bound: everyone attends everything reachable
        everything = list(arcs.values()) + list(own.values())
        return sum(w for options in everything for _, w in options)
    if attending is not None:
        attending.update(pair for a, pair in pair_of_arc.items() if flow.flow(a) > 0)
    return -int(flow.optimal_cost())


def capacity_bound(
    conference: Conference,
    grid: TimeGrid,
    sessions: list[PlannedEvent],
    meetings: list[PlannedEvent],
    wanted: dict[str, list[tuple[str, int]]],
) -> int | None:
    """A second proven bound, never above the transportation bound: its linear programme
    with what the flow cannot say (docs/solver.md, "The bound"). None when GLOP fails.

    Besides the transportation constraints, z_e ∈ [0, 1] says session e takes place:
    - x[p, e] ≤ z_e (nobody attends a session that is left out);
    - a host attends what they host: their own w counts z_e, and the session takes one
      of their places and its time (the flow let a host skip it);
    - p's time: Σ (duration + buffer) over p's sessions, hosted ones and meetings is at
      most Σ over p's local days of (free minutes that day + buffer × runs of free
      cells that day) — events of a day lie in its free cells, a buffer apart (the flow
      counts events as if all were as short as the shortest);
    - rooms (energetic reasoning): for a set W of cells, the events that can only run
      inside W occupy at most rooms × |W| cells of it; W is each event's set of cells it
      can occupy (and their union); the same for interpreted events and interpreters.
    Every schedule gives a feasible point (its attendance, z = placed), so the optimum is
    ≥ its attended weight.
    """
    relaxation = transport(conference, grid, sessions, meetings, wanted)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None or not relaxation.limit:
        return None
    objective = solver.Objective()
    objective.SetMaximization()
    placed = [solver.NumVar(0, 1, "") for _ in sessions]
    seat_rows = {
        j: solver.Constraint(-solver.infinity(), float(e.seats))
        for j, e in enumerate(sessions)
        if e.seats is not None
    }
    _people_rows(conference, grid, sessions, meetings, relaxation, solver, placed, seat_rows)
    for interpreted, capacity in (
        (False, conference.resources.rooms),
        (True, conference.resources.interpreters),
    ):
        events = [e for e in sessions + meetings if e.interpreted or not interpreted]
        _energy_rows(grid, sessions, events, capacity, solver, placed)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    value = objective.Value()
    # GLOP's tolerances are far below this margin; the objective is a whole number
    return int(np.floor(value + 1e-3 + 1e-7 * abs(value)))


def _people_rows(
    conference: Conference,
    grid: TimeGrid,
    sessions: list[PlannedEvent],
    meetings: list[PlannedEvent],
    relaxation: Transport,
    solver: pywraplp.Solver,
    placed: list[pywraplp.Variable],
    seat_rows: dict[int, pywraplp.Constraint],
) -> None:
    """Each participant's places and time (capacity_bound's doc), with x[p, e] ≤ z_e."""
    people = conference.participants_by_id
    objective = solver.Objective()
    hosted: dict[str, list[int]] = defaultdict(list)
    for j, event in enumerate(sessions):
        for pid in event.people:
            if pid in people:
                hosted[pid].append(j)
    meeting_minutes: dict[str, int] = defaultdict(int)
    for meeting in meetings:
        for pid in meeting.people:
            meeting_minutes[pid] += busy_minutes(grid, meeting.duration)
    budgets = _time_budgets(conference, grid, sorted(set(relaxation.limit) | set(hosted)))
    own_weight = {(pid, j): w for pid, rows in relaxation.own.items() for j, w in rows}
    for pid in sorted(set(relaxation.limit) | set(hosted)):
        # places: the transportation limit already has the meetings taken off
        places = solver.Constraint(-solver.infinity(), float(relaxation.limit.get(pid, 0)))
        time = solver.Constraint(
            -solver.infinity(), float(budgets[pid] - meeting_minutes.get(pid, 0))
        )
        for j, w in relaxation.arcs.get(pid, ()):
            x = solver.NumVar(0, 1, "")
            objective.SetCoefficient(x, w)
            places.SetCoefficient(x, 1)
            time.SetCoefficient(x, busy_minutes(grid, sessions[j].duration))
            if j in seat_rows:
                seat_rows[j].SetCoefficient(x, 1)
            link = solver.Constraint(-solver.infinity(), 0)
            link.SetCoefficient(x, 1)
            link.SetCoefficient(placed[j], -1)
        for j in hosted.get(pid, ()):
            places.SetCoefficient(placed[j], 1)
            time.SetCoefficient(placed[j], busy_minutes(grid, sessions[j].duration))
            w = own_weight.get((pid, j), 0)
            if w:
                objective.SetCoefficient(placed[j], objective.GetCoefficient(placed[j]) + w)


def _time_budgets(conference: Conference, grid: TimeGrid, pids: list[str]) -> dict[str, int]:
    """Per participant, the minutes their events (each with its buffer) may take at most:
    a day's events lie in its free cells; of the buffers after them only those that reach
    into a break between free runs (or past the day) may lie outside: at most one a run."""
    people = conference.participants_by_id
    window = grid.window_starts(0, conference.start, conference.end)
    by_profile: dict[object, int] = {}
    budgets: dict[str, int] = {}
    for pid in pids:
        person = people[pid]
        profile = grid.profile(person)
        if profile not in by_profile:
            zone = ZoneInfo(conference.city_of(person).timezone)
            by_profile[profile] = sum(
                most_busy_minutes(grid, lengths)
                for lengths in free_runs(grid, profile, zone, window)
            )
        budgets[pid] = by_profile[profile]
    return budgets


def _energy_rows(
    grid: TimeGrid,
    sessions: list[PlannedEvent],
    events: list[PlannedEvent],
    capacity: int,
    solver: pywraplp.Solver,
    placed: list[pywraplp.Variable],
) -> None:
    """Rooms (or interpreters) by energetic reasoning: the events that cannot leave a set
    W of cells occupy at most capacity × |W| cells of it."""
    for cells, inside in _windows(grid, events):
        held = sum(e.length for e in inside if not e.is_session)
        if sum(e.length for e in inside) <= capacity * cells:
            continue  # cannot bind
        row = solver.Constraint(-solver.infinity(), float(capacity * cells - held))
        for j, event in enumerate(sessions):
            if any(event is e for e in inside):
                row.SetCoefficient(placed[j], event.length)


def _windows(grid: TimeGrid, events: list[PlannedEvent]) -> list[tuple[int, list[PlannedEvent]]]:
    """For each distinct set W of cells some event can occupy (and their union): |W| and
    the events that cannot leave W."""
    cover: dict[str, np.ndarray] = {}
    for event in events:
        cells = np.zeros(grid.cells, dtype=bool)
        for offset in range(event.length):
            cells[offset:] |= event.allowed[: grid.cells - offset]
        cover[event.id] = cells
    if not cover:
        return []
    distinct: dict[bytes, np.ndarray] = {}
    for cells in cover.values():
        distinct.setdefault(cells.tobytes(), cells)
    union = np.logical_or.reduce(list(distinct.values()))
    distinct.setdefault(union.tobytes(), union)
    result = []
    for window in distinct.values():
        inside = [e for e in events if not (cover[e.id] & ~window).any()]
        result.append((int(window.sum()), inside))
    return result


def free_runs(
    grid: TimeGrid, profile: Profile, zone: ZoneInfo, window: np.ndarray
) -> list[list[int]]:
    """Per local day of the profile (within ``window``), the lengths in cells of its runs
    of consecutive free cells."""
    runs: dict[object, list[int]] = {}
    previous = -2
    for cell in np.flatnonzero(grid.free_cells(profile) & window).tolist():
        day = grid.local_date(cell, zone)
        lengths = runs.setdefault(day, [])
        if cell == previous + 1 and lengths:
            lengths[-1] += 1
        else:
            lengths.append(1)
        previous = cell
    return list(runs.values())
