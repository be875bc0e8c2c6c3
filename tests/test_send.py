"""`scheduler send`: every invitation by e-mail exactly once, to a real SMTP server on
loopback (aiosmtpd) that records what arrives and can be told to refuse, defer, drop the
connection or be slow; `send` is interrupted for real (SIGTERM, SIGKILL) and resumed."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller

from scheduler import pipeline
from scheduler.check import check_outputs
from scheduler.cli import main
from scheduler.deliver.mail import OutboxRow, message_id
from scheduler.deliver.send import read_outbox
from scheduler.generate import generate
from tests.test_ical import ical_js, libical

ORGANIZER = "konferenz@example.org"
# Names that must arrive intact, and one that tries to inject markup and a second address.
NAMES = ["Şule Işık", "Jürgen Weiß", 'Eve <b>"x"</b>, <mallory@evil.example>']


# -- a small conference, run for real ---------------------------------------------------------


def _rename(inputs: Path) -> None:
    """Give the first participants the names above (the generator writes ASCII-ish ones)."""
    path = inputs / "participants.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row, name in zip(rows, NAMES, strict=False):
        row["name"] = name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def run_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(inputs, outputs) of a real run of a small generated conference, checked."""
    root = tmp_path_factory.mktemp("send")
    inputs = root / "inputs"
    generate(inputs, cities=4, participants=16, sessions=6, seed=1)
    _rename(inputs)
    outputs = root / "outputs"
    pipeline.run(inputs, outputs, time_limit=10, deterministic=True)
    assert check_outputs(inputs, outputs) == []
    return inputs, outputs


@pytest.fixture
def outputs(run_once: tuple[Path, Path], tmp_path: Path) -> Path:
    """A fresh copy of the run's outputs (no ledger yet)."""
    copy = tmp_path / "outputs"
    shutil.copytree(run_once[1], copy)
    return copy


@pytest.fixture
def inputs(run_once: tuple[Path, Path]) -> Path:
    return run_once[0]


# -- a real SMTP server -----------------------------------------------------------------------


class Recorder:
    """An aiosmtpd handler that keeps every accepted message and misbehaves on request:
    ``defer[mid]`` 4xx answers to DATA first, ``refuse[mid]`` a 5xx to DATA, ``reject`` RCPT
    addresses refused with 550, ``drop_on_mail`` numbers of MAIL commands at which the
    connection is dropped, ``slow`` seconds spent on each DATA, ``hold`` a Message-ID whose
    DATA is kept at once but answered only (``holding`` is set) when ``release`` is set."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, list[str], bytes]] = []
        self.defer: dict[str, int] = {}
        self.refuse: dict[str, str] = {}
        self.reject: set[str] = set()
        self.drop_on_mail: set[int] = set()
        self.mails = 0
        self.slow = 0.0
        self.keep_and_drop: set[str] = set()
        self.hold: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, options) -> str:
        self.mails += 1
        if self.mails in self.drop_on_mail:
            server.transport.close()
            return "421 4.3.0 going away"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:
        if address in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        import asyncio

        mid = str(message_from_bytes(envelope.content, policy=default)["Message-ID"])
        if self.slow:
            await asyncio.sleep(self.slow)
        if mid == self.hold:  # kept at once, answered late: the sender may die meanwhile
            with self.lock:
                self.accepted.append(
                    (envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "250 2.0.0 Ok: queued"
        if mid in self.keep_and_drop:  # kept, but the sender never hears so
            self.keep_and_drop.discard(mid)
            with self.lock:
                self.accepted.append(
                    (envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
            server.transport.close()
            return "250 2.0.0 Ok: queued"
        if self.defer.get(mid):
            self.defer[mid] -= 1
            return "451 4.7.1 Greylisted, try again later"
        if mid in self.refuse:
            return self.refuse[mid]
        with self.lock:
            self.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Ok: queued"

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(
                str(message_from_bytes(c, policy=default)["Message-ID"])
                for _, _, c in self.accepted
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server() -> Any:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.address = f"127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
    yield recorder
    controller.stop()


def smtp_args(server: Recorder, *extra: str) -> list[str]:
    return ["--smtp", server.address, "--backoff", "0.05", *extra]  # type: ignore[attr-defined]


def mid_of(row: OutboxRow) -> str:
    return message_id(row, "example.org")


def expected_ids(outputs: Path) -> set[str]:
    return {mid_of(row) for row in read_outbox(outputs)}


def participants(inputs: Path) -> dict[str, dict[str, str]]:
    with (inputs / "participants.csv").open(encoding="utf-8", newline="") as handle:
        return {row["participant_id"]: row for row in csv.DictReader(handle)}


def states(outputs: Path) -> dict[tuple[str, str, int, str], str]:
    with sqlite3.connect(outputs / "delivery.sqlite") as db:
        rows = db.execute(
            "SELECT participant_id, event_id, sequence, method, state FROM messages "
            "WHERE channel = 'smtp'"
        ).fetchall()
    return {(p, e, s, m): state for p, e, s, m, state in rows}


def calendar_part(message: EmailMessage) -> Any:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0]


def body(message: EmailMessage, subtype: str) -> str:
    """The message's text/plain or text/html body."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} body"
    return part.get_content()


# -- the messages -----------------------------------------------------------------------------


def test_every_message_arrives_once_as_an_imip_invitation(
    inputs: Path, outputs: Path, server: Recorder, tmp_path: Path, capsys: Any
) -> None:
    assert main(["send", str(inputs), str(outputs), *smtp_args(server)]) == 0
    rows = read_outbox(outputs)
    assert len(rows) > 30
    by_id = {mid_of(row): row for row in rows}
    assert server.message_ids() == Counter(set(by_id))  # each exactly once
    people = participants(inputs)
    addresses = {p["email"].lower() for p in people.values()}
    files: list[Path] = []
    for mail_from, rcpt_tos, content in server.accepted:
        message = message_from_bytes(content, policy=default)
        row = by_id[str(message["Message-ID"])]
        person = people[row.participant_id]
        # Envelope and headers: from the organiser, to this participant only.
        assert mail_from == ORGANIZER and rcpt_tos == [person["email"]]
        assert message["From"].addresses[0].addr_spec == ORGANIZER
        (to,) = message["To"].addresses
        assert (to.addr_spec, to.display_name) == (person["email"], person["name"])
        headers = " ".join(f"{k}: {v}" for k, v in message.items()).lower()
        assert [a for a in addresses - {person["email"].lower()} if a in headers] == []
        assert "mallory@evil.example" not in str(message["To"].addresses[0].addr_spec)
        # The calendar part: the invite file byte for byte, its METHOD in the MIME type.
        part = calendar_part(message)
        data = (
            part.get_content().encode("utf-8")
            if isinstance(part.get_content(), str)
            else part.get_content()
        )
        assert data == (outputs / row.file).read_bytes()
        cal = icalendar.Calendar.from_ical(data)
        assert part.get_param("method") == str(cal["METHOD"]) == row.method == "REQUEST"
        assert part.get_content_charset() == "utf-8"
        attachments = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
        assert len(attachments) == 1 and attachments[0].get_content() == data
        text = body(message, "plain")
        page = body(message, "html")
        assert person["name"] in text
        assert "<b>" not in page and "&lt;b&gt;" in page or "<b>" not in person["name"]
        path = tmp_path / f"{len(files)}.ics"
        path.write_bytes(data)
        files.append(path)
    # German and Turkish participants got their own language.
    subjects = {
        str(message_from_bytes(c, policy=default)["Subject"]).split(":")[0]
        for _, _, c in server.accepted
    }
    assert {"Einladung", "Davet"} <= subjects
    # Real clients read every calendar part: ical.js the times, libical the iTIP rules.
    assert len(ical_js(files)) == len(files)
    checked = libical(files)
    assert all(r["ok"] and not r["parse_errors"] and not r["itip_errors"] for r in checked.values())
    # Sending again sends nothing.
    capsys.readouterr()
    assert main(["send", str(outputs), *smtp_args(server)]) == 0
    assert "sent now                 0" in capsys.readouterr().out
    assert server.message_ids() == Counter(set(by_id))


def test_utf8_names_and_markup_arrive_intact_and_escaped(
    inputs: Path, outputs: Path, server: Recorder
) -> None:
    assert main(["send", str(inputs), str(outputs), *smtp_args(server)]) == 0
    people = participants(inputs)
    named = {p["email"]: p["name"] for p in people.values() if p["name"] in NAMES}
    seen = set()
    for _, rcpt_tos, content in server.accepted:
        if rcpt_tos[0] not in named:
            continue
        message = message_from_bytes(content, policy=default)
        name = named[rcpt_tos[0]]
        assert message["To"].addresses[0].display_name == name
        assert len(message["To"].addresses) == 1
        page = body(message, "html")
        assert "<b>" not in page and "<mallory" not in page
        seen.add(name)
    assert seen == set(named.values()) and len(seen) >= 2


def test_temporary_and_permanent_failures_and_a_dropped_connection(
    inputs: Path, outputs: Path, server: Recorder, capsys: Any
) -> None:
    rows = read_outbox(outputs)
    people = participants(inputs)
    deferred, refused = mid_of(rows[3]), mid_of(rows[7])
    rejected = people[rows[-1].participant_id]["email"]
    lost_to_rejection = {mid_of(r) for r in rows if people[r.participant_id]["email"] == rejected}
    server.defer[deferred] = 2  # greylisted twice, then accepted
    server.refuse[refused] = "554 5.7.1 Message rejected: policy violation"
    server.reject.add(rejected)
    server.drop_on_mail.update({12, 13})  # the connection drops mid-batch, twice in a row
    assert main(["send", str(inputs), str(outputs), *smtp_args(server)]) == 1
    out = capsys.readouterr().out
    assert "554 Message rejected: policy violation" in out or "5.7.1 Message rejected" in out
    assert "Recipient address rejected: User unknown" in out
    failed = {refused} | lost_to_rejection
    assert server.message_ids() == Counter(expected_ids(outputs) - failed)
    # Running again sends nothing twice, and does not retry the permanent failures.
    assert main(["send", str(outputs), *smtp_args(server)]) == 1
    assert server.message_ids() == Counter(expected_ids(outputs) - failed)
    # After the organiser fixed the cause, --retry-failed delivers them, once.
    server.refuse.clear()
    server.reject.clear()
    assert main(["send", str(outputs), *smtp_args(server, "--retry-failed")]) == 0
    assert server.message_ids() == Counter(expected_ids(outputs))


def test_a_server_that_stays_away_stops_the_batch_and_send_resumes(
    inputs: Path, outputs: Path, server: Recorder, capsys: Any
) -> None:
    server.drop_on_mail.update(range(6, 40))  # away after five messages
    assert main(["send", str(inputs), str(outputs), *smtp_args(server, "--attempts", "2")]) == 1
    assert "the mail server went away" in capsys.readouterr().out
    assert len(server.message_ids()) == 5
    server.drop_on_mail.clear()
    assert main(["send", str(outputs), *smtp_args(server)]) == 0
    assert server.message_ids() == Counter(expected_ids(outputs))


def test_limit_and_dry_run(inputs: Path, outputs: Path, server: Recorder, capsys: Any) -> None:
    rows = read_outbox(outputs)
    assert main(["send", str(inputs), str(outputs), *smtp_args(server, "--dry-run")]) == 0
    out = capsys.readouterr().out
    assert f"would deliver {len(rows)} message(s)" in out
    assert "REQUEST  de" in out and "REQUEST  tr" in out
    assert server.accepted == [] and not (outputs / "delivery.sqlite").exists()
    assert main(["send", str(inputs), str(outputs), *smtp_args(server, "--limit", "4")]) == 0
    assert len(server.accepted) == 4
    assert main(["send", str(outputs), *smtp_args(server, "--dry-run")]) == 0
    assert f"would deliver {len(rows) - 4} message(s)" in capsys.readouterr().out


def test_without_a_server_messages_become_eml_files_recorded_the_same_way(
    inputs: Path, outputs: Path
) -> None:
    rows = read_outbox(outputs)
    assert main(["send", str(inputs), str(outputs)]) == 0
    files = sorted((outputs / "outbox").rglob("*.eml"))
    assert len(files) == len(rows)
    message = message_from_bytes(files[0].read_bytes(), policy=default)
    assert calendar_part(message).get_param("method") == "REQUEST"
    before = {f: f.stat().st_mtime_ns for f in files}
    assert main(["send", str(outputs)]) == 0
    assert {f: f.stat().st_mtime_ns for f in files} == before


def test_a_cancel_and_an_update_of_a_later_version_send_only_those(
    inputs: Path, outputs: Path, server: Recorder
) -> None:
    """A later version's outbox (as a re-plan writes it: a CANCEL and a raised SEQUENCE)
    sends exactly those two, with the calendar part's method following the file."""
    assert main(["send", str(inputs), str(outputs), *smtp_args(server)]) == 0
    first = len(server.accepted)
    rows = read_outbox(outputs)
    cancelled, moved = rows[0], rows[1]
    for row, method in ((cancelled, "CANCEL"), (moved, "REQUEST")):
        path = outputs / row.file
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        cal["METHOD"] = method
        event = cal.walk("VEVENT")[0]
        event["SEQUENCE"] = 1
        if method == "CANCEL":
            event["STATUS"] = "CANCELLED"
        path.write_bytes(cal.to_ical())
    with (outputs / "outbox.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["participant_id", "event_id", "method", "sequence", "file"])
        writer.writerow([cancelled.participant_id, cancelled.event_id, "CANCEL", 1, cancelled.file])
        writer.writerow([moved.participant_id, moved.event_id, "REQUEST", 1, moved.file])
    assert main(["send", str(outputs), *smtp_args(server)]) == 0
    new = [message_from_bytes(c, policy=default) for _, _, c in server.accepted[first:]]
    assert [calendar_part(m).get_param("method") for m in new] == ["CANCEL", "REQUEST"]
    assert str(new[0]["Subject"]).startswith(("Abgesagt", "İptal", "Cancelled"))
    assert str(new[1]["Subject"]).startswith(("Geänderte", "Değişen", "Updated"))
    assert [str(m["Message-ID"]) for m in new] == [
        mid_of(OutboxRow(cancelled.participant_id, cancelled.event_id, "CANCEL", 1, "")),
        mid_of(OutboxRow(moved.participant_id, moved.event_id, "REQUEST", 1, "")),
    ]


def test_an_invite_whose_method_contradicts_the_outbox_is_not_sent(
    inputs: Path, outputs: Path, server: Recorder, capsys: Any
) -> None:
    rows = read_outbox(outputs)
    lines = (outputs / "outbox.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("REQUEST", "CANCEL")
    (outputs / "outbox.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["send", str(inputs), str(outputs), *smtp_args(server)]) == 1
    assert (
        "holds METHOD:REQUEST SEQUENCE:0, but outbox.csv lists CANCEL 0" in capsys.readouterr().out
    )
    assert len(server.accepted) == len(rows) - 1


# -- interrupted for real ---------------------------------------------------------------------


def start_send(inputs: Path, outputs: Path, server: Recorder) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scheduler.cli",
            "send",
            str(inputs),
            str(outputs),
            *smtp_args(server),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def wait_until(condition: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_mid_batch_then_resume_sends_each_message_once(
    inputs: Path, outputs: Path, server: Recorder, how: signal.Signals
) -> None:
    server.slow = 0.03
    process = start_send(inputs, outputs, server)
    wait_until(lambda: len(server.accepted) >= 10)
    process.send_signal(how)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130, out
    assert "interrupted" in out
    assert 10 <= len(server.accepted) < len(expected_ids(outputs))
    assert "unknown" not in states(outputs).values()  # the stop waited for the answer
    server.slow = 0
    assert main(["send", str(outputs), *smtp_args(server)]) == 0
    assert server.message_ids() == Counter(expected_ids(outputs))


def test_sigkill_mid_batch_then_resume_sends_none_twice_but_the_one_in_doubt(
    inputs: Path, outputs: Path, server: Recorder
) -> None:
    server.slow = 0.03
    process = start_send(inputs, outputs, server)
    wait_until(lambda: len(server.accepted) >= 10)
    process.kill()
    process.communicate(timeout=60)
    time.sleep(0.2)  # let the server finish what it was handling
    doubt = {
        mid_of(OutboxRow(*key[:2], key[3], key[2], ""))
        for key, s in states(outputs).items()
        if s == "unknown"
    }
    assert len(doubt) <= 1
    server.slow = 0
    assert main(["send", str(outputs), *smtp_args(server)]) == 0
    counts = server.message_ids()
    assert set(counts) == expected_ids(outputs)  # none missing
    assert {mid for mid, n in counts.items() if n > 1} <= doubt  # none twice but that one


def test_the_window_in_doubt_is_one_message_and_its_repeat_has_the_same_message_id(
    inputs: Path, outputs: Path, server: Recorder
) -> None:
    """The server takes a message, the sender dies before it hears so: that message, and
    only it, is `unknown`; resuming sends it again under the same Message-ID."""
    rows = read_outbox(outputs)
    held = mid_of(rows[5])
    server.hold = held
    process = start_send(inputs, outputs, server)
    assert server.holding.wait(60)
    process.kill()
    process.communicate(timeout=60)
    server.release.set()
    wait_until(lambda: server.message_ids()[held] == 1)
    in_doubt = [k for k, s in states(outputs).items() if s == "unknown"]
    assert in_doubt == [rows[5].key]
    assert main(["send", str(outputs), *smtp_args(server)]) == 0
    counts = server.message_ids()
    assert counts[held] == 2
    assert counts - Counter({held: 1}) == Counter(expected_ids(outputs))


def test_a_password_never_comes_from_the_command_line(
    inputs: Path, outputs: Path, server: Recorder, capsys: Any
) -> None:
    with pytest.raises(SystemExit):
        main(["send", str(inputs), str(outputs), *smtp_args(server, "--password", "x")])
    assert (
        main(
            [
                "send",
                str(inputs),
                str(outputs),
                *smtp_args(server, "--user", "u", "--password-env", "NO_SUCH_VARIABLE_X"),
            ]
        )
        == 2
    )
    assert "NO_SUCH_VARIABLE_X" in capsys.readouterr().err


def test_starttls_and_login_with_a_password_from_the_environment_or_a_file(
    inputs: Path, outputs: Path, tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    """A server that requires STARTTLS and a login: the password comes from SMTP_PASSWORD
    or a file, and is written nowhere (output, ledger, .eml files)."""
    import ssl

    from aiosmtpd.smtp import AuthResult

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    password = "s3cret-Sifre-Passwort"  # smtplib logs in with ASCII only
    logins: list[str] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == b"konferenz" and auth_data.password == password.encode()
        logins.append(mechanism)
        return AuthResult(success=ok)

    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        base = ["send", str(inputs), str(outputs), "--smtp", f"127.0.0.1:{controller.port}"]
        login = ["--starttls", "--cafile", str(cert), "--user", "konferenz", "--limit", "3"]
        monkeypatch.setenv("SMTP_PASSWORD", password)
        assert main([*base, *login]) == 0
        assert logins  # it did log in
        assert len(recorder.accepted) == 3
        secret_file = tmp_path / "password"
        secret_file.write_text(password + "\n", encoding="utf-8")
        monkeypatch.delenv("SMTP_PASSWORD")
        assert main([*base, *login[:-2], "--password-file", str(secret_file)]) == 0
        assert len(recorder.accepted) == len(read_outbox(outputs))
    finally:
        controller.stop()
    out = capsys.readouterr()
    assert password not in out.out + out.err
    for path in outputs.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def test_an_outbox_row_that_points_outside_is_refused(
    inputs: Path, outputs: Path, capsys: Any
) -> None:
    lines = (outputs / "outbox.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = "../../evil," + lines[2].split(",", 1)[1]
    (outputs / "outbox.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["send", str(inputs), str(outputs)]) == 2
    assert "outbox.csv, row 3, column participant_id" in capsys.readouterr().err
    assert not (outputs / "outbox").exists() and not (outputs / "delivery.sqlite").exists()


def test_a_connection_lost_after_the_data_is_settled_before_any_other_message(
    inputs: Path, outputs: Path, server: Recorder, capsys: Any
) -> None:
    """The server keeps a message and the connection breaks before its answer: `send`
    cannot know, sends it again at once (same Message-ID) before any other message, says
    so, and every other message arrives once."""
    rows = read_outbox(outputs)
    doubtful = mid_of(rows[4])
    server.keep_and_drop.add(doubtful)
    assert main(["send", str(inputs), str(outputs), *smtp_args(server)]) == 0
    assert "it may arrive twice, with the same Message-ID " + doubtful in capsys.readouterr().out
    counts = server.message_ids()
    assert counts[doubtful] == 2
    assert counts - Counter({doubtful: 1}) == Counter(expected_ids(outputs))
    order = [
        str(message_from_bytes(c, policy=default)["Message-ID"]) for _, _, c in server.accepted
    ]
    assert order[4] == order[5] == doubtful  # settled before the next message went


def test_a_real_re_plan_then_send_delivers_only_its_changes_and_tells_the_withdrawn(
    inputs: Path, outputs: Path, server: Recorder, tmp_path: Path
) -> None:
    """Version 1 is sent; a participant withdraws and the conference is re-planned into the
    same folder (the ledger is carried over): `send` then delivers exactly the re-plan's
    outbox, the CANCELs reaching the withdrawn person at the address they were invited at."""
    assert main(["send", str(inputs), str(outputs), *smtp_args(server)]) == 0
    first = len(server.accepted)
    attendance = list(csv.DictReader((outputs / "attendance.csv").open(encoding="utf-8")))
    roles: dict[str, set[str]] = {}
    for row in attendance:
        roles.setdefault(row["participant_id"], set()).add(row["role"])
    gone = next(pid for pid in sorted(roles) if roles[pid] == {"attendee"})
    address = participants(inputs)[gone]["email"]
    changed = tmp_path / "inputs"
    shutil.copytree(inputs, changed)
    for name in ("participants.csv", "preferences.csv", "unavailability.csv"):
        path = changed / name
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            columns, rows = reader.fieldnames, [r for r in reader if r["participant_id"] != gone]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns or []), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    pipeline.run(changed, outputs, time_limit=10, deterministic=True, previous=outputs)
    assert (outputs / "delivery.sqlite").is_file()  # carried over into version 2
    planned = expected_ids(outputs)
    assert planned and any(r.method == "CANCEL" for r in read_outbox(outputs))
    assert main(["send", str(changed), str(outputs), *smtp_args(server)]) == 0
    new = [message_from_bytes(c, policy=default) for _, _, c in server.accepted[first:]]
    assert {str(m["Message-ID"]) for m in new} == planned
    assert len(new) == len(planned)  # nothing of version 1 again
    to_gone = [m for m in new if address in str(m["To"])]
    assert to_gone and all(calendar_part(m).get_param("method") == "CANCEL" for m in to_gone)
    assert main(["send", str(changed), str(outputs), *smtp_args(server)]) == 0
    assert len(server.accepted) == first + len(new)  # a repeat sends nothing
