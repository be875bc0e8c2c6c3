"""Command line: thin. Arguments in, pipeline functions called, messages out.

User errors (bad inputs, missing folders) print a message and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scheduler.errors import UserError


def _cmd_validate(args: argparse.Namespace) -> int:
    from scheduler import pipeline
    from scheduler.summary import summarize

    conference, warnings = pipeline.load(args.inputs)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(summarize(conference))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from scheduler import pipeline

    return pipeline.run_cli(
        args.inputs,
        args.out,
        time_limit=args.time_limit,
        seed=args.seed,
        deterministic=args.deterministic,
    )


def _cmd_check(args: argparse.Namespace) -> int:
    from scheduler.check import check_outputs

    violations = check_outputs(args.inputs, args.outputs)
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
    run.set_defaults(func=_cmd_run)

    check = commands.add_parser(
        "check",
        help="verify written outputs against every rule of the inputs",
        description="Read an input folder and the outputs written for it and verify the "
        "schedule against every rule of the contract, independently of the solver.",
    )
    check.add_argument("inputs", type=Path, help="the input folder")
    check.add_argument("outputs", type=Path, help="the output folder written by `run`")
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
    from scheduler.generate import add_shape_arguments

    add_shape_arguments(generate)
    generate.set_defaults(func=_cmd_generate)
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


if __name__ == "__main__":
    sys.exit(main())
