"""The solve's time budget: every share derived from ``time_limit``, in one place.

    placement  85 %   greedy, CP-SAT when the greedy leaves events out (half of what is
                      left of placement), local search with rearrangements
    attendance 15 %   the CP-SAT polish of who attends (only when a capacity binds)

With the clock (the default) the shares are deadlines: a phase stops when its share of
the wall clock is used, and a later phase gets what is left. Under ``deterministic`` no
decision reads the clock, so that the same inputs and seed give the same schedule on any
machine, however busy: CP-SAT gets the same shares as *deterministic time* (its own
measure of work, about a second per unit on this kind of machine), the local search runs
a fixed number of passes, the rearrangements stop when their CP-SAT work reaches their
share, and the polish runs whenever a capacity binds.
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
MIN_CP_SAT_SECONDS = 0.5  # below this a CP-SAT run is not worth starting


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
        if left < 1.0:
            return None
        return max(MIN_CP_SAT_SECONDS, PLACEMENT_CP_SAT_SHARE * left)

    def local_search(self) -> bool:
        """Whether the local search starts at all."""
        return self.deterministic or self.placement_left() > 0

    def local_search_passes(self) -> int | None:
        """Passes of the local search; None: until the placement deadline."""
        return DETERMINISTIC_PASSES if self.deterministic else None

    def rearrangement(self, work_done: float) -> float | None:
        """Seconds (or deterministic time) for the next rearrangement; None: no more.
        ``work_done`` is the deterministic time the rearrangements used so far."""
        if self.deterministic:
            left = self.time_limit * REARRANGE_SHARE - work_done
        else:
            left = self.placement_left()
        seconds = min(REARRANGE_SECONDS, left)
        return seconds if seconds >= MIN_CP_SAT_SECONDS else None

    def attendance(self) -> float | None:
        """Seconds (or deterministic time) for the attendance polish; None: skip it."""
        if self.deterministic:
            return self.time_limit * (1 - PLACEMENT_SHARE)
        left = self.time_limit - self.elapsed()
        return left - MIN_CP_SAT_SECONDS if left > 1.0 else None


__all__ = ["REPORT_EVERY", "Budget"]
