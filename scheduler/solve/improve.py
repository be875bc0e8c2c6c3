"""Local search on the real attended weight: move one event at a time to the start that
raises the attended weight of the people it touches most.

For every participant and local day the best plan is kept (the exact per-day dynamic
programme of attendance.py, at the full weights). A session with fewer seats than people
who want it ("scarce") has seat holders, at most its seats: only they may attend it, so
the sum of the days is the weight of an attendance plan that keeps every seat limit.
Where a scarce session is placed (and each time the search tries it), its seats go to
those who can attend it and gain most by it, given their other seats (phase 2's repair
rule: the others would lose least); when someone's day changes otherwise, they keep the
seats their new best plan still uses and give up the others, which are offered anew at
once (a move that frees a seat is credited with what it brought the first one left
without at that session's last offer). Moving a session changes only the days of the
people who want it and of its hosts; moving a meeting only its delegates' days. A move is
taken when it raises the sum; the hard rules are those of the greedy placement (rooms,
interpreters, hosts'/delegates' buffers and per-day counts), in their array form from
rules.py. Candidate starts: the best few by the greedy's estimate and a few drawn at
random (seeded).
"""

from __future__ import annotations

import random
import time as clock
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from scheduler.model import Conference
from scheduler.solve.attendance import Option, PersonDay, best_day
from scheduler.solve.events import PlannedEvent
from scheduler.solve.greedy import GreedyPlacer
from scheduler.solve.rules import free_to_start, too_close

BEST_BY_ESTIMATE = 8
AT_RANDOM = 8
STALE_PASSES = 3
REARRANGE_TRIES = 3  # neighbourhoods tried at a local optimum before a shake

Key = tuple[str, int]  # (participant, local day)
Day = tuple[float, frozenset[str]]  # a day's best weight, the scarce sessions it seats
Saved = tuple[dict[Key, float], dict[Key, frozenset[str]]]


class LocalSearch:
    def __init__(
        self,
        conference: Conference,
        placer: GreedyPlacer,
        wanted: dict[str, list[tuple[str, int]]],
        seed: int,
    ):
        self.conference = conference
        self.placer = placer
        self.grid = placer.grid
        self.g = placer.grid.grid
        self.buffer = conference.calendar.buffer_minutes
        self.max_per_day = conference.calendar.max_events_per_day
        self.people = conference.participants_by_id
        self.events = placer.events
        self.random = random.Random(seed)
        self.wanting: dict[str, list[tuple[str, float]]] = {}
        self.wants_of: dict[str, dict[str, float]] = defaultdict(dict)
        self.scarce: dict[str, int] = {}  # sessions with fewer seats than takers: seats
        for sid, rows in wanted.items():
            event = self.events.get(sid)
            if event is None or event.session is None:
                continue
            self.wanting[sid] = [(pid, w) for pid, w in rows if pid not in event.people]
            seats = event.seats
            if seats is not None and len(self.wanting[sid]) > seats:
                self.scarce[sid] = seats
            for pid, w in self.wanting[sid]:
                self.wants_of[pid][sid] = w
        self.events_of: dict[str, list[str]] = defaultdict(list)
        for eid in sorted(self.events):
            for pid in self.events[eid].people:
                self.events_of[pid].append(eid)
        self.allowed_cache: dict[tuple[str, int], np.ndarray] = {}
        self._dates: dict[str, np.ndarray] = {}
        self.value: dict[Key, float] = {}
        self.seated: dict[Key, frozenset[str]] = {}  # per day, the scarce sessions it seats
        self.holders: dict[str, set[str]] = defaultdict(set)  # per scarce session
        # per scarce session, what a seat given up would bring the first one left without
        # (at its last seat offer): a move that frees a seat is credited with it
        self.waiting: dict[str, float] = {}
        self.offered: dict[int, float] = {}  # the same for the moved session, per start tried
        # fairness as a tie-break: per city, the wanted weight and the current sum
        self.city = {pid: p.city_id for pid, p in self.people.items()}
        self.city_wanted: dict[str, float] = defaultdict(float)
        for takers in self.wanting.values():
            for pid, share in takers:
                self.city_wanted[self.city[pid]] += share
        self.city_value: dict[str, float] = defaultdict(float)
        for pid in sorted({p for rows in self.wanting.values() for p, _ in rows}):
            for day in self.days_with_options(pid):
                self.value[(pid, day)], self.seated[(pid, day)] = self.day_state(pid, day)
        self.recount()
        self.reseat(sorted(self.scarce))

    # -- one person's day ---------------------------------------------------------------
    def day_of(self, pid: str, cell: int) -> int:
        dates = self._dates.get(pid)
        if dates is None:
            dates = self.placer.dates_in(self.placer.zone_of(pid))
            self._dates[pid] = dates
        return int(dates[cell])

    def allowed(self, pid: str, length: int) -> np.ndarray:
        key = (pid, length)
        cached = self.allowed_cache.get(key)
        if cached is None:
            cached = free_to_start(self.grid, self.people[pid], length)
            self.allowed_cache[key] = cached
        return cached

    def fixed_spans(self, pid: str, day: int) -> list[tuple[int, int]]:
        spans = []
        for eid in self.events_of.get(pid, ()):
            cell = self.placer.placed.get(eid)
            if cell is None:
                continue
            event = self.events[eid]
            if self.day_of(pid, cell) == day:
                spans.append((cell * self.g, cell * self.g + event.duration))
        return spans

    def days_with_options(self, pid: str) -> set[int]:
        return {
            self.day_of(pid, self.placer.placed[sid])
            for sid in self.wants_of.get(pid, {})
            if sid in self.placer.placed
        }

    def day_state(
        self, pid: str, day: int, opened: str | None = None, shut: str | None = None
    ) -> Day:
        """One person's local day as placed now: its best weight and the scarce sessions
        that plan seats them in (see ``day_plan``)."""
        value, chosen = self.day_plan(pid, day, opened, shut)
        return value, frozenset(sid for sid in chosen if sid in self.scarce)

    def day_plan(
        self, pid: str, day: int, opened: str | None = None, shut: str | None = None
    ) -> tuple[float, list[str]]:
        """The best attended weight of one person on one local day, as placed now, and
        the sessions that give it: scarce sessions only where they hold a seat, or
        ``opened`` (a seat offered to them); never ``shut``."""
        fixed = self.fixed_spans(pid, day)
        room = self.max_per_day - len(fixed)
        if room <= 0:
            return 0.0, []
        options = []
        for sid, w in self.wants_of.get(pid, {}).items():
            cell = self.placer.placed.get(sid)
            if cell is None or self.day_of(pid, cell) != day or sid == shut:
                continue
            if sid in self.scarce and sid != opened and pid not in self.holders[sid]:
                continue
            event = self.events[sid]
            if not self.allowed(pid, event.length)[cell]:
                continue
            begin, end = cell * self.g, cell * self.g + event.duration
            if any(too_close(begin, end, b, e, self.buffer) for b, e in fixed):
                continue
            options.append(Option(sid, begin, end, w))  # type: ignore[arg-type]
        if not options:
            return 0.0, []
        options.sort(key=lambda o: (o.end, o.start, o.session))
        return best_day(PersonDay(pid, "", None, room, options), self.buffer, set())  # type: ignore[arg-type]

    # -- moves --------------------------------------------------------------------------
    def touched(self, eid: str) -> list[str]:
        event = self.events[eid]
        people = [p for p, _ in self.wanting.get(eid, ())]
        people += [p for p in event.people if p in self.people]
        return sorted(set(people))

    def days_touched(self, eid: str, pids: list[str], cells: list[int]) -> list[tuple[str, int]]:
        keys = set()
        for pid in pids:
            for cell in cells:
                keys.add((pid, self.day_of(pid, cell)))
        return sorted(keys)

    def try_move(self, eid: str, candidates: list[int]) -> bool:
        """Move ``eid`` to the best of ``candidates`` if that raises the sum.

        Only days that can change are recomputed: the old day of everyone touched once
        (without the event; the same for every candidate on another day), the new day only
        for those who could attend it there (and the hosts/delegates, whose fixed events
        move)."""
        event = self.events[eid]
        was = self.placer.placed[eid]
        pids = self.touched(eid)
        self.offered = {}
        self.placer.take(eid)
        cands = np.array([c for c in candidates if c != was], dtype=np.int64)
        if len(cands):
            cands = cands[self.placer.feasible(event, cands)]
        old_day = {pid: self.day_of(pid, was) for pid in pids}
        without = {pid: self.day_state(pid, old_day[pid]) for pid in pids}
        best_gain, best_cell, best_values = 1e-9, None, None
        # a move that keeps the total may still lift the worst-off city (never the reverse)
        fairest_cell, fairest_values, fairest_share = None, None, None
        # a scarce session is also tried where it is, its seats given anew
        tried = cands.tolist() + ([was] if eid in self.scarce else [])
        for cell in tried:
            self.placer.put(eid, cell)
            after = self.days_after_move(eid, cell, pids, old_day, without)
            self.placer.take(eid)
            gain = sum(value - self.value.get(key, 0.0) for key, (value, _) in after.items())
            gain += sum(self.waiting.get(sid, 0.0) for sid in self.given_up(after, eid))
            if gain > best_gain:
                best_gain, best_cell, best_values = gain, cell, after
            elif best_cell is None and abs(gain) <= 1e-9 and cell != was:
                if fairest_share is None:
                    fairest_share = self.worst_share()
                share = self.worst_share(after)
                if share > fairest_share + 1e-12:
                    fairest_cell, fairest_values, fairest_share = cell, after, share
        if best_cell is None and fairest_cell is not None:
            best_cell, best_values = fairest_cell, fairest_values
        if best_cell is None:
            self.placer.put(eid, was)
            return False
        self.placer.put(eid, best_cell)
        assert best_values is not None
        freed = self.given_up(best_values, eid)
        self.set_values(best_values)
        if eid in self.scarce:
            self.waiting[eid] = self.offered.get(best_cell, 0.0)
        self.reseat(sorted(freed))
        return True

    def given_up(self, changes: dict[Key, Day], moved: str | None = None) -> list[str]:
        """The scarce sessions (but ``moved``) a seat of which these days give up, once per
        seat."""
        return [
            sid
            for key, (_, seats) in changes.items()
            for sid in self.seated.get(key, frozenset()) - seats
            if sid != moved
        ]

    def days_after_move(
        self, eid: str, cell: int, pids: list[str], old_day: dict[str, int], without: dict[str, Day]
    ) -> dict[Key, Day]:
        """The days of ``pids`` with ``eid`` (placed) at ``cell``: ``without`` where it left
        their day, recomputed where it came (a scarce session's seats given anew)."""
        event = self.events[eid]
        after: dict[Key, Day] = {}
        takers: list[str] = []
        for pid in pids:
            new = self.day_of(pid, cell)
            if new != old_day[pid]:
                after[(pid, old_day[pid])] = without[pid]
            if pid in event.people:
                after[(pid, new)] = self.day_state(pid, new)
            elif self.allowed(pid, event.length)[cell]:
                takers.append(pid)
            elif new == old_day[pid]:
                after[(pid, new)] = without[pid]
        if eid not in self.scarce:
            for pid in takers:
                after[(pid, self.day_of(pid, cell))] = self.day_state(pid, self.day_of(pid, cell))
            return after
        offers, self.offered[cell] = self.seat_offers(eid, cell, takers, old_day, without)
        after.update(offers)
        return after

    def seat_offers(
        self,
        sid: str,
        cell: int,
        takers: list[str],
        old_day: dict[str, int] | None = None,
        without: dict[str, Day] | None = None,
    ) -> tuple[dict[Key, Day], float]:
        """The seats of a scarce session at ``cell`` go to those of ``takers`` who gain
        most by one (ties: by id), the others' days without it; and what a seat would
        bring the first one left without."""
        ranked = []
        for pid in takers:
            day = self.day_of(pid, cell)
            if without is not None and old_day is not None and old_day[pid] == day:
                lose = without[pid]
            else:
                lose = self.day_state(pid, day, shut=sid)
            take = self.day_state(pid, day, opened=sid)
            ranked.append((lose[0] - take[0], pid, (pid, day), take, lose))
        ranked.sort(key=lambda r: (r[0], r[1]))
        seats = self.scarce[sid]
        days: dict[Key, Day] = {}
        for rank, (loss, _pid, key, take, lose) in enumerate(ranked):
            days[key] = take if rank < seats and loss < -1e-9 else lose
        waiting = -ranked[seats][0] if len(ranked) > seats and ranked[seats][0] < 0 else 0.0
        return days, waiting

    def reseat(self, sids: list[str]) -> None:
        """Give the seats of these scarce sessions anew where they are, where that raises
        the sum."""
        for sid in sids:
            cell = self.placer.placed.get(sid)
            if sid not in self.scarce or cell is None:
                continue
            event = self.events[sid]
            takers = [
                pid
                for pid, _ in self.wanting[sid]
                if self.allowed(pid, event.length)[cell] or pid in self.holders[sid]
            ]
            days, waiting = self.seat_offers(sid, cell, takers)
            if sum(v - self.value.get(k, 0.0) for k, (v, _) in days.items()) > 1e-9:
                self.set_values(days)
                self.waiting[sid] = waiting

    def candidates(self, eid: str) -> list[int]:
        event = self.events[eid]
        cands = self.placer.cands[eid]
        if len(cands) <= BEST_BY_ESTIMATE + AT_RANDOM:
            return [int(c) for c in cands]
        was = self.placer.placed[eid]
        self.placer.take(eid)
        ok = self.placer.feasible(event, cands)
        score = np.where(ok, self.placer.score(event, cands), -np.inf)
        self.placer.put(eid, was)
        order = np.argsort(-score, kind="stable")
        chosen = [int(cands[i]) for i in order[:BEST_BY_ESTIMATE] if np.isfinite(score[i])]
        feasible = [int(c) for c in cands[ok]]
        if feasible:
            chosen += self.random.sample(feasible, min(AT_RANDOM, len(feasible)))
        return sorted(set(chosen))

    def total(self) -> float:
        return sum(self.value.values())

    def recount(self) -> None:
        """The cities' sums and the seat holders, from the days."""
        self.city_value = defaultdict(float)
        for (pid, _day), value in self.value.items():
            self.city_value[self.city[pid]] += value
        self.holders = defaultdict(set)
        for (pid, _day), seats in self.seated.items():
            for sid in seats:
                self.holders[sid].add(pid)

    def set_values(self, values: dict[Key, Day]) -> None:
        """Take these days as they now are (their seats with them)."""
        for key, (value, seats) in values.items():
            self.city_value[self.city[key[0]]] += value - self.value.get(key, 0.0)
            self.value[key] = value
            before = self.seated.get(key, frozenset())
            for sid in before - seats:
                self.holders[sid].discard(key[0])
            for sid in seats - before:
                self.holders[sid].add(key[0])
            self.seated[key] = seats

    def refresh(self, keys: set[Key], moved: list[str]) -> None:
        """Recompute these days as placed now, then give the seats of the scarce sessions
        among ``moved`` anew."""
        days = {key: self.day_state(*key) for key in sorted(keys)}
        freed = self.given_up(days)
        self.set_values(days)
        self.reseat(sorted(set(moved) | set(freed)))

    def snapshot(self) -> Saved:
        """The days as they are (for ``reset``)."""
        return dict(self.value), dict(self.seated)

    def reset(self, saved: Saved) -> None:
        """The days as a ``snapshot`` had them."""
        self.value, self.seated = dict(saved[0]), dict(saved[1])
        self.recount()

    def worst_share(self, changes: dict[Key, Day] | None = None) -> float:
        """The lowest city share of wanted weight, now or after ``changes``."""
        delta: dict[str, float] = defaultdict(float)
        for key, (value, _) in (changes or {}).items():
            delta[self.city[key[0]]] += value - self.value.get(key, 0.0)
        return min(
            (
                (self.city_value[c] + delta[c]) / wanted
                for c, wanted in self.city_wanted.items()
                if wanted > 0
            ),
            default=0.0,
        )

    def restore(self, starts: dict[str, int], saved: Saved) -> None:
        for eid in sorted(self.placer.placed):
            self.placer.take(eid)
        for eid, cell in sorted(starts.items()):
            self.placer.put(eid, cell)
        self.reset(saved)

    def shake(self, movable: list[PlannedEvent]) -> None:
        """Take out the movable sessions of one organiser day, drawn at random, and put
        them back one by one in random order at the greedy's best start (any day)."""
        days = sorted({int(self.placer.organiser_dates[c]) for c in self.placer.placed.values()})
        if not days:
            return
        day = self.random.choice(days)
        chosen = [
            e.id
            for e in movable
            if e.session is not None
            and e.id in self.placer.placed
            and int(self.placer.organiser_dates[self.placer.placed[e.id]]) == day
        ]
        self.random.shuffle(chosen)
        old = {eid: self.placer.placed[eid] for eid in chosen}
        for eid in chosen:
            self.placer.take(eid)
        back: list[str] = []
        for eid in chosen:
            cell = self.placer.best_start(self.events[eid])
            if cell is None:
                # the ones put back took its place (a room, an interpreter, a host's time):
                # undo the shake, since only the old places are known to fit together
                for other in back:
                    self.placer.take(other)
                for other in chosen:
                    self.placer.put(other, old[other])
                break
            self.placer.put(eid, cell)
            back.append(eid)
        keys: set[Key] = set()
        for eid in chosen:
            keys.update(
                self.days_touched(eid, self.touched(eid), [old[eid], self.placer.placed[eid]])
            )
        self.refresh(keys, chosen)

    def one_pass(self, movable: list[PlannedEvent], deadline: float | None) -> int:
        """Try to move every placed movable event once; how many moved. Stops at
        ``deadline`` (None: no clock)."""
        moved = 0
        for event in movable:
            if deadline is not None and clock.monotonic() > deadline:
                break
            if event.id not in self.placer.placed:
                continue
            if self.try_move(event.id, self.candidates(event.id)):
                moved += 1
        return moved

    def best_place_of(self, event: PlannedEvent) -> dict[str, int]:
        """The one movable event (a re-plan that displaces one session) at the best of all
        its starts, everything else staying: every candidate tried, so the search's
        measure cannot rise by any other move. Repeated while a move lifts the worst-off
        city at the same total (at most as often as there are starts)."""
        every = [int(c) for c in self.placer.cands[event.id]]
        for _ in every:
            if event.id not in self.placer.placed or not self.try_move(event.id, every):
                break
        return dict(self.placer.placed)

    def run(
        self,
        deadline: float,
        max_passes: int | None,
        notify: Callable[[], None] | None = None,
        rearrange: Callable[[], bool] | None = None,
        finished: Callable[[], bool] | None = None,
    ) -> dict[str, int]:
        """Passes over all movable events until the deadline passes or ``max_passes`` are
        done (deterministic mode counts passes, not seconds). At a local optimum (with the
        clock: STALE_PASSES passes in a row without a move) ``rearrange`` moves several
        events at once (rearrange.py; up to REARRANGE_TRIES neighbourhoods); when that
        finds nothing, the sessions of one day are shaken up (see ``shake``, not in
        deterministic mode) and the search goes on from there. A pass after a successful
        rearrangement does not count against ``max_passes`` (``rearrange`` keeps its own
        budget). ``finished`` says when nothing better can be found (a rearrangement of
        every movable event proved the placement optimal): then the search ends there, as
        it does at once when nothing may move (a re-plan with everything kept) and after
        trying every start of the only event that may (`best_place_of`). The best
        placement seen is returned."""
        movable = sorted(
            (e for e in self.events.values() if e.fixed_cell is None), key=lambda e: e.id
        )
        if not movable:
            return dict(self.placer.placed)
        if len(movable) == 1:
            return self.best_place_of(movable[0])
        best_total, best_starts, best_values = (
            self.total(),
            dict(self.placer.placed),
            self.snapshot(),
        )
        passes = 0
        stale = 0
        while max_passes is None or passes < max_passes:
            passes += 1
            moved = self.one_pass(movable, None if max_passes is not None else deadline)
            if self.total() > best_total + 1e-9:
                best_total, best_starts, best_values = (
                    self.total(),
                    dict(self.placer.placed),
                    self.snapshot(),
                )
                if notify is not None:
                    notify()
            if max_passes is None and clock.monotonic() > deadline:
                break
            stale = 0 if moved else stale + 1
            if stale and (max_passes is not None or stale >= STALE_PASSES):
                # a local optimum: go on from the best one, rearranged or else shaken
                self.restore(best_starts, best_values)
                if rearrange is not None and any(rearrange() for _ in range(REARRANGE_TRIES)):
                    stale = 0
                    passes -= 1
                    continue
                if max_passes is not None or (finished is not None and finished()):
                    break
                self.shake(movable)
                stale = 0
        if self.total() < best_total:
            self.restore(best_starts, best_values)
        return dict(self.placer.placed)
