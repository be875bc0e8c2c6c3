"""The CP-SAT model: places every session and meeting and decides who attends."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from scheduler.model import Conference, Matchmaking, Schedule


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


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 120.0  # seconds, whole solve
    seed: int = 0
    deterministic: bool = False  # identical outputs for identical inputs and seed
    workers: int = max(1, os.cpu_count() or 1)
    progress: Callable[[Progress], None] | None = None


def solve(conference: Conference, matchmaking: Matchmaking, options: SolveOptions) -> Schedule:
    """Place every session and meeting of the conference; see docs/solver.md."""
    raise NotImplementedError("the solver is not built yet")
