"""The Python API: one way from the organisers' files to the published outputs.

Notebooks and the CLI call these functions; each stage is a function from typed data
to typed data (see docs/architecture.md):

    load -> match -> solve -> check -> export        (run: all of them, published atomically)

Two promises to the organiser live here:

- **Nothing half-done is published.** ``export`` writes into a temporary folder next to
  the output folder, checks what it wrote, and only then swaps it in. Invalid inputs, a
  schedule that breaks a rule, an error or Ctrl-C leave the previous outputs as they were.
- **Ctrl-C means stop.** CP-SAT catches SIGINT itself: it ends the search and returns its
  best schedule as if the time were up, so a run could not tell an interrupted solve from a
  finished one. The solve therefore runs in a child process; Ctrl-C reaches this process
  as a normal KeyboardInterrupt, the child is ended and nothing is written.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scheduler.errors import UserError
from scheduler.model import Conference, Matchmaking, Schedule, satisfaction

if TYPE_CHECKING:
    import pandas as pd

    from scheduler.solve import Progress

# The files that mark a folder as one this tool wrote: only such a folder (or an empty
# one) is replaced as a whole by `export`.
_OUTPUT_MARKERS = ("report.json", "schedule.csv")

# How many unscheduled items the end-of-run summary names before it only counts.
_UNSCHEDULED_SHOWN = 5


@dataclass(frozen=True)
class Result:
    """One run: what went in, what the solver decided, and where it was published."""

    conference: Conference
    matchmaking: Matchmaking
    schedule: Schedule
    warnings: tuple[str, ...] = ()
    folder: Path | None = None  # the published output folder; None when not written
    seconds: float = 0.0  # the whole run, wall clock


class ScheduleRejected(UserError):
    """The schedule breaks a rule of the contract; it is not published."""

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

    inputs = Path(inputs)
    if not inputs.is_dir():
        raise UserError(f"the input folder {inputs} does not exist")
    return load_conference(inputs)


def match(conference: Conference) -> Matchmaking:
    """Which cities meet: partner meetings, new contacts and the match table."""
    from scheduler.matchmaking import match as _match

    with _keep_ctrl_c():
        return _match(conference)


def solve(
    conference: Conference,
    matchmaking: Matchmaking,
    *,
    time_limit: float = 120.0,
    seed: int = 0,
    deterministic: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> Schedule:
    """Place every session and meeting and decide who attends (see docs/solver.md).

    Runs the solver in a child process so that Ctrl-C (KeyboardInterrupt) stops it for
    real; ``progress`` is called here, in this process, with each report of the solver.
    """
    import scheduler

    # A fresh interpreter (not fork: the solver runs threads; not multiprocessing's spawn:
    # it would re-run the caller's script). Requests and replies travel over two pipes.
    to_child_read, to_child_write = os.pipe()
    from_child_read, from_child_write = os.pipe()
    package_root = str(Path(scheduler.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "from scheduler.pipeline import _solve_in_child; "
                f"_solve_in_child({to_child_read}, {from_child_write})"
            ),
        ],
        pass_fds=(to_child_read, from_child_write),
        env=env,
        # Its own session: Ctrl-C on a terminal reaches only this process, which decides
        # what it means and ends the child.
        start_new_session=True,
    )
    os.close(to_child_read)
    os.close(from_child_write)
    requests = Connection(to_child_write, readable=False)
    replies = Connection(from_child_read, writable=False)
    try:
        requests.send((conference, matchmaking, time_limit, seed, deterministic))
        while True:
            if not replies.poll(0.2):
                continue
            try:
                kind, payload = replies.recv()
            except EOFError:
                raise RuntimeError(
                    f"the solver process ended unexpectedly (exit code {child.wait()})"
                ) from None
            if kind == "progress":
                if progress is not None:
                    progress(payload)
            elif kind == "done":
                return payload
            else:  # "error": the child's exception, raised here
                raise payload
    finally:
        requests.close()
        replies.close()
        if child.poll() is None:
            child.kill()  # interrupted or failed here: the child's work is not wanted
        child.wait()


def _solve_in_child(requests_fd: int, replies_fd: int) -> None:
    """The child's side of `solve`: read the request, solve, send progress reports and the
    schedule (or the error)."""
    from scheduler.solve import SolveOptions
    from scheduler.solve import solve as _solve

    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    conference, matchmaking, time_limit, seed, deterministic = requests.recv()
    requests.close()
    lock = threading.Lock()  # the solver may report from its own threads

    def send(message: tuple[str, Any]) -> None:
        with lock:
            replies.send(message)

    options = SolveOptions(
        time_limit=time_limit,
        seed=seed,
        deterministic=deterministic,
        progress=lambda p: send(("progress", p)),
    )
    try:
        send(("done", _solve(conference, matchmaking, options)))
    except BaseException as error:  # noqa: BLE001 - every failure must reach the parent
        send(("error", _portable(error)))
    finally:
        replies.close()


def _portable(error: BaseException) -> BaseException:
    """An exception that survives pickling: user errors keep their message, anything else
    becomes a RuntimeError carrying the child's traceback."""
    if isinstance(error, UserError):
        return UserError(str(error))
    text = "".join(traceback.format_exception(error))
    return RuntimeError(f"the solver failed:\n{text}")


def check(conference: Conference, matchmaking: Matchmaking, schedule: Schedule) -> list[str]:
    """Every rule of the contract the schedule breaks (empty: it keeps them all)."""
    from scheduler.check import check as _check

    return _check(conference, matchmaking, schedule)


def deterministic_stamp(conference: Conference) -> datetime:
    """The DTSTAMP of deterministic runs: 00:00 UTC thirty days before the conference's
    first day. It depends only on the inputs, so identical inputs give identical files,
    and it lies before any event, as a real publication date would."""
    day = conference.start - timedelta(days=30)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def export(
    result: Result,
    folder: Path,
    *,
    stamp: datetime | None = None,
    step: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Publish a run into ``folder``: tables, calendars and invites, agendas.

    Written into a temporary sibling folder first and checked (the written tables against
    every rule); then the old folder is moved aside, the new one moved in, the old one
    deleted. On any failure or Ctrl-C the temporary folder is removed and ``folder`` is
    untouched. ``stamp`` (default: now, UTC) is the DTSTAMP of every calendar written
    anew; ``step`` is told what is being written and how far (what, done, total).
    """
    from scheduler.check import check_written
    from scheduler.export import write_presentations
    from scheduler.export.tables import write_tables

    out = Path(folder).absolute()
    _refuse_foreign_folder(out)
    stamp = stamp or datetime.now(UTC).replace(microsecond=0)
    conference, matchmaking, schedule = result.conference, result.matchmaking, result.schedule
    _clean_up_after_dead_runs(out)
    temp = out.with_name(f".{out.name}-tmp-{os.getpid()}")  # hidden; .gitignore knows it
    shutil.rmtree(temp, ignore_errors=True)
    try:
        temp.mkdir(parents=True)
        write_tables(conference, matchmaking, schedule, temp)
        # Files whose content is unchanged against the published outputs are carried over.
        previous = out if out.is_dir() else None
        write_presentations(
            conference, matchmaking, schedule, temp, stamp=stamp, previous=previous, progress=step
        )
        violations = check_written(conference, matchmaking, temp)
        if violations:
            raise ScheduleRejected(violations)
        _swap_in(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return out


def _counting(say: Callable[[str], None]) -> Callable[[str, int, int], None]:
    """The export's progress (what, done, total) as lines for ``say``."""
    return lambda what, done, total: say(f"  writing {what}: {done} of {total}")


def _refuse_foreign_folder(out: Path) -> None:
    """The output folder is replaced as a whole: refuse one that holds anything else."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file, not an output folder")
    looks_like_outputs = any((out / marker).is_file() for marker in _OUTPUT_MARKERS)
    if out.is_dir() and any(out.iterdir()) and not looks_like_outputs:
        raise UserError(
            f"{out} is not empty and holds no earlier outputs (no report.json); the "
            "output folder is replaced as a whole, so choose an empty or new folder"
        )


def _swap_in(temp: Path, out: Path) -> None:
    """Move ``temp`` into the place of ``out``: two renames, the old folder restored if the
    second one fails, so ``out`` is always either the old or the new outputs."""
    old = out.with_name(f".{out.name}-old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    had_old = out.exists()
    if had_old:
        os.replace(out, old)
    try:
        os.replace(temp, out)
    except BaseException:
        if had_old and not out.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _clean_up_after_dead_runs(out: Path) -> None:
    """Tidy what a run killed outright (power cut, SIGKILL) left next to ``out``: its
    half-written folder goes; previous outputs it had set aside come back if ``out`` is
    missing. Folders of runs still alive (another run into the same folder) stay."""
    for sibling in sorted(out.parent.glob(f".{out.name}-*-*")):
        kind, _, pid = sibling.name[len(out.name) + 2 :].partition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        if kind == "old" and not out.exists():
            os.replace(sibling, out)
        else:
            shutil.rmtree(sibling, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's process
    return True


@contextmanager
def _keep_ctrl_c() -> Iterator[None]:
    """Re-install this process's Ctrl-C handler after a CP-SAT call in this process:
    CP-SAT leaves SIGINT at the system default afterwards, which would kill the process
    without cleaning up (e.g. in the middle of writing outputs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        if handler is not None:
            signal.signal(signal.SIGINT, handler)


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
) -> Result:
    """The whole pipeline: validate, match, solve, check, publish into ``out``.

    Raises InputErrors (invalid inputs) or ScheduleRejected (a rule broken) without writing
    anything; ``out`` is replaced only when everything succeeded. ``step`` is told each
    stage in words, ``progress`` gets the solver's reports. The calendars' DTSTAMP is
    ``stamp``, else now, or for deterministic runs `deterministic_stamp`.
    """
    began = time.monotonic()
    say = step or (lambda _text: None)
    say(f"reading {inputs} ...")
    conference, warnings = load(inputs)
    for warning in warnings:
        say(f"warning: {warning}")
    _refuse_foreign_folder(Path(out).absolute())  # before a long solve, not after it
    say(
        f"{len(conference.cities)} cities, {len(conference.participants)} participants, "
        f"{len(conference.sessions)} sessions; matching cities ..."
    )
    matchmaking = match(conference)
    say(f"{len(matchmaking.meetings)} meetings to place; solving (time limit {time_limit:g} s) ...")
    schedule = solve(
        conference,
        matchmaking,
        time_limit=time_limit,
        seed=seed,
        deterministic=deterministic,
        progress=progress,
    )
    say("checking the schedule against every rule ...")
    violations = check(conference, matchmaking, schedule)
    if violations:
        raise ScheduleRejected(violations)
    result = Result(conference, matchmaking, schedule, tuple(warnings))
    say(f"writing outputs to {out} ...")
    if stamp is None and deterministic:
        stamp = deterministic_stamp(conference)
    folder = export(result, out, stamp=stamp, step=_counting(say))
    return Result(
        conference,
        matchmaking,
        schedule,
        tuple(warnings),
        folder=folder,
        seconds=time.monotonic() - began,
    )


# --- reading and comparing runs --------------------------------------------------------


def read_outputs(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of a written run as typed DataFrames: ``schedule``, ``attendance``,
    ``matches``, ``unscheduled`` (start/end as UTC timestamps)."""
    from scheduler.export.tables import read_tables

    _require_outputs(Path(folder))
    return read_tables(Path(folder))


def _require_outputs(folder: Path) -> None:
    if not (folder / "report.json").is_file():
        raise UserError(
            f"no outputs in {folder}: run `make run` (or `scheduler run INPUTS --out {folder}`) "
            "first, or point SCHEDULER_OUTPUTS at the output folder of a run"
        )


def read_report(folder: Path) -> dict[str, Any]:
    """report.json of a written run."""
    from scheduler.export.tables import read_report as _read_report

    _require_outputs(Path(folder))
    return _read_report(Path(folder))


def tables(result: Result) -> dict[str, pd.DataFrame]:
    """The tables of an in-memory run, exactly as `export` would write them."""
    from scheduler.export.tables import table_frames

    return table_frames(result.conference, result.matchmaking, result.schedule)


def summary(result: Result) -> dict[str, Any]:
    """The numbers an organiser looks at first, by label (used by `compare` and the CLI)."""
    from scheduler.export.tables import unscheduled_items

    conference, matchmaking, schedule = result.conference, result.matchmaking, result.schedule
    placed = {e.event_id for e in schedule.events}
    kinds = [e.kind for e in schedule.events]
    meetings = matchmaking.meetings
    happy = satisfaction(conference, schedule)
    worst = happy.worst_city
    worst_name = ""
    if worst is not None:
        city = conference.cities_by_id.get(worst[0])
        worst_name = f"{city.name if city else worst[0]} ({worst[1]:.1%})"
    partner = [m for m in meetings if m.kind == "partner_meeting"]
    contacts = [m for m in meetings if m.kind == "new_contact_meeting"]
    partner_wanted = len(partner) + sum(
        1 for i in matchmaking.impossible if i.kind == "partner_meeting"
    )
    return {
        "events placed": len(schedule.events),
        "sessions placed": f"{sum(k in ('plenary', 'workshop') for k in kinds)} of "
        f"{len(conference.sessions)}",
        "partner meetings placed": f"{sum(m.id in placed for m in partner)} of {partner_wanted}",
        "new contacts placed": f"{sum(m.id in placed for m in contacts)} of {len(contacts)}",
        "unscheduled": len(unscheduled_items(matchmaking, schedule)),
        "satisfaction": round(happy.overall, 4),
        "worst city": worst_name,
        "objective": schedule.objective,
        "bound": schedule.bound,
        "gap": round(schedule.gap, 4),
        "status": schedule.status,
        "solve seconds": round(schedule.solve_seconds, 1),
    }


def compare(
    result_a: Result, result_b: Result, *, names: tuple[str, str] = ("before", "after")
) -> pd.DataFrame:
    """Two runs side by side: events placed, meetings, satisfaction, worst city,
    objective, bound, gap, solve time (one row per measure, one column per run)."""
    import pandas as pd

    first, second = summary(result_a), summary(result_b)
    return pd.DataFrame({names[0]: first, names[1]: second}, dtype=object)


def notebook_folders() -> tuple[Path, Path]:
    """The input and output folders a notebook works on: ``SCHEDULER_INPUTS`` and
    ``SCHEDULER_OUTPUTS`` when set, else ``inputs/`` and ``outputs/`` of the checkout
    (found from the working directory, e.g. ``notebooks/``, or from this package)."""
    import scheduler

    candidates = [Path.cwd(), *Path.cwd().parents, Path(scheduler.__file__).resolve().parent.parent]
    root = next(
        (c for c in candidates if (c / "pyproject.toml").is_file() and (c / "inputs").is_dir()),
        candidates[-1],
    )
    inputs = Path(os.environ.get("SCHEDULER_INPUTS") or root / "inputs")
    outputs = Path(os.environ.get("SCHEDULER_OUTPUTS") or root / "outputs")
    return inputs, outputs


def wanted_sessions(conference: Conference, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per participant and session they want (w > 0), from a run's tables
    (`read_outputs` or `tables`): ``participant_id, name, city_id, role, session_id,
    theme, weight, attended`` and ``why_missed``, the first rule that explains a missed
    session, in words ("" when attended).

    Satisfaction by participant, city or theme is a group-by of this table (attended
    weight over weight), the same measure as report.json.
    """
    import pandas as pd

    schedule = frames["schedule"]
    spans = {
        row.event_id: (row.start.to_pydatetime(), row.end.to_pydatetime(), int(row.attendees))
        for row in schedule.itertuples()
    }
    not_placed = dict(zip(frames["unscheduled"]["item_id"], frames["unscheduled"]["reason"]))
    agenda: dict[str, set[str]] = {}
    for row in frames["attendance"].itertuples():
        agenda.setdefault(row.participant_id, set()).add(row.event_id)
    absences: dict[str, list[Any]] = {}
    for absence in conference.unavailability:
        absences.setdefault(absence.participant_id, []).append(absence)

    rows = []
    for person in conference.participants:
        mine = agenda.get(person.id, set())
        for session in conference.sessions:
            weight = conference.wanted_weight(person, session)
            if weight <= 0:
                continue
            attended = session.id in mine
            why = (
                ""
                if attended
                else _why_missed(
                    conference,
                    person,
                    session,
                    spans,
                    not_placed,
                    mine,
                    absences.get(person.id, []),
                )
            )
            rows.append(
                {
                    "participant_id": person.id,
                    "name": person.name,
                    "city_id": person.city_id,
                    "role": person.role,
                    "session_id": session.id,
                    "theme": session.theme,
                    "weight": weight,
                    "attended": attended,
                    "why_missed": why,
                }
            )
    columns = ["participant_id", "name", "city_id", "role", "session_id", "theme", "weight"]
    return pd.DataFrame(rows, columns=[*columns, "attended", "why_missed"])


def _why_missed(
    conference: Conference,
    person: Any,
    session: Any,
    spans: dict[str, tuple[datetime, datetime, int]],
    not_placed: dict[str, str],
    mine: set[str],
    absences: list[Any],
) -> str:
    """The first reason, in the order an organiser would look, why a participant does not
    attend a session they want. A diagnosis for people, not a rule: check.py is the rule."""
    from scheduler.solve.availability import holiday_name, local_day_hours

    if session.id not in spans:
        return f"not scheduled: {not_placed.get(session.id, 'no reason given')}"
    start, end, attendees = spans[session.id]
    rules = conference.calendar
    city = conference.city_of(person)
    # first their own time: absent, outside their hours, not a working day there
    for absence in absences:
        if absence.start < end and start < absence.end:
            return f"unavailable ({absence.reason})" if absence.reason else "unavailable"
    local_start, local_end = start.astimezone(city.zone), end.astimezone(city.zone)
    day = local_start.date()
    day_start, day_end = local_day_hours(conference, person.role)
    if local_start.time() < day_start or local_end.date() > day or local_end.time() > day_end:
        return f"outside their hours ({day_start:%H:%M}-{day_end:%H:%M} local)"
    if local_start.weekday() not in rules.weekdays:
        return "not a conference weekday where they live"
    holiday = rules.public_holidays and holiday_name(city.country, city.region, day)
    if holiday:
        return f"public holiday where they live ({holiday})"
    # then their agenda: another event at that time, the day already full
    gap = timedelta(minutes=rules.buffer_minutes)
    for event_id in sorted(mine & spans.keys()):
        other_start, other_end, _ = spans[event_id]
        if other_start < end + gap and start < other_end + gap:
            return f"clashes with {event_id}"
    same_day = [e for e in mine & spans.keys() if spans[e][0].astimezone(city.zone).date() == day]
    if len(same_day) >= rules.max_events_per_day:
        return f"day full ({len(same_day)} events on {day.isoformat()})"
    # then the session itself
    if session.capacity is not None and attendees >= session.capacity:
        return f"session full ({attendees} of {session.capacity})"
    return "not chosen (no rule found that blocks it: a longer solve may add it)"


# --- the command line ------------------------------------------------------------------


class _ProgressLine:
    """The solver's progress on stderr: on a terminal one line rewritten in place, its
    clock ticking every second between the solver's reports; otherwise (a log file) a
    plain line when the phase changes and at most every ten seconds."""

    EVERY_SECONDS = 10.0  # plain-line mode: at most one line this often per phase

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.live = stream.isatty()
        self.lock = threading.Lock()  # the ticker and the solver's reports both write
        self.shown: Progress | None = None  # what the live line shows
        self.shown_at = 0.0
        self.ticker: threading.Thread | None = None
        self.stopped = threading.Event()
        self.phase = ""
        self.last = -1e9

    def step(self, text: str) -> None:
        self.end_line()
        print(text, file=self.stream, flush=True)

    def progress(self, p: Progress) -> None:
        if not self.live:
            if p.phase != self.phase or time.monotonic() - self.last >= self.EVERY_SECONDS:
                print(self._text(p, p.elapsed), file=self.stream, flush=True)
                self.last = time.monotonic()
            self.phase = p.phase
            return
        with self.lock:
            self.shown, self.shown_at = p, time.monotonic()
            self._draw()
        if self.ticker is None:
            self.stopped.clear()
            self.ticker = threading.Thread(target=self._tick, daemon=True)
            self.ticker.start()

    def end_line(self) -> None:
        """Close the live line (before any other message, and at the end)."""
        if self.ticker is not None:
            self.stopped.set()
            self.ticker.join()
            self.ticker = None
        with self.lock:
            if self.shown is not None:
                self.stream.write("\n")
                self.stream.flush()
                self.shown = None

    def _tick(self) -> None:
        while not self.stopped.wait(1.0):
            with self.lock:
                if self.shown is not None:
                    self._draw()

    def _draw(self) -> None:
        assert self.shown is not None
        elapsed = self.shown.elapsed + time.monotonic() - self.shown_at
        self.stream.write("\r\033[K" + self._text(self.shown, elapsed))
        self.stream.flush()

    @staticmethod
    def _text(p: Progress, elapsed: float) -> str:
        gap = f"{p.gap:.1%}" if p.bound > 0 else "-"
        minutes, seconds = divmod(int(elapsed), 60)
        return (
            f"  {p.phase}: attended weight {p.objective:g}, bound {p.bound:g}, "
            f"gap {gap}, {minutes}:{seconds:02d}"
        )


def report_lines(result: Result) -> list[str]:
    """The end-of-run summary the CLI prints, one measure per line."""
    from scheduler.export.tables import unscheduled_items

    numbers = summary(result)
    happy = satisfaction(result.conference, result.schedule)
    items = unscheduled_items(result.matchmaking, result.schedule)
    schedule = result.schedule
    rows = [
        ("events placed", f"{numbers['events placed']} (sessions {numbers['sessions placed']})"),
        ("partner meetings placed", numbers["partner meetings placed"]),
        ("new contacts placed", numbers["new contacts placed"]),
        (
            "satisfaction",
            f"{happy.overall:.1%} overall; worst city {numbers['worst city'] or '-'}",
        ),
        (
            "gap to the bound",
            (
                f"{schedule.gap:.2%} (attended weight {schedule.objective:g}, "
                f"bound {schedule.bound:g}, {schedule.status})"
            ),
        ),
        ("time", f"solve {schedule.solve_seconds:.1f} s, whole run {result.seconds:.1f} s"),
        ("unscheduled", len(items)),
    ]
    lines = [f"published to {result.folder}"]
    lines += [f"  {label:<24} {value}" for label, value in rows]
    for item in items[:_UNSCHEDULED_SHOWN]:
        lines.append(f"    - {item.item_id} ({item.kind}): {item.reason}")
    if len(items) > _UNSCHEDULED_SHOWN:
        lines.append(f"    ... and {len(items) - _UNSCHEDULED_SHOWN} more (see unscheduled.csv)")
    return lines


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Treat SIGTERM (a job scheduler or `docker stop` ending the run) like Ctrl-C, so the
    half-written folder and the solver process are cleaned up too."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_cli(
    inputs: Path,
    out: Path,
    *,
    time_limit: float = 120.0,
    seed: int = 0,
    deterministic: bool = False,
) -> int:
    """`scheduler run`: the whole pipeline with progress on stderr and a summary on stdout.

    Returns the exit code: 0 published, 1 the schedule broke a rule (nothing published).
    Input errors (UserError) and Ctrl-C propagate to the CLI, which reports them (exit 2
    and 130); the output folder is untouched in every case but success.
    """
    line = _ProgressLine(sys.stderr)
    try:
        with _stop_on_sigterm():
            result = run(
                inputs,
                out,
                time_limit=time_limit,
                seed=seed,
                deterministic=deterministic,
                progress=line.progress,
                step=line.step,
            )
    except ScheduleRejected as rejected:
        line.end_line()
        print(f"error: {rejected}", file=sys.stderr)
        return 1
    finally:
        line.end_line()
    print("\n".join(report_lines(result)))
    return 0
