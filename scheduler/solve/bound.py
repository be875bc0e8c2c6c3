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
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp

from scheduler.model import Conference
from scheduler.solve.availability import Profile, TimeGrid
from scheduler.solve.events import PlannedEvent


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
    rules = conference.calendar
    people = conference.participants_by_id
    buffer = rules.buffer_minutes
    g = grid.grid
    meetings_of: dict[str, int] = defaultdict(int)
    for meeting in meetings:
        for pid in meeting.people:
            meetings_of[pid] += 1
    own: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for j, event in enumerate(sessions):
        for pid in event.people:
            if pid in people and event.session is not None:
                w = conference.wanted_weight(people[pid], event.session)
                if w > 0:
                    own[pid].append((j, w))
    shortest = min([e.duration for e in sessions] + [e.duration for e in meetings], default=60)

    # arcs: participant -> session, where some start keeps them free
    arcs: dict[str, list[tuple[int, int]]] = defaultdict(list)
    reach_cache: dict[tuple[object, str], bool] = {}
    for j, event in enumerate(sessions):
        for pid, w in wanted.get(event.id, []):
            profile = grid.profile(people[pid])
            key = (profile, event.id)
            ok = reach_cache.get(key)
            if ok is None:
                ok = bool((event.allowed & grid.allowed_starts(profile, event.length)).any())
                reach_cache[key] = ok
            if ok:
                arcs[pid].append((j, w))

    # how many sessions each participant can attend at most
    limit: dict[str, int] = {}
    window = grid.window_starts(0, conference.start, conference.end)
    day_runs: dict[object, list[list[int]]] = {}
    hosts = {pid for e in sessions for pid in e.people if pid in people}
    for pid in sorted(set(arcs) | set(own) | hosts):
        person = people[pid]
        zone = ZoneInfo(conference.city_of(person).timezone)
        profile = grid.profile(person)
        runs = day_runs.get(profile)
        if runs is None:
            runs = day_runs[profile] = free_runs(grid, profile, zone, window)
        room = 0
        for lengths in runs:
            # an event lies inside one run of free cells, a buffer after the one before
            fits = sum((n * g + buffer) // (shortest + buffer) for n in lengths)
            room += min(rules.max_events_per_day, fits)
        limit[pid] = max(0, room - meetings_of.get(pid, 0))
    return Transport(dict(arcs), dict(own), limit)


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
    people = conference.participants_by_id
    rules = conference.calendar
    buffer = rules.buffer_minutes
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
    hosted: dict[str, list[int]] = defaultdict(list)
    for j, event in enumerate(sessions):
        for pid in event.people:
            if pid in people:
                hosted[pid].append(j)
    meeting_minutes: dict[str, int] = defaultdict(int)
    for meeting in meetings:
        for pid in meeting.people:
            meeting_minutes[pid] += meeting.duration + buffer
    window = grid.window_starts(0, conference.start, conference.end)
    budgets: dict[object, int] = {}
    own_weight = {(pid, j): w for pid, rows in relaxation.own.items() for j, w in rows}
    for pid in sorted(set(relaxation.limit) | set(hosted)):
        person = people[pid]
        profile = grid.profile(person)
        if profile not in budgets:
            zone = ZoneInfo(conference.city_of(person).timezone)
            # a day's events lie in its free cells; of the buffers after them only those
            # that reach into a break between free runs (or past the day) may lie
            # outside: at most one a run
            budgets[profile] = sum(
                sum(lengths) * grid.grid + buffer * len(lengths)
                for lengths in free_runs(grid, profile, zone, window)
            )
        # places: the transportation limit already has the meetings taken off
        places = solver.Constraint(-solver.infinity(), float(relaxation.limit.get(pid, 0)))
        time = solver.Constraint(
            -solver.infinity(), float(budgets[profile] - meeting_minutes.get(pid, 0))
        )
        for j, w in relaxation.arcs.get(pid, ()):
            x = solver.NumVar(0, 1, "")
            objective.SetCoefficient(x, w)
            places.SetCoefficient(x, 1)
            time.SetCoefficient(x, sessions[j].duration + buffer)
            if j in seat_rows:
                seat_rows[j].SetCoefficient(x, 1)
            link = solver.Constraint(-solver.infinity(), 0)
            link.SetCoefficient(x, 1)
            link.SetCoefficient(placed[j], -1)
        for j in hosted.get(pid, ()):
            places.SetCoefficient(placed[j], 1)
            time.SetCoefficient(placed[j], sessions[j].duration + buffer)
            w = own_weight.get((pid, j), 0)
            if w:
                objective.SetCoefficient(placed[j], objective.GetCoefficient(placed[j]) + w)
    for interpreted, capacity in (
        (False, conference.resources.rooms),
        (True, conference.resources.interpreters),
    ):
        events = [e for e in sessions + meetings if e.interpreted or not interpreted]
        for cells, inside in _windows(grid, events):
            held = sum(e.length for e in inside if not e.is_session)
            if sum(e.length for e in inside) <= capacity * cells:
                continue  # cannot bind
            row = solver.Constraint(-solver.infinity(), float(capacity * cells - held))
            for j, event in enumerate(sessions):
                if any(event is e for e in inside):
                    row.SetCoefficient(placed[j], event.length)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    value = objective.Value()
    # GLOP's tolerances are far below this margin; the objective is a whole number
    return int(np.floor(value + 1e-3 + 1e-7 * abs(value)))


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
