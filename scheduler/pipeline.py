"""The Python API: one way from the organisers' files to the published outputs.

Notebooks and the CLI call these functions; each stage is a function from typed data
to typed data (see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scheduler.model import Conference, Matchmaking, Schedule


@dataclass(frozen=True)
class Result:
    conference: Conference
    matchmaking: Matchmaking
    schedule: Schedule
    warnings: tuple[str, ...] = ()


def load(inputs: Path) -> tuple[Conference, list[str]]:
    """Read and validate an input folder; raises InputErrors listing every problem."""
    from scheduler.load import load_conference

    return load_conference(Path(inputs))


def match(conference: Conference) -> Matchmaking:
    from scheduler.matchmaking import match as _match

    return _match(conference)
