"""How a message leaves: a mail server (SMTP) or, by default, an .eml file in outbox/.

Both hand a message over in one last step — the final "." of SMTP DATA, the rename of the
finished .eml file into place — and call ``hand_over`` right before it, so the ledger can
record the message as ``unknown`` until the answer is in (see ledger.py).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from scheduler.deliver.mail import OutboxRow
from scheduler.errors import UserError


class Refused(Exception):
    """The server answered with an error: 4xx (temporary) or 5xx (permanent)."""

    def __init__(self, code: int, reply: str):
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500


class Lost(Exception):
    """The connection broke (or could not be made); ``handed_over`` says whether it broke
    after the message's last step, so the server may have it."""

    def __init__(self, reason: str, *, handed_over: bool):
        super().__init__(reason)
        self.handed_over = handed_over


class Transport(Protocol):
    channel: str  # the ledger's channel: "smtp" or "outbox"
    where: str  # for people: host:port or the folder

    def deliver(
        self,
        data: bytes,
        sender: str,
        recipient: str,
        row: OutboxRow,
        hand_over: Callable[[], None],
    ) -> tuple[int, str]:
        """Hand the message over; returns the server's (code, words) on acceptance, raises
        Refused or Lost."""
        ...

    def delivered(self, row: OutboxRow) -> bool:
        """Whether a message left ``unknown`` by an interruption is known to have arrived."""
        ...

    def close(self) -> None: ...


@dataclass
class SmtpSettings:
    """Where and how to reach the mail server. The password is read from an environment
    variable or a file by the CLI, never taken from the command line."""

    host: str
    port: int
    security: str = "none"  # "none", "starttls" or "ssl"
    user: str | None = None
    password: str | None = None
    timeout: float = 60.0
    cafile: Path | None = None  # a CA (or the server's own certificate) to trust


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


class SmtpTransport:
    """One connection to the mail server, opened on first use and again after a drop."""

    channel = "smtp"

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.where = f"{settings.host}:{settings.port}"
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.cafile)
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                if not (s.password or "").isascii():
                    smtp.close()
                    raise UserError(
                        "the password holds characters beyond ASCII, which Python's smtplib "
                        "cannot send; use an app password of ASCII characters"
                    )
                try:
                    smtp.login(s.user, s.password or "")
                except smtplib.SMTPAuthenticationError as error:
                    smtp.close()
                    raise UserError(
                        f"the mail server {self.where} refused the login of {s.user}: "
                        f"{error.smtp_code} {_reply_text(error.smtp_error)}"
                    ) from None
                except smtplib.SMTPNotSupportedError:
                    smtp.close()
                    raise UserError(
                        f"the mail server {self.where} offers no login on this connection "
                        "(try --starttls or --ssl)"
                    ) from None
        except ssl.SSLError as error:
            raise UserError(f"TLS with {self.where} failed: {error}") from None
        except smtplib.SMTPConnectError as error:
            raise Lost(
                f"{error.smtp_code} {_reply_text(error.smtp_error)}", handed_over=False
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise Lost(f"cannot reach {self.where}: {error}", handed_over=False) from None
        return smtp

    def deliver(
        self,
        data: bytes,
        sender: str,
        recipient: str,
        row: OutboxRow,
        hand_over: Callable[[], None],
    ) -> tuple[int, str]:
        if self.smtp is None:
            self.smtp = self._connect()
        smtp = self.smtp
        handed_over = False
        try:
            self._expect(smtp.mail(sender), (250,))
            self._expect(smtp.rcpt(recipient), (250, 251))
            self._expect(smtp.docmd("DATA"), (354,))
            body = re.sub(rb"(?m)^\.", b"..", data)  # dot-stuffing, RFC 5321 4.5.2
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            smtp.send(body)
            hand_over()
            handed_over = True
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
            if code != 250:
                raise Refused(code, _reply_text(reply))
            return code, _reply_text(reply)
        except Refused as refused:
            if refused.code == 421:  # the server closes the connection; it kept nothing
                self.close()
                raise Lost(f"{refused.code} {refused.reply}", handed_over=False) from None
            if not handed_over:
                self._reset()
            raise
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as error:
            self.close()
            raise Lost(
                f"the connection to {self.where} broke: {error}", handed_over=handed_over
            ) from None

    def _expect(self, answer: tuple[int, bytes], codes: tuple[int, ...]) -> None:
        code, reply = answer
        if code == -1:
            raise smtplib.SMTPServerDisconnected(_reply_text(reply))
        if code not in codes:
            raise Refused(code, _reply_text(reply))

    def _reset(self) -> None:
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def delivered(self, row: OutboxRow) -> bool:
        return False  # SMTP cannot ask a server whether it has a message

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


class OutboxTransport:
    """The default: every message as an RFC 5322 .eml file (opens in any mail client),
    ``outbox/<participant_id>/<event_id>.<sequence>.<method>.eml``."""

    channel = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.where = str(self.folder)

    def path(self, row: OutboxRow) -> Path:
        name = f"{row.event_id}.{row.sequence}.{row.method.lower()}.eml"
        return self.folder / row.participant_id / name

    def deliver(
        self,
        data: bytes,
        sender: str,
        recipient: str,
        row: OutboxRow,
        hand_over: Callable[[], None],
    ) -> tuple[int, str]:
        del sender, recipient
        final = self.path(row)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(f".{final.name}.tmp")
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        hand_over()
        os.replace(temp, final)
        directory = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return 250, f"written to {final.relative_to(self.folder.parent)}"

    def delivered(self, row: OutboxRow) -> bool:
        return self.path(row).is_file()

    def close(self) -> None:
        pass
