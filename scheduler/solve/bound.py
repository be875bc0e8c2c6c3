"""A proven upper bound on the attended weight, valid for EVERY schedule that holds the
meetings the solver placed (wherever they go): any placement of any subset of the
sessions that can be placed at all (those with an allowed start).

Relaxation (a transportation problem, solved exactly as a min-cost flow):
- participant p may attend session e only if SOME allowed start of e (any grid start the
  hosts, window, not_before/not_after and fixed_start allow) keeps p free;
- p takes part in at most Σ over p's local days of (events that fit that day) − p's
  meetings sessions, hosted ones included; events that fit a day are at most
  max_events_per_day and at most what the day's free hours hold;
- a session takes at most capacity − hosts attendees;
- a host's own weight on a session they host counts once, using one of their places
  (the session may be left out, so it is not forced).
Overlaps between sessions are ignored, so the bound is ≥ the optimum of any schedule.
"""

from __future__ import annotations

from collections import defaultdict
from zoneinfo import ZoneInfo

import numpy as np
from ortools.graph.python import min_cost_flow

from scheduler.model import Conference
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import PlannedEvent


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
    rules = conference.calendar
    people = conference.participants_by_id
    buffer = rules.buffer_minutes
    g = grid.grid
    meetings_of: dict[str, int] = defaultdict(int)
    for meeting in meetings:
        for pid in meeting.people:
            meetings_of[pid] += 1
    own: dict[str, list[int]] = defaultdict(list)  # host -> their w on each hosted session
    for event in sessions:
        for pid in event.people:
            if pid in people and event.session is not None:
                w = conference.wanted_weight(people[pid], event.session)
                if w > 0:
                    own[pid].append(w)
    shortest = min([e.duration for e in sessions] + [e.duration for e in meetings], default=60)

    # arcs: participant -> session, where some start keeps them free
    arcs: dict[str, list[tuple[int, int]]] = defaultdict(list)  # pid -> (session index, w)
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
    if not arcs and not own:
        return 0

    # how many sessions each participant can attend at most
    limit: dict[str, int] = {}
    window = grid.window_starts(0, conference.start, conference.end)
    day_cells: dict[object, dict[object, int]] = {}
    takers = sorted(set(arcs) | set(own))
    for pid in takers:
        person = people[pid]
        zone = ZoneInfo(conference.city_of(person).timezone)
        profile = grid.profile(person)
        per_day = day_cells.get(profile)
        if per_day is None:
            per_day = defaultdict(int)
            for free_cell in np.flatnonzero(grid.free_cells(profile) & window).tolist():
                per_day[grid.local_date(free_cell, zone)] += 1
            day_cells[profile] = per_day
        room = 0
        for count in per_day.values():
            fits = (count * g + buffer) // (shortest + buffer)
            room += min(rules.max_events_per_day, fits)
        limit[pid] = max(0, room - meetings_of.get(pid, 0))

    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    person_node = {pid: 2 + i for i, pid in enumerate(takers)}
    session_node = {j: 2 + len(person_node) + j for j in range(len(sessions))}
    supply = sum(limit.values())
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
        for w in own.get(pid, ()):
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
        return sum(w for pid in arcs for _, w in arcs[pid]) + sum(sum(v) for v in own.values())
    if attending is not None:
        attending.update(pair for a, pair in pair_of_arc.items() if flow.flow(a) > 0)
    return -int(flow.optimal_cost())
