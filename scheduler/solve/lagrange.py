"""A Lagrangian bound on the attended weight that sees clashes: every participant gets
their own copy of each session's start (docs/solver.md has the proof).

The problem, for a fixed set of held meetings: y[e, t] = 1 when session e starts at cell
t (at most one t; rooms, interpreters); x[p, e, t] = 1 when p attends e there, inside p's
own rules (free for the whole session, buffers, at most ``max_events_per_day`` events
per local day, their meetings somewhere in their free time, each session at most once);
seats; objective Σ w[p, e] x[p, e, t]. The coupling x[p, e, t] ≤ y[e, t] is what the
transportation bound (bound.py) drops entirely. Here it is priced by λ[p, e, t] ≥ 0 (one
price per participant, session they may attend and start: a copy of the start each);
so are "each session at most once" per participant (μ ≥ 0), seats (σ ≥ 0), rooms and
interpreters per cell (ρ, π ≥ 0). For any such prices the Lagrangian

    L = Σ_p max_{x_p} Σ (w − λ − σ − μ) x_p     (each participant alone: a DP, exact)
      + Σ_e max(0, max_t Σ_p λ − rooms' and interpreters' prices over e's cells)
      + Σ_m max_t (− prices over meeting m's cells)     (meetings are held)
      + Σ μ + Σ σ·seats + Σ ρ·rooms + Σ π·interpreters

is ≥ the attended weight of every schedule (it is the objective plus non-negative
terms once the schedule's own x, y are put in, and each max is at least that). Prices
are improved by projected subgradient steps (Polyak's step towards the best schedule
known); every iterate is a valid bound, the best is kept. They start from the
transportation problem's optimal dual, where L is at most the transportation bound.

Participant p's problem is solved exactly by a dynamic programme over the active grid
cells (backwards), state = events still allowed on the current local day × meetings
still to place: at each cell skip, or start an option (a session of duration D, best
gain among p's sessions of that duration allowed there; the next start at least
ceil((D + buffer) / grid) cells later), or start one of p's meetings (pooled: any of
p's meetings may go to any cell one of them allows, with the shortest meeting length —
a relaxation, so still an upper bound). Vectorised over all participants with numpy.
"""

from __future__ import annotations

import math
import time as clock
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from scheduler.model import Conference
from scheduler.solve.availability import TimeGrid
from scheduler.solve.bound import capacity_bound, transport, transport_prices
from scheduler.solve.events import PlannedEvent
from scheduler.solve.rules import busy_cells

NEG = -1e18  # "not possible" in the dynamic programme
# stop when the bound is within this share of the target (nothing more to prove)
CLOSE_ENOUGH = 1e-6
PRICES = ("lam", "mu", "sigma", "rho", "pi")  # the attributes holding λ, μ, σ, ρ, π


@dataclass
class _Batch:
    """Participants solved together: same number of meeting states."""

    people: np.ndarray  # indices into the participant list
    meetings: np.ndarray  # meetings each must place
    states: int  # R = max meetings + 1
    zone: np.ndarray  # zone index per participant
    meeting_ok: np.ndarray  # (P_b, positions) a meeting may start there


@dataclass
class LagrangeResult:
    """The best bound found, and what the relaxation likes, to steer the search."""

    bound: int
    iterations: int
    trace: list[tuple[float, int]] = field(default_factory=list)  # (seconds, bound)
    # per session id: the relaxation's value of each cell (its prices; higher = wanted)
    preference: dict[str, np.ndarray] = field(default_factory=dict)


class LagrangianBound:
    """The bound of the module doc for one set of held meetings."""

    def __init__(
        self,
        conference: Conference,
        grid: TimeGrid,
        sessions: list[PlannedEvent],
        meetings: list[PlannedEvent],
        wanted: dict[str, list[tuple[str, int]]],
    ):
        self.conference = conference
        self.grid = grid
        self.sessions = sessions
        self.meetings = meetings
        self.cap = conference.calendar.max_events_per_day
        mask = np.zeros(grid.cells, dtype=bool)
        for event in sessions + meetings:
            mask |= event.allowed
        self.cells = np.flatnonzero(mask)
        self.npos = len(self.cells)
        self._allowed: dict[tuple[object, int], np.ndarray] = {}
        self.session_at = np.array([e.allowed[self.cells] for e in sessions], dtype=bool).reshape(
            len(sessions), self.npos
        )

        kept, masks = self._attendable(wanted)
        self.pids = sorted({pid for pid, *_ in kept})
        index = {pid: i for i, pid in enumerate(self.pids)}
        zone_names = self._zones()
        self._pairs(kept, masks, index)
        self._next_starts(zone_names)
        self._meeting_batches(index)
        self._session_side()

        # prices
        # float32 is enough: the value is computed exactly (in float64) for the stored prices
        self.lam = np.zeros((len(self.pair_person), self.npos), dtype=np.float32)
        self.mu = np.zeros(len(self.pair_person))
        self.sigma = np.zeros(len(sessions))
        self.rho = np.zeros(grid.cells)
        self.pi = np.zeros(grid.cells)
        self._start_from_transport(wanted)

    def _allowed_at(self, pid: str, length: int) -> np.ndarray:
        """Where participant ``pid`` could start ``length`` cells, at the positions."""
        profile = self.grid.profile(self.conference.participants_by_id[pid])
        key = (profile, length)
        if key not in self._allowed:
            self._allowed[key] = self.grid.allowed_starts(profile, length)[self.cells]
        return self._allowed[key]

    def _attendable(
        self, wanted: dict[str, list[tuple[str, int]]]
    ) -> tuple[list[tuple[str, int, int, bool]], list[np.ndarray]]:
        """Participants with something to attend: (pid, session index, w, host), each with
        the positions where they could attend that session."""
        people = self.conference.participants_by_id
        pairs: list[tuple[str, int, int, bool]] = []
        for j, event in enumerate(self.sessions):
            for pid, w in wanted.get(event.id, []):
                pairs.append((pid, j, w, False))
            for pid in event.people:
                if pid in people and event.session is not None:
                    w = self.conference.wanted_weight(people[pid], event.session)
                    if w > 0:
                        pairs.append((pid, j, w, True))
        kept = []
        masks = []
        for pid, j, w, host in pairs:
            m = self.session_at[j] & self._allowed_at(pid, self.sessions[j].length)
            if m.any():
                kept.append((pid, j, w, host))
                masks.append(m)
        return kept, masks

    def _zones(self) -> list[str]:
        """Each participant's zone index (``self.zone``); the zones' names by index."""
        people = self.conference.participants_by_id
        zones: dict[str, int] = {}
        self.zone = np.zeros(len(self.pids), dtype=np.int64)
        for i, pid in enumerate(self.pids):
            self.zone[i] = zones.setdefault(self.grid.profile(people[pid]).timezone, len(zones))
        return sorted(zones, key=zones.__getitem__)

    def _pairs(
        self,
        kept: list[tuple[str, int, int, bool]],
        masks: list[np.ndarray],
        index: dict[str, int],
    ) -> None:
        """The (participant, session) pairs as arrays, sorted by (duration class, person)."""
        sessions = self.sessions
        durations = sorted({sessions[j].duration for _, j, _, _ in kept})
        class_of = {d: c for c, d in enumerate(durations)}
        self.steps = [busy_cells(self.grid, d) for d in durations]
        order = sorted(
            range(len(kept)),
            key=lambda a: (class_of[sessions[kept[a][1]].duration], index[kept[a][0]]),
        )
        self.pair_person = np.array([index[kept[a][0]] for a in order], dtype=np.int64)
        self.pair_session = np.array([kept[a][1] for a in order], dtype=np.int64)
        self.pair_weight = np.array([kept[a][2] for a in order], dtype=np.float64)
        self.pair_host = np.array([kept[a][3] for a in order], dtype=bool)
        self.pair_class = np.array(
            [class_of[sessions[kept[a][1]].duration] for a in order], dtype=np.int64
        )
        self.pair_mask = (
            np.array([masks[a] for a in order], dtype=bool)
            if order
            else np.zeros((0, self.npos), dtype=bool)
        )
        self.nclasses = len(durations)
        # pairs by session, to add up their prices per session and start
        self.by_session = np.argsort(self.pair_session, kind="stable")
        ordered = self.pair_session[self.by_session]
        self.session_rows = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        self.session_of_rows = ordered[self.session_rows] if len(ordered) else ordered

    def _next_starts(self, zone_names: list[str]) -> None:
        """Local dates per zone at each position; per duration class (and meetings) the
        position of the next start, and whether it is on the same local date."""
        cells, npos = self.cells, self.npos
        dates = np.array(
            [
                [self.grid.local_date(int(c), ZoneInfo(z)).toordinal() for c in cells]
                for z in zone_names
            ],
            dtype=np.int64,
        ).reshape(len(zone_names), npos)
        padded = np.concatenate([dates, np.full((len(zone_names), 1), -1)], axis=1)
        self.same_next = padded[:, :npos] == padded[:, 1 : npos + 1]
        self.meeting_minutes = min((m.duration for m in self.meetings), default=0)
        self.meeting_step = busy_cells(self.grid, self.meeting_minutes)
        self.jumps: list[np.ndarray] = []  # per class: the position of the next start
        self.same_jump: list[np.ndarray] = []  # per class: (zone, position) same local date
        for step in [*self.steps, self.meeting_step]:
            ahead = np.searchsorted(cells, cells + step)
            self.jumps.append(ahead)
            self.same_jump.append(padded[:, ahead] == dates)

    def _meeting_batches(self, index: dict[str, int]) -> None:
        """Participants in batches by whether they have meetings (pooled: any of their
        meetings at any position one of them allows, the shortest meeting's length)."""
        meeting_count: dict[str, int] = defaultdict(int)
        meeting_cells: dict[str, np.ndarray] = {}
        length = self.grid.cells_for(self.meeting_minutes) if self.meetings else 1
        for meeting in self.meetings:
            here = meeting.allowed[self.cells]
            for pid in meeting.people:
                if pid in index:
                    meeting_count[pid] += 1
                    seen = meeting_cells.get(pid)
                    meeting_cells[pid] = here.copy() if seen is None else seen | here
        counts = np.array([meeting_count.get(pid, 0) for pid in self.pids], dtype=np.int64)
        self.batches: list[_Batch] = []
        for members in (np.flatnonzero(counts == 0), np.flatnonzero(counts > 0)):
            if not len(members):
                continue
            ok = np.zeros((len(members), self.npos), dtype=bool)
            for row, member in enumerate(members.tolist()):
                pid = self.pids[member]
                if pid in meeting_cells:
                    ok[row] = meeting_cells[pid] & self._allowed_at(pid, length)
            states = int(counts[members].max()) + 1
            batch = _Batch(members, counts[members], states, self.zone[members], ok)
            self.batches.append(batch)

    def _session_side(self) -> None:
        """Seats, rooms, interpreters, and where each meeting may start."""
        self.seats = np.array(
            [np.inf if e.seats is None else float(e.seats) for e in self.sessions],
            dtype=np.float64,
        )
        self.limited = np.flatnonzero(np.isfinite(self.seats))
        self.rooms = float(self.conference.resources.rooms)
        self.interpreters = float(self.conference.resources.interpreters)
        self.meeting_at = np.array(
            [m.allowed[self.cells] for m in self.meetings], dtype=bool
        ).reshape(len(self.meetings), self.npos)

    # ------------------------------------------------------------------------ set-up
    def _start_from_transport(self, wanted: dict[str, list[tuple[str, int]]]) -> None:
        """μ, σ from the transportation problem's optimal dual: then L ≤ that bound."""
        relaxation = transport(self.conference, self.grid, self.sessions, self.meetings, wanted)
        prices = transport_prices(relaxation, self.sessions)
        if prices is None:
            return
        places, seats = prices
        self.sigma = np.array(seats, dtype=np.float64)
        u = np.array([places.get(pid, 0.0) for pid in self.pids])
        sigma_pair = np.where(self.pair_host, 0.0, self.sigma[self.pair_session])
        self.mu = np.maximum(0.0, self.pair_weight - u[self.pair_person] - sigma_pair)

    # ------------------------------------------------------------------------ one value
    def evaluate(self) -> tuple[float, dict[str, np.ndarray], dict[str, object]]:
        """L at the current prices, its subgradient, and the subproblems' choices."""
        sigma_pair = np.where(self.pair_host, 0.0, self.sigma[self.pair_session])
        base = self.pair_weight - sigma_pair - self.mu
        total = float(self.mu.sum())
        chosen_pairs: list[np.ndarray] = []
        chosen_pos: list[np.ndarray] = []
        for batch in self.batches:
            value, pairs, positions = self._people(batch, base)
            total += value
            chosen_pairs.append(pairs)
            chosen_pos.append(positions)
        pairs = np.concatenate(chosen_pairs) if chosen_pairs else np.zeros(0, dtype=np.int64)
        positions = np.concatenate(chosen_pos) if chosen_pos else np.zeros(0, dtype=np.int64)
        total, placed, meeting_placed, preference = self._events_side(total)
        limited = self.limited
        total += float((self.sigma[limited] * self.seats[limited]).sum())
        total += float(self.rho.sum() * self.rooms + self.pi.sum() * self.interpreters)
        subgradient = self._subgradient(pairs, positions, placed, meeting_placed)
        choices = {"placed": placed, "preference": preference}
        return total, subgradient, choices

    def _events_side(
        self, total: float
    ) -> tuple[float, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Each session at its best start for the prices (or nowhere), each meeting at its
        cheapest: ``total`` with their values added (in this order: the sum is exactly
        that of the bound), where each went (-1: nowhere), each session's value per
        position."""
        nsessions = len(self.sessions)
        room_sum = np.concatenate(([0.0], np.cumsum(self.rho)))
        interp_sum = np.concatenate(([0.0], np.cumsum(self.pi)))
        placed = np.full(nsessions, -1, dtype=np.int64)
        gains = np.zeros((nsessions, self.npos))
        if len(self.by_session):
            gains[self.session_of_rows] = np.add.reduceat(
                self.lam[self.by_session].astype(np.float64), self.session_rows, axis=0
            )
        preference: dict[str, np.ndarray] = {}
        for j, event in enumerate(self.sessions):
            q = np.where(
                self.session_at[j], gains[j] - self._cost(event, room_sum, interp_sum), NEG
            )
            preference[event.id] = q
            best = int(np.argmax(q)) if self.npos else -1
            if best >= 0 and q[best] > 0:
                total += float(q[best])
                placed[j] = best
        meeting_placed = np.full(len(self.meetings), -1, dtype=np.int64)
        for m, event in enumerate(self.meetings):
            q = np.where(self.meeting_at[m], -self._cost(event, room_sum, interp_sum), NEG)
            best = int(np.argmax(q)) if self.npos else -1
            if best >= 0 and q[best] > NEG / 2:
                total += float(q[best])
                meeting_placed[m] = best
        return total, placed, meeting_placed, preference

    def _cost(
        self, event: PlannedEvent, room_sum: np.ndarray, interp_sum: np.ndarray
    ) -> np.ndarray:
        """Rooms' (and interpreters') prices over the cells the event would occupy, per
        position; ``room_sum``, ``interp_sum`` are the prices' running sums."""
        ends = np.minimum(self.cells + event.length, self.grid.cells)
        total = room_sum[ends] - room_sum[self.cells]
        if event.interpreted:
            total = total + interp_sum[ends] - interp_sum[self.cells]
        return total

    def _subgradient(
        self,
        pairs: np.ndarray,
        positions: np.ndarray,
        placed: np.ndarray,
        meeting_placed: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Each price's subgradient: by how much the choices break the rule it prices."""
        nsessions = len(self.sessions)
        limited = self.limited
        s_lam = np.zeros_like(self.lam)
        np.add.at(s_lam, (pairs, positions), 1.0)
        rows = np.flatnonzero(placed[self.pair_session] >= 0)
        s_lam[rows, placed[self.pair_session[rows]]] -= 1.0
        s_mu = np.bincount(pairs, minlength=len(self.mu)).astype(np.float64) - 1.0
        attended = np.bincount(
            self.pair_session[pairs[~self.pair_host[pairs]]], minlength=nsessions
        ).astype(np.float64)
        s_sigma = np.zeros(nsessions)
        s_sigma[limited] = attended[limited] - self.seats[limited]
        use_room = np.zeros(self.grid.cells + 1)
        use_interp = np.zeros(self.grid.cells + 1)
        for events, where in ((self.sessions, placed), (self.meetings, meeting_placed)):
            for j, event in enumerate(events):
                if where[j] < 0:
                    continue
                start = int(self.cells[where[j]])
                use_room[start] += 1
                use_room[start + event.length] -= 1
                if event.interpreted:
                    use_interp[start] += 1
                    use_interp[start + event.length] -= 1
        s_rho = np.cumsum(use_room)[:-1] - self.rooms
        s_pi = np.cumsum(use_interp)[:-1] - self.interpreters
        return {"lam": s_lam, "mu": s_mu, "sigma": s_sigma, "rho": s_rho, "pi": s_pi}

    def _people(self, batch: _Batch, base: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Every participant of the batch alone, exactly: (Σ values, chosen pairs, positions)."""
        npos, cap, states = self.npos, self.cap, batch.states
        size = len(batch.people)
        local = np.full(len(self.pids), -1, dtype=np.int64)
        local[batch.people] = np.arange(size)
        # best gain per class, participant and position (and which pair gives it)
        gain = np.full((self.nclasses, size, npos), NEG)
        which = np.full((self.nclasses, size, npos), -1, dtype=np.int64)
        for c in range(self.nclasses):
            members = np.flatnonzero((self.pair_class == c) & (local[self.pair_person] >= 0))
            if not len(members):
                continue
            values = base[members][:, None] - self.lam[members]
            values[~self.pair_mask[members]] = NEG
            owners = local[self.pair_person[members]]
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            best = np.maximum.reduceat(values, starts, axis=0)
            gain[c, owners[starts]] = best
            # the first pair reaching the best, per owner and position
            segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(members)]))
            rows = np.where(
                values >= best[segment], np.arange(len(members))[:, None], len(members) - 1
            )
            which[c, owners[starts]] = members[np.minimum.reduceat(rows, starts, axis=0)]
        meeting_gain = np.where(batch.meeting_ok, 0.0, NEG)

        terminal = np.full((size, cap + 1, states), NEG)
        terminal[:, :, 0] = 0.0
        values_at: dict[int, np.ndarray] = {npos: terminal}
        decision = np.zeros((npos, size, cap + 1, states), dtype=np.int8)
        longest = max([*self.steps, self.meeting_step, 1])
        zone = batch.zone
        for i in range(npos - 1, -1, -1):
            after = values_at[i + 1]
            same = self.same_next[zone, i]
            best = np.where(same[:, None, None], after, after[:, cap : cap + 1, :])
            choice = np.zeros((size, cap + 1, states), dtype=np.int8)
            for c in range(self.nclasses + (1 if states > 1 else 0)):
                is_meeting = c == self.nclasses
                g = meeting_gain[:, i] if is_meeting else gain[c, :, i]
                if not (g > NEG / 2).any():
                    continue
                j = int(self.jumps[c][i])
                later = values_at[j]
                same_j = self.same_jump[c][zone, i]
                fresh = np.broadcast_to(later[:, cap : cap + 1, :], later.shape)
                target = np.where(same_j[:, None, None], later, fresh)
                option = np.full((size, cap + 1, states), NEG)
                if is_meeting:
                    option[:, 1:, 1:] = target[:, :-1, :-1]
                else:
                    option[:, 1:, :] = target[:, :-1, :]
                option += g[:, None, None]
                better = option > best
                best = np.where(better, option, best)
                choice[better] = c + 1
            values_at[i] = best
            decision[i] = choice
            values_at.pop(i + longest + 1, None)
        start = values_at[0][np.arange(size), cap, batch.meetings]
        # a participant whose meetings cannot all be placed this way (impossible for a
        # held schedule): fewer forced meetings, which only raises the value
        feasible = start > NEG / 2
        fallback = values_at[0][:, cap, :]
        start = np.where(feasible, start, np.maximum(fallback.max(axis=1), 0.0))

        # follow the decisions forwards, all participants at once
        at = np.zeros(size, dtype=np.int64)
        left = np.full(size, cap, dtype=np.int64)
        owed = np.where(feasible, batch.meetings, fallback.argmax(axis=1))
        picked_pairs: list[np.ndarray] = []
        picked_pos: list[np.ndarray] = []
        for i in range(npos):
            here = np.flatnonzero(at == i)
            if not len(here):
                continue
            act = decision[i, here, left[here], owed[here]]
            skip = here[act == 0]
            at[skip] = i + 1
            left[skip] = np.where(self.same_next[zone[skip], i], left[skip], cap)
            for c in range(self.nclasses + 1):
                who = here[act == c + 1]
                if not len(who):
                    continue
                if c < self.nclasses:
                    picked_pairs.append(which[c, who, i])
                    picked_pos.append(np.full(len(who), i, dtype=np.int64))
                else:
                    owed[who] -= 1
                at[who] = self.jumps[c][i]
                same_j = self.same_jump[c][zone[who], i]
                left[who] = np.where(same_j, left[who] - 1, cap)
        pairs = np.concatenate(picked_pairs) if picked_pairs else np.zeros(0, dtype=np.int64)
        positions = np.concatenate(picked_pos) if picked_pos else np.zeros(0, dtype=np.int64)
        return float(start.sum()), pairs, positions

    # ------------------------------------------------------------------------ the search
    def run(
        self,
        *,
        target: float,
        seconds: float | None = None,
        iterations: int | None = None,
        notify: Callable[[int], None] | None = None,
        step: float = 1.0,
    ) -> LagrangeResult:
        """Subgradient steps until the time or iteration budget is used; every value is a
        valid bound and the best (as an integer: the objective is whole) is kept. ``step``:
        the first steps' share of Polyak's length (halved after five without progress)."""
        started = clock.monotonic()
        best_value = math.inf
        best_preference: dict[str, np.ndarray] = {}
        result = LagrangeResult(bound=0, iterations=0)
        theta = step
        stale = 0
        while True:
            value, subgradient, choices = self.evaluate()
            result.iterations += 1
            if value < best_value - 1e-9:
                if value < best_value - 0.5:
                    stale = 0
                best_value = value
                best_preference = choices["preference"]  # type: ignore[assignment]
                bound = math.floor(value + 1e-6)
                if not result.trace or bound < result.trace[-1][1]:
                    result.trace.append((clock.monotonic() - started, bound))
                    if notify is not None:
                        notify(bound)
            else:
                stale += 1
            if stale >= 5:
                theta /= 2
                stale = 0
            if best_value - target <= CLOSE_ENOUGH * max(1.0, target):
                break
            if iterations is not None and result.iterations >= iterations:
                break
            if seconds is not None and clock.monotonic() - started >= seconds:
                break
            if theta < 1e-4:
                break
            if not self._step(subgradient, theta * max(value - target, 1e-3)):
                break  # the choices are a feasible schedule of the relaxation: optimal
        result.bound = math.floor(best_value + 1e-6) if best_value < math.inf else 0
        result.preference = best_preference
        return result

    def _step(self, subgradient: dict[str, np.ndarray], scale: float) -> bool:
        """One projected subgradient step of Polyak's length ``scale`` / ‖s‖² (a price at
        0 that would go below 0 does not count); False: nothing to step along."""
        norm = 0.0
        for name in PRICES:
            price, step = getattr(self, name), subgradient[name]
            step[(price <= 0) & (step < 0)] = 0.0
            norm += float((step * step).sum())
        if norm <= 0:
            return False
        length = scale / norm
        for name in PRICES:
            price = getattr(self, name)
            np.maximum(price + length * subgradient[name], 0.0, out=price)
        return True


# the Lagrangian runs only when a participant-by-start table of prices is at most this big
# (an iteration then takes well under a second), for at most this many iterations
MAX_PRICES = 3_000_000
MAX_ITERATIONS = 20
# GLOP (the capacity LP) cannot be stopped: it starts only with this much time left, and
# a second more per this many (participant, session) pairs (measured at S and M, busy)
CAPACITY_LP_SECONDS = 2.0
CAPACITY_LP_PAIRS_PER_SECOND = 5000
MIN_LAGRANGIAN_SECONDS = 1.0  # the Lagrangian starts only with this much time left


def tighter_bound(
    conference: Conference,
    grid: TimeGrid,
    sessions: list[PlannedEvent],
    meetings: list[PlannedEvent],
    wanted: dict[str, list[tuple[str, int]]],
    *,
    known: int,
    target: float,
    seconds: float | None,
    notify: Callable[[int], None] | None = None,
) -> int:
    """The least of ``known`` (the transportation bound for these meetings), the capacity
    LP and, when the conference is small enough, the Lagrangian — each valid for every
    schedule holding these meetings — within ``seconds`` (None: no clock, the Lagrangian
    for MAX_ITERATIONS). ``target`` is the best attended weight known (nothing to prove
    below it; the subgradient steps towards it); ``notify`` hears each better bound."""
    started = clock.monotonic()
    best = known

    def better(value: int) -> None:
        nonlocal best
        if value < best:
            best = value
            if notify is not None:
                notify(best)

    def left() -> float:
        return math.inf if seconds is None else seconds - (clock.monotonic() - started)

    pairs = sum(len(wanted.get(e.id, ())) + len(e.people) for e in sessions)
    if best <= target or left() < CAPACITY_LP_SECONDS + pairs / CAPACITY_LP_PAIRS_PER_SECOND:
        return best
    second = capacity_bound(conference, grid, sessions, meetings, wanted)
    if second is not None:
        better(second)
    cells = np.zeros(grid.cells, dtype=bool)
    for event in sessions + meetings:
        cells |= event.allowed
    prices = pairs * int(cells.sum())
    if best <= target or left() < MIN_LAGRANGIAN_SECONDS or prices > MAX_PRICES:
        return best
    lagrangian = LagrangianBound(conference, grid, sessions, meetings, wanted)
    budget = None if seconds is None else left()
    lagrangian.run(target=target, seconds=budget, iterations=MAX_ITERATIONS, notify=better)
    return best


__all__ = ["LagrangeResult", "LagrangianBound", "tighter_bound"]
