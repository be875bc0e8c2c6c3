"""The solve's time budget: every share derived from ``time_limit``, in one place.

    placement   85 %  greedy, then CP-SAT when the greedy leaves events out (half of
                      what is left of placement), then the local search with its
                      rearrangements (at most 10 s of CP-SAT each) until the 85 % are used
    attendance  15 %  the CP-SAT polish of who attends (only when a capacity binds):
                      what is left of the time limit
    bound             the tighter bounds (lagrange.py) in what is left after that, at
                      most 10 % of the time limit; none is taken from the search
                      (lagrange.py starts each of its two bounds only when enough of
                      that is left: CAPACITY_LP_SECONDS, MIN_LAGRANGIAN_SECONDS)

With the clock (the default) the shares are deadlines: a phase stops when its share of
the wall clock is used, and a later phase gets what is left; a CP-SAT phase with less
than a second left is skipped. Under ``deterministic`` no decision reads the clock, so
that the same inputs and seed give the same schedule on any machine, however busy:
CP-SAT gets the same shares as *deterministic time* (its own measure of work, about a
second per unit on this kind of machine): the placement model 85 % × 50 % = 42.5 %, all
rearrangements together 40 %, the polish 15 %; the local search runs a fixed number of
passes, the tighter bounds a fixed number of iterations, the polish runs whenever a
capacity binds, and the local search takes no schedule on the clock's word (what is
kept would depend on when). ``elapsed`` reads the clock for the progress line and
``solve_seconds`` only.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field

PLACEMENT_SHARE = 0.85  # of the time limit: placement; the rest is for attendance
PLACEMENT_CP_SAT_SHARE = 0.5  # of what is left of placement, when the greedy leaves events out
REARRANGE_SHARE = 0.4  # of the time limit: all rearrangements' CP-SAT work (deterministic)
REARRANGE_SECONDS = 10.0  # at most, for one rearrangement
DETERMINISTIC_PASSES = 3  # local-search passes in deterministic mode
REPORT_EVERY = 10.0  # seconds between complete schedules reported during local search
BOUND_SHARE = 0.1  # of the time limit, at most: the tighter bounds after the search
MIN_CP_SAT_SECONDS = 0.5  # below this a CP-SAT run is not worth starting
MIN_PHASE_SECONDS = 1.0  # a CP-SAT phase with less than this left on the clock is skipped


@dataclass
class Budget:
    """How long each phase of one solve may take (see the module doc)."""

    time_limit: float
    deterministic: bool
    started: float = field(default_factory=clock.monotonic)

    def elapsed(self) -> float:
        """Wall time since the start: for progress reports and ``solve_seconds`` only."""
        return clock.monotonic() - self.started

    @property
    def placement_deadline(self) -> float:
        """The monotonic clock time at which placement stops (not used deterministically)."""
        return self.started + self.time_limit * PLACEMENT_SHARE

    def placement_left(self) -> float:
        """Seconds of placement left on the clock."""
        return self.placement_deadline - clock.monotonic()

    def greedy_deadline(self) -> float | None:
        """When the greedy's re-insertion passes stop; None: until nothing moves."""
        return None if self.deterministic else self.placement_deadline

    def placement_cp_sat(self) -> float | None:
        """Seconds (or deterministic time) for the placement model; None: skip it."""
        if self.deterministic:
            return self.time_limit * PLACEMENT_SHARE * PLACEMENT_CP_SAT_SHARE
        left = self.placement_left()
        if left < MIN_PHASE_SECONDS:
            return None
        return max(MIN_CP_SAT_SECONDS, PLACEMENT_CP_SAT_SHARE * left)

    def local_search(self) -> bool:
        """Whether the local search starts at all."""
        return self.deterministic or self.placement_left() > 0

    def local_search_passes(self) -> int | None:
        """Passes of the local search; None: until the placement deadline."""
        return DETERMINISTIC_PASSES if self.deterministic else None

    def report_due(self, since: float) -> bool:
        """Whether the local search should report a complete schedule now, the last one
        having been at ``elapsed() == since``: every REPORT_EVERY seconds; never when
        deterministic (a schedule reported is also kept, which must not depend on when)."""
        return not self.deterministic and self.elapsed() - since >= REPORT_EVERY

    def rearrangement(self, work_done: float) -> float | None:
        """Seconds (or deterministic time) for the next rearrangement; None: no more.
        ``work_done`` is the deterministic time the rearrangements used so far."""
        if self.deterministic:
            left = self.time_limit * REARRANGE_SHARE - work_done
        else:
            left = self.placement_left()
        seconds = min(REARRANGE_SECONDS, left)
        return seconds if seconds >= MIN_CP_SAT_SECONDS else None

    def tighter_bound(self) -> float | None:
        """Seconds for the tighter bounds after the search; None: a fixed number of
        iterations (deterministic). Never more than what is left of the time limit."""
        if self.deterministic:
            return None
        left = self.time_limit - self.elapsed() - MIN_CP_SAT_SECONDS
        return max(0.0, min(left, self.time_limit * BOUND_SHARE))

    def attendance(self) -> float | None:
        """Seconds (or deterministic time) for the attendance polish; None: skip it."""
        if self.deterministic:
            return self.time_limit * (1 - PLACEMENT_SHARE)
        left = self.time_limit - self.elapsed()
        return left - MIN_CP_SAT_SECONDS if left > MIN_PHASE_SECONDS else None


__all__ = ["Budget"]
