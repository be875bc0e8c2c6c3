"""The `send` and `publish` subcommands: arguments in, scheduler.deliver called, a summary
out. cli.py adds them with `add_commands`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from scheduler.errors import UserError


def add_commands(commands: Any) -> None:
    """Add `send` and `publish` to the CLI's subcommands."""
    send = commands.add_parser(
        "send",
        help="e-mail every invitation and update of the last run exactly once",
        usage="scheduler send [INPUTS] OUTPUTS [--smtp HOST:PORT [--starttls | --ssl] "
        "[--user USER]] [--dry-run] [--limit N] [--rate MSGS_PER_MINUTE] [options]",
        description="Deliver the messages in OUTPUTS/outbox.csv, each exactly once: to a mail "
        "server with --smtp, else as .eml files into OUTPUTS/outbox/. What was delivered is "
        "kept in OUTPUTS/delivery.sqlite; run the same command again after an interruption "
        "or a failure and it goes on where it stopped. The inputs give the participants' "
        "addresses and languages: give INPUTS the first time (it is remembered).",
    )
    send.add_argument(
        "folders",
        nargs="+",
        type=Path,
        metavar="FOLDER",
        help="the input folder (needed the first time) and the output folder of the run",
    )
    send.add_argument(
        "--smtp",
        metavar="HOST:PORT",
        help="the mail server (default: none, write .eml files into OUTPUTS/outbox/)",
    )
    security = send.add_mutually_exclusive_group()
    security.add_argument("--starttls", action="store_true", help="STARTTLS after connecting")
    security.add_argument("--ssl", action="store_true", help="TLS from the start (port 465)")
    send.add_argument(
        "--cafile",
        type=Path,
        metavar="FILE",
        help="trust this CA or certificate (PEM) for TLS, e.g. a test server's own",
    )
    send.add_argument("--user", help="log in as this user")
    send.add_argument(
        "--password-env",
        metavar="VARIABLE",
        default="SMTP_PASSWORD",
        help="the environment variable holding the password (default: SMTP_PASSWORD)",
    )
    send.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="a file holding the password (first line)",
    )
    send.add_argument(
        "--dry-run",
        action="store_true",
        help="only count what would be sent, by method and language",
    )
    send.add_argument(
        "--limit", type=_positive_int, metavar="N", help="send at most N messages in this run"
    )
    send.add_argument(
        "--rate",
        type=_positive_float,
        metavar="MSGS_PER_MINUTE",
        help="send at most this many messages per minute",
    )
    send.add_argument(
        "--retry-failed",
        action="store_true",
        help="try permanently failed messages again (e.g. after fixing an address)",
    )
    send.add_argument(
        "--attempts",
        type=_positive_int,
        default=4,
        metavar="N",
        help="tries of a temporarily refused message in one run (default: 4)",
    )
    send.add_argument(
        "--backoff",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="wait before the first retry, doubled each time (default: 30)",
    )
    send.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for the mail server's answer (default: 60)",
    )
    send.set_defaults(func=send_command)

    publish = commands.add_parser(
        "publish",
        help="write the private calendar subscriptions as a static site",
        description="Write a static site: one feed per participant under an unguessable token, "
        "conference.ics and the city agendas. The same feed secret keeps every URL across "
        "re-plans; --rotate-secret makes new URLs (and removes the old feeds).",
    )
    publish.add_argument("outputs", type=Path, help="the output folder of the run")
    publish.add_argument(
        "--site", type=Path, required=True, help="the folder to write the site into"
    )
    publish.add_argument(
        "--base-url",
        required=True,
        metavar="URL",
        help="where the site is served, e.g. https://example.org/calendars",
    )
    publish.add_argument(
        "--secret",
        type=Path,
        metavar="FILE",
        help="the feed secret (default: ~/.config/citypartner-scheduler/"
        "feed-secret, created on first use)",
    )
    publish.add_argument(
        "--rotate-secret",
        action="store_true",
        help="make a new secret: every participant gets a new URL",
    )
    publish.set_defaults(func=publish_command)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _folders(args: argparse.Namespace) -> tuple[Path, Path, bool]:
    """(inputs, outputs, guessed): INPUTS from the command line, else remembered by an
    earlier `send` (the ledger), else report.json's ``inputs`` when the run recorded it;
    else, guessed, $SCHEDULER_INPUTS or ./inputs (used only when they match the outputs)."""
    from scheduler.deliver.ledger import LEDGER_FILE, Ledger

    folders: list[Path] = args.folders
    if len(folders) > 2:
        raise UserError("give at most two folders: [INPUTS] OUTPUTS")
    outputs = folders[-1].absolute()
    if not outputs.is_dir():
        raise UserError(f"the output folder {outputs} does not exist")
    if len(folders) == 2:
        return folders[0].absolute(), outputs, False
    known = None
    if (outputs / LEDGER_FILE).is_file():
        with Ledger(outputs / LEDGER_FILE) as ledger:
            known = ledger.setting("inputs")
    if known is None:
        try:
            known = json.loads((outputs / "report.json").read_text(encoding="utf-8")).get("inputs")
        except (OSError, ValueError):
            known = None
    if known:
        return Path(known), outputs, False
    guess = Path(os.environ.get("SCHEDULER_INPUTS") or "inputs").absolute()
    if (guess / "conference.toml").is_file():
        return guess, outputs, True
    raise UserError(
        "which inputs? The participants' addresses and languages come from the inputs: "
        f"run `scheduler send INPUTS {folders[-1]}` (later sends remember it)"
    )


def _password(args: argparse.Namespace) -> str | None:
    if not args.user:
        return None
    if args.password_file is not None:
        try:
            lines = args.password_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise UserError(
                f"cannot read the password file {args.password_file}: {error.strerror}"
            ) from None
        return lines[0] if lines else ""
    password = os.environ.get(args.password_env)
    if password is None:
        raise UserError(
            f"--user {args.user} needs a password: set the environment variable "
            f"{args.password_env} or give --password-file FILE"
        )
    return password


def send_command(args: argparse.Namespace) -> int:
    """`scheduler send`: exit 0 when everything is delivered (or the dry run is done), 1 when
    messages failed or are left, 2 for user errors, 130 when interrupted."""
    from scheduler import pipeline
    from scheduler.deliver.send import (
        ProgressLine,
        SendOptions,
        inputs_match,
        read_outbox,
        send,
        summary_lines,
    )
    from scheduler.deliver.transports import OutboxTransport, SmtpSettings, SmtpTransport

    inputs, outputs, guessed = _folders(args)
    conference, _warnings = pipeline.load(inputs)
    if guessed and not inputs_match(conference, outputs, read_outbox(outputs)):
        raise UserError(
            f"the inputs in {inputs} do not belong to {outputs} (other participants or "
            f"addresses): run `scheduler send INPUTS {args.folders[-1]}`"
        )
    transport: Any
    if args.smtp:
        host, _, port = args.smtp.rpartition(":")
        if not host or not port.isdigit():
            raise UserError(
                f"--smtp wants HOST:PORT, e.g. mail.example.org:587 (got {args.smtp!r})"
            )
        security = "ssl" if args.ssl else "starttls" if args.starttls else "none"
        settings = SmtpSettings(
            host.strip("[]"),
            int(port),
            security,
            args.user,
            _password(args),
            args.timeout,
            args.cafile,
        )
        transport = SmtpTransport(settings)
    else:
        if args.ssl or args.starttls or args.user or args.cafile:
            raise UserError("--starttls, --ssl, --cafile and --user need --smtp HOST:PORT")
        transport = OutboxTransport(outputs / "outbox")
    options = SendOptions(
        dry_run=args.dry_run,
        limit=args.limit,
        rate=args.rate,
        retry_failed=args.retry_failed,
        attempts=args.attempts,
        backoff=args.backoff,
    )
    line = ProgressLine(sys.stderr)
    try:
        outcome = send(
            conference,
            outputs,
            transport,
            options,
            progress=line,
            remember={"inputs": str(inputs)},
        )
    finally:
        line.end()
    print("\n".join(summary_lines(outcome, dry_run=args.dry_run)))
    if outcome.stopped == "interrupted":
        return 130
    if args.dry_run or outcome.complete:
        return 0
    limited = outcome.stopped.startswith("--limit")
    return 0 if limited and not (outcome.failed or outcome.deferred) else 1


def publish_command(args: argparse.Namespace) -> int:
    """`scheduler publish`: write the site, print where and how many feeds."""
    from scheduler.deliver.site import publish

    done = publish(
        args.outputs, args.site, args.base_url, secret_file=args.secret, rotate=args.rotate_secret
    )
    made = " (new: keep it safe, it makes every URL)" if done.secret_made else ""
    print(f"published {done.feeds} personal feed(s) to {done.site}")
    if done.emptied:
        print(f"  {done.emptied} feed(s) of people without events now are kept empty")
    if done.removed:
        print(f"  {done.removed} feed(s) of the previous secret removed")
    print(f"  feed secret: {done.secret_file}{made}")
    return 0
