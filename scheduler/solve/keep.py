"""A re-plan keeps the published version where it can (docs/workflow.md, "Re-planning").

Every event of the published schedule that still exists is pinned at its published start
when that start is still allowed for it (its window, its hosts' or delegates' time) and
it still fits beside the events already kept (rooms, interpreters, the hosts' and
delegates' buffers and daily counts). Events are kept in the order of how many people had
them in their calendar, so when not everything fits (a room fewer, an interpreter fewer)
the events that move are the ones that disturb the fewest people; a meeting that has to
move is placed before any session, and releases kept events in its way when it finds no
start at all. An event that cannot stay is *displaced*: it is
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
    allowed: dict[str, np.ndarray]  # a kept event's starts before it was pinned (--moves)
    fixed: dict[str, int | None]  # and its fixed_cell then (a session's fixed_start)

    def unpin(self, events: dict[str, PlannedEvent]) -> None:
        """Give every kept event its starts back: with --moves any of them may move, so
        the bound must allow that."""
        for eid, mask in self.allowed.items():
            events[eid].allowed = mask
            events[eid].fixed_cell = self.fixed[eid]


def keep_published(
    conference: Conference,
    grid: TimeGrid,
    placeable: list[PlannedEvent],
    published: PublishedPlan,
) -> Kept:
    """Pin every published event that can stay at its published start; the pinned events
    get ``fixed_cell`` and a one-cell ``allowed`` mask, as a session with a fixed start has."""
    people_of: Counter[str] = Counter(eid for _pid, eid in published.entries)
    # the events with the most people on them first: when not all can stay, the few that
    # move disturb the fewest (a meeting that moves still outranks a session: it is placed
    # first, and releases kept events in its way when it finds no start at all)
    kinds = {"partner_meeting": 0, "new_contact_meeting": 1}
    candidates = sorted(
        (e for e in placeable if e.id in published.starts),
        key=lambda e: (-people_of[e.id], kinds.get(e.kind, 2), e.id),
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
    _make_room_for_meetings(checker, placeable, kept, displaced, people_of)
    allowed, fixed = {}, {}
    for event in placeable:
        if event.id in kept:
            allowed[event.id], fixed[event.id] = event.allowed, event.fixed_cell
            mask = np.zeros(grid.cells, dtype=bool)
            mask[kept[event.id]] = True
            event.allowed = mask
            event.fixed_cell = kept[event.id]
    return Kept(kept, displaced, allowed, fixed)


def _make_room_for_meetings(
    checker: GreedyPlacer,
    placeable: list[PlannedEvent],
    kept: dict[str, int],
    displaced: dict[str, str],
    people_of: Counter[str],
) -> None:
    """A meeting that is new or had to move outranks keeping a session in place: when the
    events kept leave it no start at all, the kept events in its way at its least
    disturbing start are released (the ranking: partner meetings, new contacts, then the
    people whose calendars change)."""
    kinds = {"partner_meeting": 0, "new_contact_meeting": 1}
    meetings = sorted(
        (e for e in placeable if e.meeting is not None and e.id not in kept),
        key=lambda e: (kinds[e.kind], e.id),
    )
    for meeting in meetings:
        cands = np.flatnonzero(meeting.allowed).astype(np.int64)
        if not len(cands) or checker.feasible(meeting, cands).any():
            continue
        best: tuple[int, int, list[str]] | None = None
        for cell in cands.tolist():
            blockers = _in_the_way(checker, meeting, cell, kept)
            if blockers is None:
                continue
            cost = sum(people_of[eid] + 1 for eid in blockers)
            if best is None or cost < best[0]:
                best = (cost, cell, blockers)
        if best is None:
            continue
        _cost, cell, blockers = best
        for eid in blockers:
            checker.take(eid)
            del kept[eid]
            displaced[eid] = (
                f"moved to make room for the {meeting.kind.replace('_', ' ')} {meeting.id}"
            )
        checker.put(meeting.id, cell)  # reserved, so that no later meeting takes it back


def _in_the_way(
    checker: GreedyPlacer, meeting: PlannedEvent, cell: int, kept: dict[str, int]
) -> list[str] | None:
    """The fewest kept events (tried in order of size) whose release lets the meeting
    start at ``cell``; None when releasing kept events would not do (the meeting's own
    time is blocked by something that stays, e.g. a session with a fixed start)."""
    at = np.array([cell], dtype=np.int64)
    end = cell + checker.personal[meeting.id]
    day = 24 * 60 // checker.grid.grid
    members = set(meeting.people)

    def order(eid: str) -> tuple[int, int, str]:
        start = kept[eid]
        overlaps = start < end and cell < start + checker.personal[eid]
        shares = bool(set(checker.events[eid].people) & members)
        group = 0 if overlaps and shares else 1 if shares else 2
        return group, len(checker.events[eid].people), eid

    # what overlaps its time, and what its delegates have that day (their daily count)
    near = [
        eid
        for eid, start in kept.items()
        if checker.events[eid].fixed_cell is None
        and (
            (start < end and cell < start + checker.personal[eid])
            or (set(checker.events[eid].people) & members and abs(start - cell) < day)
        )
    ]
    released: list[str] = []
    for eid in sorted(near, key=order):
        if checker.feasible(meeting, at)[0]:
            break
        checker.take(eid)
        released.append(eid)
    fits = bool(checker.feasible(meeting, at)[0])
    for eid in released:
        checker.put(eid, kept[eid])
    return released if fits and released else None


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


def best_extra_move(
    placer: GreedyPlacer, kept: Kept, starts: dict[str, int], moved: set[str]
) -> list[tuple[str, int]]:
    """For each kept event not moved yet, its best other start by the placer's estimate
    (the events around it staying), best first: the candidates of an extra move."""
    found = []
    for eid in sorted(e for e in kept.kept if e in starts and e not in moved):
        event = placer.events[eid]
        cands = np.flatnonzero(kept.allowed[eid]).astype(np.int64)
        placer.take(eid)
        ok = placer.feasible(event, cands)
        if ok.any():
            score = np.where(ok, placer.score(event, cands), -np.inf)
            here = placer.score(event, np.array([starts[eid]], dtype=np.int64))[0]
            cell = int(cands[int(np.argmax(score))])
            if cell != starts[eid]:
                found.append((float(score.max() - here), eid, cell))
        placer.put(eid, starts[eid])
    found.sort(key=lambda f: (-f[0], f[1]))
    return [(eid, cell) for _gain, eid, cell in found]


__all__ = ["Kept", "best_extra_move", "keep_published"]
