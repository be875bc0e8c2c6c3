"""A re-plan keeps the published version where it can (docs/workflow.md, "Re-planning").

Every event of the published schedule that still exists is pinned at its published start
when that start is still allowed for it (its window, its hosts' or delegates' time) and
it still fits beside the events already kept (rooms, interpreters, the hosts' and
delegates' buffers and daily counts). Events are kept in the order partner meetings,
new-contact meetings, then sessions by how many people had them in their calendar, so
when not everything fits (a room fewer, an interpreter fewer) the events that move are
the ones that disturb the fewest people. An event that cannot stay is *displaced*: it is
placed anew like any new event, and the reason it had to move is recorded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from scheduler.model import Conference, PublishedPlan
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import PlannedEvent, why_not_free
from scheduler.solve.greedy import GreedyPlacer


@dataclass(frozen=True)
class Kept:
    """Which published events stay where they were, and why the others move."""

    kept: dict[str, int]  # event id -> its published start cell, now pinned there
    displaced: dict[str, str]  # event id -> why it cannot stay at its published time


def keep_published(
    conference: Conference,
    grid: TimeGrid,
    placeable: list[PlannedEvent],
    published: PublishedPlan,
) -> Kept:
    """Pin every published event that can stay at its published start; the pinned events
    get ``fixed_cell`` and a one-cell ``allowed`` mask, as a session with a fixed start has."""
    people_of: Counter[str] = Counter(eid for _pid, eid in published.entries)
    kinds = {"partner_meeting": 0, "new_contact_meeting": 1}
    candidates = sorted(
        (e for e in placeable if e.id in published.starts),
        key=lambda e: (kinds.get(e.kind, 2), -people_of[e.id], e.id),
    )
    checker = GreedyPlacer(
        conference,
        grid,
        placeable,
        {e.id: [] for e in placeable},
        {},
        {},
        {},
    )
    kept: dict[str, int] = {}
    displaced: dict[str, str] = {}
    for event in candidates:
        exact = grid.cell_at(published.starts[event.id])
        cell = round(exact)
        if abs(exact - cell) > 1e-9 or not 0 <= cell < grid.cells:
            displaced[event.id] = "its published start is not on the grid any more"
            continue
        if not event.allowed[cell]:
            displaced[event.id] = _why_not_allowed(conference, grid, event, cell)
            continue
        at = np.array([cell], dtype=np.int64)
        if not checker.feasible(event, at)[0]:
            displaced[event.id] = _why_taken(conference, checker, event, cell)
            continue
        checker.put(event.id, cell)
        kept[event.id] = cell
    for event in placeable:
        if event.id in kept:
            mask = np.zeros(grid.cells, dtype=bool)
            mask[kept[event.id]] = True
            event.allowed = mask
            event.fixed_cell = kept[event.id]
    return Kept(kept, displaced)


def _why_not_allowed(conference: Conference, grid: TimeGrid, event: PlannedEvent, cell: int) -> str:
    """Why the published start is no longer allowed: a host or delegate, or the window."""
    people = conference.participants_by_id
    role = event.people_role
    for pid in event.people:
        person = people.get(pid)
        if person is not None and not grid.allowed_starts(grid.profile(person), event.length)[cell]:
            return f"{role} {pid} cannot attend then: {why_not_free(conference, grid, person, cell, event.length)}"
    if event.session is not None and event.session.fixed_start is not None:
        return "its fixed_start changed"
    return "its published time is outside the days it may now take place"


def _why_taken(
    conference: Conference, checker: GreedyPlacer, event: PlannedEvent, cell: int
) -> str:
    """What of the events kept in place leaves no room for this one at its time."""
    span = slice(cell, cell + event.length)
    resources = conference.resources
    if int(checker.rooms[span].max()) >= resources.rooms:
        return f"no room left at its time (rooms = {resources.rooms})"
    if event.interpreted and int(checker.interpreters[span].max()) >= resources.interpreters:
        return f"no interpreter left at its time (interpreters = {resources.interpreters})"
    role = event.people_role
    for pid in event.people:
        if (
            pid in checker.busy
            and checker.busy_run(pid)[min(cell + checker.personal[event.id], checker.n)]
            - checker.busy_run(pid)[cell]
        ):
            return f"{role} {pid} is busy then with another event kept in place"
    return f"a {role} already has {conference.calendar.max_events_per_day} events that day"


__all__ = ["Kept", "keep_published"]
