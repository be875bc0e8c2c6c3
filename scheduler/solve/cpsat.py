"""One way to set up a CP-SAT solver for every model of the solver."""

from __future__ import annotations

from ortools.sat.python import cp_model


def new_solver(
    *, workers: int, seed: int, deterministic: bool, seconds: float
) -> cp_model.CpSolver:
    """A CP-SAT solver with the run's workers and seed. Deterministic runs stop on a
    deterministic time limit (work done), others on the wall clock."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = max(1, workers)
    params.random_seed = seed
    if deterministic:
        params.interleave_search = True
        params.max_deterministic_time = seconds
    else:
        params.max_time_in_seconds = seconds
    return solver
