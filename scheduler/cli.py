"""Command line: arguments in, pipeline functions called, messages out.

Besides the arguments it holds the terminal side of a run: the solver's progress line on
stderr, the end-of-run summary on stdout, SIGTERM treated like Ctrl-C, and the exit
codes. User errors (bad inputs, missing folders) print a message and exit with code 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scheduler.errors import UserError

if TYPE_CHECKING:
    from scheduler.pipeline import Result
    from scheduler.solve import Progress

# How many unscheduled items the end-of-run summary names before it only counts.
_UNSCHEDULED_SHOWN = 5


# --- a run on the terminal ----------------------------------------------------------


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
        minutes, seconds = divmod(int(elapsed), 60)
        if p.phase == "placement":
            # the placement model's own objective (meetings first, then an estimate of
            # attendance): not attended weight, and its bound is not the schedule's
            return (
                f"  placement: model objective {p.objective:g} "
                f"(its bound {p.bound:g}), {minutes}:{seconds:02d}"
            )
        gap = f"{p.gap:.1%}" if p.bound > 0 else "-"
        return (
            f"  {p.phase}: attended weight {p.objective:g}, bound {p.bound:g}, "
            f"gap {gap}, {minutes}:{seconds:02d}"
        )


def report_lines(result: Result) -> list[str]:
    """The end-of-run summary the CLI prints, one measure per line."""
    from scheduler.model import satisfaction
    from scheduler.review import summary

    numbers = summary(result)
    happy = satisfaction(result.conference, result.schedule)
    items = result.schedule.unscheduled
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
    version = result.version
    if version is not None and result.previous is not None:
        rows += [
            (
                "changes",
                (
                    f"version {version.number}: {version.events_moved} events moved, "
                    f"{version.events_cancelled} cancelled, {version.events_added} added"
                ),
            ),
            (
                "participants affected",
                (
                    f"{version.participants_affected} ({len(version.messages)} messages in "
                    "outbox.csv, see changes.csv)"
                ),
            ),
            (
                "attended weight",
                f"{version.attended_weight_before:g} before, {schedule.objective:g} after",
            ),
        ]
        rows += [
            (f"extra move {eid}", f"+{gain:g} attended weight")
            for eid, gain in sorted(schedule.extra_moves.items())
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
    previous: Path | None = None,
    moves: int = 0,
) -> int:
    """`scheduler run`: the whole pipeline with progress on stderr and a summary on stdout.

    Returns the exit code: 0 published, 1 the schedule broke a rule (nothing published).
    Input errors (UserError) and Ctrl-C propagate to the CLI, which reports them (exit 2
    and 130); the output folder is untouched in every case but success.
    """
    from scheduler.pipeline import ScheduleRejected, run

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
                previous=previous,
                moves=moves,
            )
    except ScheduleRejected as rejected:
        line.end_line()
        print(f"error: {rejected}", file=sys.stderr)
        return 1
    finally:
        line.end_line()
    print("\n".join(report_lines(result)))
    return 0


# --- the commands ---------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    from scheduler import pipeline
    from scheduler.summary import summarize

    conference, warnings = pipeline.load(args.inputs)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(summarize(conference))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    return run_cli(
        args.inputs,
        args.out,
        time_limit=args.time_limit,
        seed=args.seed,
        deterministic=args.deterministic,
        previous=args.previous,
        moves=args.moves,
    )


def _cmd_check(args: argparse.Namespace) -> int:
    from scheduler.check import check_outputs

    violations = check_outputs(args.inputs, args.outputs)
    if args.previous is not None:
        from scheduler import pipeline
        from scheduler.check_replan import check_replan

        conference, _warnings = pipeline.load(args.inputs)
        violations += check_replan(conference, args.previous, args.outputs)
    if violations:
        print(f"{len(violations)} violation(s):")
        for violation in violations:
            print(f"  - {violation}")
        return 1
    print("no violations: the schedule keeps every rule")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from scheduler.generate import generate, shape_from_args

    generate(
        args.out,
        cities=args.cities,
        participants=args.participants,
        sessions=args.sessions,
        seed=args.seed,
        force=args.force,
        shape=shape_from_args(args),
    )
    print(f"wrote a synthetic conference to {args.out}")
    return 0


def _seconds(text: str) -> float:
    """A positive number of seconds; anything else is a usage message (exit code 2)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _count(text: str) -> int:
    """A whole number >= 0; anything else is a usage message (exit code 2)."""
    if not text.isdigit() or int(text) > 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 0 to 10000")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scheduler",
        description="Matchmaking and scheduling for virtual city-partnership conferences.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check an input folder and print a summary",
        description="Check every file of an input folder. Prints every problem found "
        "(file, row, column, what is expected) or, when all is well, a summary of the "
        "conference: cities, partnerships, participants, languages, sessions.",
    )
    validate.add_argument("inputs", type=Path, help="the input folder (conference.toml, *.csv)")
    validate.set_defaults(func=_cmd_validate)

    run = commands.add_parser(
        "run",
        help="the whole pipeline: validate, match, solve, check, write outputs",
        description="Validate the inputs, match cities, place every session and meeting, "
        "check the schedule against every rule and write all outputs (tables, calendars, "
        "invites, agendas). Outputs are replaced only when the whole run succeeds.",
    )
    run.add_argument("inputs", type=Path, help="the input folder")
    run.add_argument("--out", type=Path, required=True, help="the output folder to write")
    run.add_argument(
        "--time-limit",
        type=_seconds,
        default=120.0,
        metavar="SECONDS",
        help="time the solver may use in total (default: 120)",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed of the solver (default: 0)")
    run.add_argument(
        "--deterministic",
        action="store_true",
        help="identical outputs for identical inputs and seed (slower: the solver "
        "stops on a work limit instead of the clock, and time stamps come from the inputs)",
    )
    run.add_argument(
        "--previous",
        type=Path,
        metavar="PUBLISHED",
        help="re-plan from this published outputs folder (often --out itself): keep every "
        "event and calendar entry that can stay, and send only what changed "
        "(changes.csv, outbox.csv)",
    )
    run.add_argument(
        "--moves",
        type=_count,
        default=0,
        metavar="N",
        help="with --previous: let the solver move up to N further published events when "
        "that raises the attended weight (default 0: only what must move)",
    )
    run.set_defaults(func=_cmd_run)

    check = commands.add_parser(
        "check",
        help="verify written outputs against every rule of the inputs",
        description="Read an input folder and the outputs written for it and verify the "
        "schedule against every rule of the inputs (docs/inputs.md), independently of the solver.",
    )
    check.add_argument("inputs", type=Path, help="the input folder")
    check.add_argument("outputs", type=Path, help="the output folder written by `run`")
    check.add_argument(
        "--previous",
        type=Path,
        metavar="PUBLISHED",
        help="also verify the outputs as a re-plan of this earlier version: stable UIDs, "
        "raised SEQUENCE for changed events, a CANCEL for every entry that left a calendar, "
        "no message for unchanged ones, changes.csv complete and true",
    )
    check.set_defaults(func=_cmd_check)

    generate = commands.add_parser(
        "generate",
        help="write a synthetic conference of any size",
        description="Write a valid, solvable synthetic conference in the input format "
        "(German and Turkish cities, partnerships, participants, sessions). The same seed "
        "gives the same files.",
    )
    generate.add_argument("out", type=Path, help="the folder to write the conference into")
    generate.add_argument("--cities", type=int, required=True, help="number of cities")
    generate.add_argument("--participants", type=int, required=True, help="number of participants")
    generate.add_argument("--sessions", type=int, required=True, help="number of sessions")
    generate.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    generate.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that is not empty, overwriting files of the same names",
    )
    from scheduler.generate import add_shape_arguments

    add_shape_arguments(generate)
    generate.set_defaults(func=_cmd_generate)

    # Delivery: `send` (e-mail, exactly once) and `publish` (private feeds), in scheduler.deliver.
    from scheduler.deliver.commands import add_commands

    add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was changed in the output folder", file=sys.stderr)
        return 130
    except OSError as error:  # what the system refuses: permissions, a full disk, ...
        where = f": {error.filename}" if error.filename else ""
        print(f"error: {error.strerror or error}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
