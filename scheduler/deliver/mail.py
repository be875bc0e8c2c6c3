"""One iMIP message (RFC 6047) per row of outbox.csv.

The message is what Outlook, Gmail, Thunderbird and Apple Mail expect of an invitation::

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8      a few lines in the participant's language
        text/html; charset=utf-8       the same, every value escaped
        text/calendar; method=REQUEST; charset=utf-8   the invite file, byte for byte
      application/ics; name=invite.ics                the same file as an attachment

The calendar part is the invite file the run wrote; its METHOD (REQUEST or CANCEL) is read
from the file and must equal outbox.csv's, and so becomes the MIME ``method`` parameter.
From is the organiser, To the one participant: no other address is in any header (a
meeting's members are named inside the calendar part only, as docs/delivery.md says).
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import icalendar

from scheduler.errors import UserError
from scheduler.export.agendas import format_day, format_span, zone_abbreviation
from scheduler.export.words import WORDS
from scheduler.model import Conference, Participant


@dataclass(frozen=True)
class OutboxRow:
    """One message to send, as outbox.csv lists it."""

    participant_id: str
    event_id: str
    method: str  # REQUEST or CANCEL
    sequence: int
    file: str  # relative to the outputs folder

    @property
    def key(self) -> tuple[str, str, int, str]:
        """What identifies the message across runs and re-plans."""
        return (self.participant_id, self.event_id, self.sequence, self.method)


@dataclass(frozen=True)
class Subscription:
    """A participant's private feed: the same URL over https and webcal."""

    https: str
    webcal: str


def names_recipient(data: bytes, email: str) -> bool:
    """Whether the invite file names ``email`` as an ATTENDEE (lines unfolded, case aside):
    the address `send` takes from the inputs must be the one the run invited."""
    unfolded = data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").lower()
    return f"mailto:{email.lower()}".encode() in unfolded


class InviteProblem(UserError):
    """An invite file that cannot be sent as outbox.csv says (missing, or another METHOD or
    SEQUENCE than listed)."""


def message_id(row: OutboxRow, domain: str) -> str:
    """The Message-ID of a message: the same for the same participant, event, SEQUENCE and
    method, so a repeat is recognisable (and mail systems that drop duplicates do)."""
    key = "\x1f".join(map(str, row.key)).encode("utf-8")
    return f"<imip.{hashlib.sha256(key).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True)
class _Invite:
    """What a message says about its event, read from the invite file itself."""

    method: str
    sequence: int
    summary: str
    start: datetime | None
    end: datetime | None
    url: str


def read_invite(data: bytes, row: OutboxRow) -> _Invite:
    """The invite file's METHOD, SEQUENCE and what the text shows; an InviteProblem when the
    file does not hold the message outbox.csv lists."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise InviteProblem(f"{row.file} is not a calendar file: {error}") from None
    events = cal.walk("VEVENT")
    method = str(cal.get("METHOD", "")).upper()
    if len(events) != 1:
        raise InviteProblem(f"{row.file} holds {len(events)} events, not one")
    event = events[0]
    sequence = int(event.get("SEQUENCE", 0))
    if (method, sequence) != (row.method, row.sequence):
        raise InviteProblem(
            f"{row.file} holds METHOD:{method or '-'} SEQUENCE:{sequence}, but outbox.csv "
            f"lists {row.method} {row.sequence}"
        )
    start, end = event.get("DTSTART"), event.get("DTEND")
    return _Invite(
        method=method,
        sequence=sequence,
        summary=" ".join(str(event.get("SUMMARY", row.event_id)).split()),
        start=start.dt if start is not None and isinstance(start.dt, datetime) else None,
        end=end.dt if end is not None and isinstance(end.dt, datetime) else None,
        url=str(event.get("URL", "")),
    )


def build_message(
    conference: Conference,
    participant: Participant,
    row: OutboxRow,
    data: bytes,
    *,
    date: datetime,
    subscription: Subscription | None = None,
) -> EmailMessage:
    """The e-mail for one outbox row: ``data`` is the invite file's bytes; ``date`` the
    Date header (the first attempt's time, so a resent message reads the same)."""
    invite = read_invite(data, row)
    city = conference.city_of(participant)
    lang = city.language if city.language in WORDS else "en"
    words = WORDS[lang]  # the glossary (export/words.py); the e-mail's own begin with mail_
    kind = invite.method if invite.method == "CANCEL" else "REQUEST"
    if kind == "REQUEST" and invite.sequence > 0:
        kind = "UPDATE"

    when = ""
    if invite.start is not None and invite.end is not None:
        zone = city.zone
        when = (
            f"{format_day(invite.start.astimezone(zone).date(), lang)}, "
            f"{format_span(invite.start, invite.end, zone, lang)} "
            f"({zone_abbreviation(invite.start, zone, lang)})"
        )
    lines: list[tuple[str, str]] = []  # (label, value); label "" for plain sentences
    lines.append(("", words[f"mail_intro_{kind}"]))
    lines.append(("", invite.summary))
    if when:
        lines.append((words["when"], when))
    if invite.url and kind != "CANCEL":
        lines.append((words["link"], invite.url))
    if subscription is not None:
        lines.append((words["mail_subscribe"], subscription.https))
        lines.append(("webcal", subscription.webcal))
    closing = words["mail_buttons_CANCEL" if kind == "CANCEL" else "mail_buttons"]

    message = EmailMessage(policy=SMTP)
    message["From"] = Address(conference.organizer.name, addr_spec=conference.organizer.email)
    message["To"] = Address(" ".join(participant.name.split()), addr_spec=participant.email)
    message["Subject"] = f"{words[f'mail_{kind}']}: {invite.summary}" + (
        f" – {when}" if when else ""
    )
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id(row, conference.organizer.domain)
    # Quoted-printable: 7-bit safe for every server (8bit would need 8BITMIME).
    text = _text(words["mail_hello"], participant.name, lines, closing, conference)
    message.set_content(text, cte="quoted-printable")
    page = _html(words["mail_hello"], participant.name, lines, closing, conference, lang)
    message.add_alternative(page, subtype="html", cte="quoted-printable")
    message.attach(_calendar_part(data, invite.method))
    message.add_attachment(data, "application", "ics", filename="invite.ics")
    message["Content-Language"] = lang  # after the parts: making them moves Content-*
    return message


def _calendar_part(data: bytes, method: str) -> EmailMessage:
    """The text/calendar part, its Content-Type written as RFC 6047 shows it (the email
    package would quote the method, and some clients compare it as text): parsed from
    source, a header is written out as it came in."""
    head = f"Content-Type: text/calendar; method={method}; charset=utf-8\r\n"
    head += "Content-Transfer-Encoding: base64\r\n\r\n"
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    part = message_from_bytes(head.encode("ascii") + body, policy=SMTP)
    assert isinstance(part, EmailMessage)
    return part


def _text(
    hello: str,
    name: str,
    lines: list[tuple[str, str]],
    closing: str,
    conference: Conference,
) -> str:
    body = [hello.format(name=name), ""]
    body += [f"{label}: {value}" if label else value for label, value in lines]
    body += ["", closing, "", conference.organizer.name, conference.name]
    return "\n".join(body) + "\n"


def _html(
    hello: str,
    name: str,
    lines: list[tuple[str, str]],
    closing: str,
    conference: Conference,
    lang: str,
) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=True)

    def value(text: str) -> str:
        if text.startswith(("https://", "http://", "webcal://")):
            return f'<a href="{esc(text)}">{esc(text)}</a>'
        return esc(text)

    items = [
        f"<p><strong>{esc(label)}:</strong> {value(text)}</p>" if label else f"<p>{esc(text)}</p>"
        for label, text in lines
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8"></head><body>\n'
        f"<p>{esc(hello.format(name=name))}</p>\n" + "\n".join(items) + f"\n<p>{esc(closing)}</p>\n"
        f"<p>{esc(conference.organizer.name)}<br>{esc(conference.name)}</p>\n</body></html>\n"
    )
