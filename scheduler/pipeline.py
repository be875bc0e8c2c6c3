"""The Python API: one way from the organisers' files to the published outputs.

Notebooks and the CLI call these functions; each stage is a function from typed data
to typed data (see docs/architecture.md):

    load -> match -> solve -> check -> export        (run: all of them, published atomically)

Two promises to the organiser are kept by the modules it calls:

- **Nothing half-done is published.** ``export`` writes through `scheduler.publish` into
  a temporary folder next to the output folder, checks what it wrote, and only then swaps
  it in. Invalid inputs, a schedule that breaks a rule, an error or Ctrl-C leave the
  previous outputs as they were.
- **Ctrl-C means stop.** The solve runs in a child process (`scheduler.worker`, which says
  why), so Ctrl-C reaches this process as a normal KeyboardInterrupt.

Reading and comparing written runs is `scheduler.review`; the terminal side of a run is
`scheduler.cli`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.errors import UserError
from scheduler.model import Conference, Matchmaking, PublishedPlan, Schedule

if TYPE_CHECKING:
    from scheduler.publish import Claim
    from scheduler.replan import Published, Version
    from scheduler.solve import Progress


@dataclass(frozen=True)
class Result:
    """One run: what went in, what the solver decided, and where it was published."""

    conference: Conference
    matchmaking: Matchmaking
    schedule: Schedule
    warnings: tuple[str, ...] = ()
    folder: Path | None = None  # the published output folder; None when not written
    seconds: float = 0.0  # the whole run, wall clock
    previous: Published | None = None  # the version a re-plan started from
    version: Version | None = None  # what changed against it (a first run: everything)


class ScheduleRejected(UserError):
    """The schedule breaks a rule; it is not published."""

    def __init__(self, violations: Sequence[str]):
        self.violations = list(violations)
        shown = "\n".join(f"  - {v}" for v in self.violations[:20])
        more = len(self.violations) - 20
        super().__init__(
            f"the schedule breaks {len(self.violations)} rule(s), so nothing was published:\n"
            + shown
            + (f"\n  ... and {more} more" if more > 0 else "")
        )


# --- the stages ------------------------------------------------------------------------


def load(inputs: Path) -> tuple[Conference, list[str]]:
    """Read and validate an input folder; raises InputErrors listing every problem."""
    from scheduler.load import load_conference

    inputs = require_folder(inputs, "input")
    return load_conference(inputs)


def require_folder(folder: Path | str, what: str) -> Path:
    """``folder`` as a Path when it is an existing folder; else a UserError saying what it
    is instead (``what``: "input", "output")."""
    folder = Path(folder)
    if folder.is_dir():
        return folder
    if folder.exists():
        kind = "a file" if folder.is_file() else "a device, pipe or socket"
        raise UserError(f"{folder} is {kind}, not an {what} folder")
    raise UserError(f"the {what} folder {folder} does not exist")


def match(conference: Conference, keep: frozenset[tuple[str, str]] = frozenset()) -> Matchmaking:
    """Which cities meet: partner meetings, new contacts and the match table; a re-plan
    keeps the published new contacts (``keep``) that are still possible."""
    from scheduler.matchmaking import match as _match
    from scheduler.worker import keep_ctrl_c

    with keep_ctrl_c():
        return _match(conference, keep)


def solve(
    conference: Conference,
    matchmaking: Matchmaking,
    *,
    time_limit: float = 120.0,
    seed: int = 0,
    deterministic: bool = False,
    progress: Callable[[Progress], None] | None = None,
    published: PublishedPlan | None = None,
    moves: int = 0,
) -> Schedule:
    """Place every session and meeting and decide who attends (see docs/solver.md);
    a re-plan keeps the ``published`` version where it can, moving at most ``moves``
    kept events further when that raises the attended weight.

    Runs the solver in a child process so that Ctrl-C (KeyboardInterrupt) stops it for
    real; ``progress`` is called here, in this process, with each report of the solver.
    """
    from scheduler.worker import solve_in_child

    return solve_in_child(
        conference,
        matchmaking,
        time_limit=time_limit,
        seed=seed,
        deterministic=deterministic,
        progress=progress,
        published=published,
        moves=moves,
    )


def check(conference: Conference, matchmaking: Matchmaking, schedule: Schedule) -> list[str]:
    """Every rule the schedule breaks (empty: it keeps them all)."""
    from scheduler.check import check as _check

    return _check(conference, matchmaking, schedule)


def deterministic_stamp(conference: Conference) -> datetime:
    """The DTSTAMP of deterministic runs: 00:00 UTC thirty days before the conference's
    first day. It depends only on the inputs, so identical inputs give identical files,
    and it lies before any event, as a real publication date would."""
    day = conference.start - timedelta(days=30)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def export(result: Result, folder: Path, *, stamp: datetime | None = None) -> Path:
    """Publish a run into ``folder``: tables, calendars and invites, agendas.

    Written into a temporary sibling folder first and checked (the written tables against
    every rule); then swapped in (see `scheduler.publish`: only a folder of this tool's
    own is replaced, one run at a time). On any failure or Ctrl-C ``folder`` is
    untouched. ``stamp`` (default: now, UTC) is every calendar's DTSTAMP.
    """
    from scheduler.publish import claimed

    with claimed(folder) as claim:
        return _publish(result, claim, stamp)


def _publish(
    result: Result,
    claim: Claim,
    stamp: datetime | None,
    step: Callable[[str], None] | None = None,
) -> Path:
    from scheduler.check import check_written
    from scheduler.check_replan import check_replan
    from scheduler.export import write_presentations
    from scheduler.export.tables import write_tables
    from scheduler.replan import (
        Published,
        agenda_version,
        cancellations,
        next_version,
        write_state,
    )

    stamp = stamp or datetime.now(UTC).replace(microsecond=0)
    conference, matchmaking, schedule = result.conference, result.matchmaking, result.schedule
    previous = result.previous or Published()
    version = result.version or next_version(previous, conference, matchmaking, schedule)
    cancels = cancellations(version, previous, conference)
    sent = {(c.participant_id, c.event_id) for c in cancels}
    messages = [
        m
        for m in version.messages
        if m.method == "REQUEST" or (m.participant_id, m.event_id) in sent
    ]
    # The published version: its files whose content is unchanged are carried over.
    reuse = previous.folder if previous.folder is not None else claim.folder

    def progress(what: str, done: int, total: int) -> None:
        if step is not None:
            step(f"  writing {what}: {done} of {total}")

    def write(temp: Path) -> None:
        write_tables(conference, matchmaking, schedule, temp, version=version, messages=messages)
        violations: list[str] = []

        def check() -> None:  # what it reads is written by now: the agendas may not be
            violations.extend(check_written(conference, matchmaking, temp))
            if previous.folder is not None:
                violations.extend(check_replan(conference, previous.folder, temp))

        write_presentations(
            conference,
            matchmaking,
            schedule,
            temp,
            stamp=stamp,
            sequences=version.sequences,
            cancellations=cancels,
            previous=reuse,
            progress=progress,
            version=agenda_version(previous, version, schedule, stamp, conference),
            meanwhile=check,
        )
        write_state(temp, version, schedule, stamp)
        if violations:
            raise ScheduleRejected(violations)

    return claim.publish(write)


# --- the whole run ---------------------------------------------------------------------


def run(
    inputs: Path,
    out: Path,
    *,
    time_limit: float = 120.0,
    seed: int = 0,
    deterministic: bool = False,
    progress: Callable[[Progress], None] | None = None,
    step: Callable[[str], None] | None = None,
    stamp: datetime | None = None,
    previous: Path | None = None,
    moves: int = 0,
) -> Result:
    """The whole pipeline: validate, match, solve, check, publish into ``out``.

    With ``previous`` (a published outputs folder, often ``out`` itself) it re-plans: the
    published version is kept where it still fits, and only what changed is sent again
    (docs/workflow.md, "Re-planning"); ``moves`` published events may move further when
    that raises the attended weight.

    Raises InputErrors (invalid inputs) or ScheduleRejected (a rule broken) without writing
    anything; ``out`` is replaced only when everything succeeded. ``step`` is told each
    stage in words, ``progress`` gets the solver's reports. The calendars' DTSTAMP is
    ``stamp``, else now, or for deterministic runs `deterministic_stamp`.
    """
    from scheduler.publish import claimed

    began = time.monotonic()
    say = step or (lambda _text: None)
    say(f"reading {inputs} ...")
    conference, warnings = load(inputs)
    for warning in warnings:
        say(f"warning: {warning}")
    # claimed before a long solve: a folder in the way, or another run writing into it,
    # is said now, not after it
    with claimed(out) as claim:
        published = None
        if previous is not None:
            from scheduler.replan import read_published

            published = read_published(Path(previous))
            say(f"re-planning from version {published.version} in {previous}")
        say(
            f"{len(conference.cities)} cities, {len(conference.participants)} participants, "
            f"{len(conference.sessions)} sessions; matching cities ..."
        )
        matchmaking = match(conference, published.new_contacts if published else frozenset())
        say(
            f"{len(matchmaking.meetings)} meetings to place; solving "
            f"(time limit {time_limit:g} s) ..."
        )
        schedule = solve(
            conference,
            matchmaking,
            time_limit=time_limit,
            seed=seed,
            deterministic=deterministic,
            progress=progress,
            published=published.plan() if published is not None else None,
            moves=moves,
        )
        say("checking the schedule against every rule ...")
        violations = check(conference, matchmaking, schedule)
        if violations:
            raise ScheduleRejected(violations)
        from scheduler.replan import Published, next_version

        version = next_version(published or Published(), conference, matchmaking, schedule)
        result = Result(
            conference, matchmaking, schedule, tuple(warnings), previous=published, version=version
        )
        say(f"writing outputs to {claim.folder} ...")
        if stamp is None and deterministic:
            stamp = deterministic_stamp(conference)
        folder = _publish(result, claim, stamp, say)
    return replace(result, folder=folder, seconds=time.monotonic() - began)
