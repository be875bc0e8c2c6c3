"""Calendars: personal feeds, the conference feed and one invitation per person and event.

Written from the Schedule alone: times come from its events, who is invited from its
attendance. Nothing here decides anything; it only presents.

    calendars/<participant_id>.ics        METHOD:PUBLISH, that person's events, no attendees
    calendars/conference.ics              METHOD:PUBLISH, every event, no attendees
    invites/<participant_id>/<event>.ics  METHOD:REQUEST, exactly one VEVENT
                                          (METHOD:CANCEL for a given `Cancellation`)

Times carry the TZID of the reader's city (the organiser's zone in conference.ics) with a
VTIMEZONE built here (see ``vtimezone``), because clients disagree on icalendar's default
RDATE-list VTIMEZONEs (ical.js, the parser in Thunderbird, shows them an hour off).

icalendar builds every component; this module serialises each piece once and joins the
pieces: a VEVENT's common part once per event, language and zone, its DESCRIPTION once per
event and reading city, its attendees once per event (meetings) or person (sessions), each
VTIMEZONE once per zone. Every string from the organisers' data is made plain text first
(`plain_text`: line breaks in TEXT values become ``\\n``, other control characters are
dropped) and every content line is checked before it is written, so no input can add a
line to a calendar. See docs/calendars.md.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from icalendar import (
    Alarm,
    Calendar,
    Component,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vRecur,
    vText,
    vUnknown,
)

from scheduler.export import (
    OutputFiles,
    Progress,
    Ticker,
    code_version,
    drawn_from,
    fingerprint,
    key_of,
    plain_text,
)
from scheduler.export.words import WORDS, language_name
from scheduler.model import (
    Attendance,
    City,
    Conference,
    Matchmaking,
    Schedule,
    ScheduledEvent,
    pick_title,
)

PRODID = "-//citypartner-scheduler//Conference calendars//EN"
SESSION_KINDS = ("plenary", "workshop")
ALARM_BEFORE = timedelta(minutes=15)
FOLD_OCTETS = 75  # RFC 5545 3.1: content lines are folded at 75 octets, CRLF excluded


@dataclass(frozen=True)
class Cancellation:
    """A calendar entry to cancel for one participant: the event was cancelled, or it
    goes on without them. ``start``/``end``/``title`` are what their calendar holds."""

    participant_id: str
    event_id: str
    sequence: int  # higher than the one they hold
    start: datetime
    end: datetime
    title: str
    name: str  # the participant, as their invitation named them (they may have withdrawn)
    email: str


def write_calendars(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    folder: Path,
    *,
    stamp: datetime,
    sequences: Mapping[str, int] | None = None,
    cancellations: Iterable[Cancellation] = (),
    previous: Path | None = None,
    progress: Progress | None = None,
    drawn: str | None = None,
) -> None:
    """Write ``calendars/`` and ``invites/`` into ``folder`` from the schedule.

    ``stamp`` is the DTSTAMP of this version (a naive value is taken as UTC); with the same
    schedule and stamp the files are byte-for-byte the same. ``sequences`` gives an event's
    SEQUENCE by event id (default 0), the same in every feed and invite. Each
    ``cancellations`` entry becomes ``invites/<participant_id>/<event_id>.ics`` with
    METHOD:CANCEL. A file whose content, DTSTAMP aside, equals that of the outputs in
    ``previous`` is carried over from there (with its DTSTAMP) instead of being written.
    Calendar files in ``folder`` that this schedule does not have are removed, so a
    participant who lost all events keeps no stale feed. ``drawn`` is
    `scheduler.export.drawn_from` of the three, when already known.
    """
    writer = _Writer(conference, matchmaking, schedule, _as_utc(stamp), sequences or {})
    cancellations = tuple(cancellations)
    folder = Path(folder)
    had_files = (folder / "calendars").is_dir() or (folder / "invites").is_dir()
    files = OutputFiles(folder, previous, prefixes=("calendars/", "invites/"))
    drawn = drawn or drawn_from(conference, matchmaking, schedule)
    code = code_version(__file__, "icalendar", "babel"), WORDS
    if files.carry_all(fingerprint(code, drawn, sequences or {}, cancellations)):
        Ticker(progress, "calendars and invites (unchanged)", 1).tick()
        if had_files:
            _remove_stale(folder, files.entries)
        files.save()
        return
    unstamped = writer.stamp_line

    def put(path: str, content: bytes) -> None:
        key = key_of(content.replace(unstamped, b""))
        if not files.carry_over(path, key):
            files.write(path, content, key)

    people = sorted(writer.agenda)
    ticker = Ticker(progress, "calendars and invites", len(people) + 1)
    put("calendars/conference.ics", writer.conference_feed())
    ticker.tick()
    for participant_id in people:
        put(f"calendars/{participant_id}.ics", writer.personal_feed(participant_id))
        for event in writer.agenda[participant_id]:
            put(
                f"invites/{participant_id}/{event.event_id}.ics",
                writer.invite(participant_id, event),
            )
        ticker.tick()
    for cancellation in cancellations:
        path = f"invites/{cancellation.participant_id}/{cancellation.event_id}.ics"
        if path in files.entries:
            raise ValueError(f"{path}: an event cannot be both on the calendar and cancelled")
        put(path, writer.cancel(cancellation))
    if had_files:
        _remove_stale(folder, files.entries)
    files.save()


def _remove_stale(folder: Path, kept: Mapping[str, object]) -> None:
    """Remove the .ics files under calendars/ and invites/ that are not in ``kept``, and
    the invite folders that become empty (only what the tool writes there)."""
    for top in ("calendars", "invites"):
        base = folder / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.ics"), reverse=True):
            if path.relative_to(folder).as_posix() not in kept:
                path.unlink()
        if top == "invites":
            for sub in base.iterdir():
                if sub.is_dir() and not any(sub.iterdir()):
                    sub.rmdir()


def uid(conference: Conference, event_id: str) -> str:
    """The event's UID: the same for the same event in every run and every file."""
    return f"{event_id}@{conference.organizer.domain}"


def calendar_language(conference: Conference) -> str:
    """The language of conference.ics: that of the first city (by id) in the organiser's
    zone — German for an organiser in Europe/Berlin — else English."""
    for city in sorted(conference.cities, key=lambda c: c.id):
        if city.timezone == conference.timezone:
            return city.language
    return "en"


class _Writer:
    """Builds the calendars of one schedule from pieces serialised once (see the module's
    docstring); all lookups prepared once."""

    def __init__(
        self,
        conference: Conference,
        matchmaking: Matchmaking,
        schedule: Schedule,
        stamp: datetime,
        sequences: Mapping[str, int],
    ) -> None:
        self.conference = conference
        self.matchmaking = matchmaking
        self.stamp = stamp
        self.sequences = sequences
        self.events = sorted(schedule.events, key=lambda e: (e.start, e.event_id))
        self.by_event: dict[str, list[Attendance]] = {e.event_id: [] for e in self.events}
        self.attendance: dict[tuple[str, str], Attendance] = {}
        agenda_ids: dict[str, set[str]] = {}
        for attendance in sorted(schedule.attendance, key=lambda a: (a.event_id, a.participant_id)):
            if attendance.event_id not in self.by_event:
                continue  # attendance of an unscheduled event: nothing to show
            self.by_event[attendance.event_id].append(attendance)
            self.attendance[attendance.event_id, attendance.participant_id] = attendance
            agenda_ids.setdefault(attendance.participant_id, set()).add(attendance.event_id)
        place = {e.event_id: i for i, e in enumerate(self.events)}
        self.agenda: dict[str, list[ScheduledEvent]] = {
            pid: [self.events[i] for i in sorted(place[e] for e in ids)]
            for pid, ids in agenda_ids.items()
        }
        self.window = (conference.start, conference.end)
        self.widen_window(self.events)
        self.language = calendar_language(conference)  # of conference.ics
        self.stamp_line = _property("DTSTAMP", stamp)
        organizer = vCalAddress(f"mailto:{plain_text(conference.organizer.email)}")
        organizer.params["CN"] = plain_text(conference.organizer.name)
        self.organizer_line = _property("ORGANIZER", organizer)
        # The pieces, each serialised once (see the module's docstring).
        self.timezones: dict[str, bytes] = {}
        self.heads: dict[str, bytes] = {}  # by method: the calendar's first lines
        self.invite_heads: dict[tuple[str, str], bytes] = {}  # (method, zone)
        self.commons: dict[tuple[str, str, str], bytes] = {}  # (event, language, zone)
        self.descriptions: dict[tuple[str, str | None], bytes] = {}  # (event, city)
        self.alarms: dict[tuple[str, str], bytes] = {}  # (event, language)
        self.members: dict[str, bytes] = {}  # a meeting's attendee lines
        self.attendees: dict[tuple[str, bool], bytes] = {}  # (participant, required)

    def widen_window(self, events: Iterable[ScheduledEvent]) -> None:
        """Make every VTIMEZONE valid over these events too (before the first is built)."""
        days = [d for e in events for d in (e.start.date(), e.end.date())]
        if days:
            self.window = (min(self.window[0], *days), max(self.window[1], *days))

    # -- files -----------------------------------------------------------------------------

    def conference_feed(self) -> bytes:
        zone = self.conference.timezone
        head = self._head("PUBLISH", self.conference.name, zone)
        return head + b"".join(self._feed_event(e, None) for e in self.events) + _END

    def personal_feed(self, participant_id: str) -> bytes:
        participant = self.conference.participants_by_id[participant_id]
        city = self.conference.city_of(participant)
        name = f"{self.conference.name} – {participant.name}"
        events = b"".join(self._feed_event(e, city) for e in self.agenda[participant_id])
        return self._head("PUBLISH", name, city.timezone) + events + _END

    def invite(self, participant_id: str, event: ScheduledEvent) -> bytes:
        participant = self.conference.participants_by_id[participant_id]
        city = self.conference.city_of(participant)
        # Privacy: a session invite names only its recipient; a meeting invite names
        # every member of the meeting, because they meet each other.
        if event.kind in SESSION_KINDS:
            people = self._attendee(self.attendance[event.event_id, participant_id])
        else:
            people = self._members(event.event_id)
        return (
            self._invite_head("REQUEST", city.timezone)
            + self._common(event, city.language, city.timezone)
            + self._description(event, city)
            + self.organizer_line
            + people
            + self._alarm(event, city.language)
            + _END
        )

    def cancel(self, cancellation: Cancellation) -> bytes:
        """METHOD:CANCEL (RFC 5546 3.2.5) for one participant's entry: same UID, a higher
        SEQUENCE, STATUS:CANCELLED; times in UTC, so it needs no VTIMEZONE."""
        vevent = Event()
        vevent.add("UID", uid(self.conference, cancellation.event_id))
        vevent.add("DTSTAMP", self.stamp)
        vevent.add("SEQUENCE", cancellation.sequence)
        vevent.add("DTSTART", cancellation.start.astimezone(UTC))
        vevent.add("DTEND", cancellation.end.astimezone(UTC))
        vevent.add("SUMMARY", plain_text(cancellation.title))
        vevent.add("STATUS", "CANCELLED")
        address = vCalAddress(f"mailto:{plain_text(cancellation.email)}")
        address.params["CN"] = plain_text(cancellation.name)
        address.params["CUTYPE"] = "INDIVIDUAL"
        vevent.add("ATTENDEE", address)
        lines = _lines(vevent)
        return (
            self._head("CANCEL", None, None)
            + b"".join(lines[:-1])
            + self.organizer_line
            + lines[-1]
            + _END
        )

    # -- pieces ----------------------------------------------------------------------------

    def _head(self, method: str, name: str | None, zone: str | None) -> bytes:
        """BEGIN:VCALENDAR, its properties and the zone's VTIMEZONE (if any)."""
        if method not in self.heads:
            cal = Calendar()
            cal.add("PRODID", PRODID)
            cal.add("VERSION", "2.0")
            cal.add("CALSCALE", "GREGORIAN")
            cal.add("METHOD", method)
            self.heads[method] = b"".join(_lines(cal)[:-1])
        named = b""
        if name and zone:
            named = _unknown_line("X-WR-CALNAME", name) + _unknown_line("X-WR-TIMEZONE", zone)
        return self.heads[method] + named + (self._timezone(zone) if zone else b"")

    def _invite_head(self, method: str, zone: str) -> bytes:
        if (method, zone) not in self.invite_heads:
            self.invite_heads[method, zone] = self._head(method, None, zone)
        return self.invite_heads[method, zone]

    def _timezone(self, zone: str) -> bytes:
        if zone not in self.timezones:
            self.timezones[zone] = b"".join(_lines(vtimezone(zone, *self.window)))
        return self.timezones[zone]

    def _feed_event(self, event: ScheduledEvent, city: City | None) -> bytes:
        language = city.language if city else self.language
        zone = city.timezone if city else self.conference.timezone
        return (
            self._common(event, language, zone)
            + self._description(event, city)
            + self._alarm(event, language)
        )

    def _common(self, event: ScheduledEvent, language: str, zone_name: str) -> bytes:
        """BEGIN:VEVENT and what every reader of that language and zone sees alike."""
        key = (event.event_id, language, zone_name)
        if key not in self.commons:
            zone = ZoneInfo(zone_name)
            vevent = Event()
            vevent.add("UID", uid(self.conference, event.event_id))
            vevent.add("DTSTAMP", self.stamp)
            vevent.add("SEQUENCE", self.sequences.get(event.event_id, 0))
            vevent.add("DTSTART", event.start.astimezone(zone))
            vevent.add("DTEND", event.end.astimezone(zone))
            vevent.add("SUMMARY", plain_text(event.title(language)))
            url = self._url(event)
            if url:
                vevent.add("URL", url)
                vevent.add("LOCATION", url)
            vevent.add("CATEGORIES", [plain_text(self._category(event, language))])
            vevent.add("STATUS", "CONFIRMED")
            vevent.add("TRANSP", "OPAQUE")
            self.commons[key] = b"".join(_lines(vevent)[:-1])
        return self.commons[key]

    def _description(self, event: ScheduledEvent, city: City | None) -> bytes:
        key = (event.event_id, city.id if city else None)
        if key not in self.descriptions:
            language = city.language if city else self.language
            text = self._description_text(event, language, city)
            self.descriptions[key] = _text_line("DESCRIPTION", text, newlines=True)
        return self.descriptions[key]

    def _alarm(self, event: ScheduledEvent, language: str) -> bytes:
        """The VALARM and END:VEVENT (RFC 5545 puts a component's properties before its
        subcomponents, so everything else comes before this)."""
        key = (event.event_id, language)
        if key not in self.alarms:
            alarm = Alarm()
            alarm.add("ACTION", "DISPLAY")
            alarm.add("DESCRIPTION", plain_text(event.title(language)))
            alarm.add("TRIGGER", -ALARM_BEFORE)
            self.alarms[key] = b"".join(_lines(alarm)) + b"END:VEVENT\r\n"
        return self.alarms[key]

    def _members(self, event_id: str) -> bytes:
        if event_id not in self.members:
            self.members[event_id] = b"".join(self._attendee(a) for a in self.by_event[event_id])
        return self.members[event_id]

    def _attendee(self, attendance: Attendance) -> bytes:
        required = attendance.role in ("host", "delegate")
        key = (attendance.participant_id, required)
        if key not in self.attendees:
            person = self.conference.participants_by_id[attendance.participant_id]
            address = vCalAddress(f"mailto:{plain_text(person.email)}")
            address.params["CN"] = plain_text(person.name)
            address.params["CUTYPE"] = "INDIVIDUAL"
            address.params["ROLE"] = "REQ-PARTICIPANT" if required else "OPT-PARTICIPANT"
            address.params["PARTSTAT"] = "NEEDS-ACTION"
            address.params["RSVP"] = "TRUE"
            self.attendees[key] = _property("ATTENDEE", address)
        return self.attendees[key]

    def _url(self, event: ScheduledEvent) -> str | None:
        url = self.conference.meeting_url_for(event.event_id)
        return plain_text(url).strip() if url else None

    def _category(self, event: ScheduledEvent, language: str) -> str:
        theme = self.conference.themes_by_id.get(event.theme or "")
        return theme.name(language) if theme else WORDS[language][event.kind]

    def _description_text(self, event: ScheduledEvent, language: str, reader: City | None) -> str:
        words = WORDS[language]
        lines: list[str] = [words[event.kind]]
        theme = self.conference.themes_by_id.get(event.theme or "")
        if theme:
            lines.append(f"{words['theme']}: {theme.name(language)}")
        interpreted = words["interpreted"] if event.interpreted else words["not_interpreted"]
        spoken = language_name(event.language, language)
        lines.append(f"{words['language']}: {spoken}, {interpreted}")
        lines.append(f"{words['time']}: {self._times(event, language, reader)}")
        if event.kind not in SESSION_KINDS:
            lines.append(f"{words['delegations']}:")
            for city, names in self._delegations(event, reader):
                # The conference feed may be shared widely: cities only, no names there.
                lines.append(f"- {city.name}: {', '.join(names)}" if reader else f"- {city.name}")
            meeting = self.matchmaking.meetings_by_id.get(event.event_id)
            reasons = pick_title(meeting.reasons, language) if meeting else ""
            if reasons:
                lines.append(f"{words['why']} {reasons}")
        url = self._url(event)
        if url:
            lines.append(f"{words['link']}: {url}")
        # One line per entry: a line break inside a name or title is not a new entry.
        return "\n".join(plain_text(line) for line in lines)

    def _delegations(
        self, event: ScheduledEvent, reader: City | None
    ) -> list[tuple[City, list[str]]]:
        """The meeting's members by city, the reader's own city first; names only."""
        by_city: dict[str, list[str]] = {}
        for attendance in self.by_event[event.event_id]:
            person = self.conference.participants_by_id[attendance.participant_id]
            by_city.setdefault(person.city_id, []).append(person.name)
        own = reader.id if reader else None
        order = sorted(by_city, key=lambda city_id: (city_id != own, city_id))
        return [(self.conference.cities_by_id[c], by_city[c]) for c in order]

    def _times(self, event: ScheduledEvent, language: str, reader: City | None) -> str:
        """Start–end in every place that matters to the reader, their own first: both
        cities of a meeting; for a session the reader's city and the organiser's zone."""
        places: list[tuple[str, ZoneInfo]] = []
        if event.kind in SESSION_KINDS:
            if reader is not None:
                places.append((reader.name, reader.zone))
            organiser = self.conference.timezone
            if reader is None or reader.timezone != organiser:
                places.append((_zone_city(organiser, language), self.conference.zone))
        else:
            for city, _ in self._delegations(event, reader):
                places.append((city.name, city.zone))
        # Places on the same wall-clock time share one entry ("11:00–11:45 Wien, Osnabrück").
        by_time: dict[str, list[str]] = {}
        for label, zone in places:
            span = f"{event.start.astimezone(zone):%H:%M}–{event.end.astimezone(zone):%H:%M}"
            by_time.setdefault(span, []).append(label)
        return " / ".join(f"{span} {', '.join(labels)}" for span, labels in by_time.items())


@lru_cache(maxsize=256)
def _zone_city(zone: str, language: str) -> str:
    """The city Babel names a zone after, in ``language`` ("Berlin", "İstanbul")."""
    return str(get_timezone_location(zone, locale=language, return_city=True))


# -- serialising ----------------------------------------------------------------------------

_END = b"END:VCALENDAR\r\n"
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")  # what no content line may hold


def _lines(component: Component) -> list[bytes]:
    """The component's content lines, each folded and ended by CRLF."""
    return [_fold(line) for line in component.content_lines() if line]


def _property(name: str, value: object) -> bytes:
    """One property as icalendar writes it (escaped, with its parameters), folded."""
    holder = Event()
    holder.add(name, value)
    (line,) = _lines(holder)[1:-1]
    return line


def _text_line(name: str, text: str, *, newlines: bool = False) -> bytes:
    """A property of type TEXT without parameters (escaped by icalendar's vText), folded:
    the quick way for the pieces made once per file or per city. Line breaks in ``text``
    become ``\\n`` when ``newlines``, else spaces."""
    value = vText(plain_text(text, newlines=newlines)).to_ical().decode()
    return _fold(f"{name}:{value}")


def _unknown_line(name: str, text: str) -> bytes:
    """An X- property as icalendar writes one (vUnknown: its text as it is, no escapes,
    which is how clients read X-WR-CALNAME), made one line of plain text, folded."""
    return _fold(f"{name}:{vUnknown(plain_text(text)).to_ical().decode()}")


def _fold(line: str) -> bytes:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence.

    icalendar folds character by character, the slow part of writing thousands of
    files; this takes the encoded line in slices. A line that would hold a raw control
    character (CR, LF, NUL ...) is refused: it could add lines to the calendar."""
    if _CONTROL.search(line):
        raise ValueError(f"a calendar line would hold a control character: {line[:60]!r}")
    data = line.encode("utf-8")
    if len(data) <= FOLD_OCTETS:
        return data + b"\r\n"
    parts = []
    start, limit = 0, FOLD_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: cut before its character
            end -= 1
        parts.append(data[start:end])
        start, limit = end, FOLD_OCTETS - 1  # a continuation line starts with a space
    parts.append(data[start:])
    return b"\r\n ".join(parts) + b"\r\n"


# -- time zones -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    """A change of a zone's UTC offset."""

    at: datetime  # UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str  # TZNAME after the change
    daylight: bool  # daylight saving time after the change

    @property
    def local(self) -> datetime:
        """The wall-clock time of the change, as read before it (RFC 5545 DTSTART)."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    def yearly(self) -> tuple[int, int, int]:
        """(month, week, weekday) of the change: week 1..4, or -1 for the last one."""
        local = self.local
        days = _calendar.monthrange(local.year, local.month)[1]
        week = -1 if local.day + 7 > days else (local.day - 1) // 7 + 1
        return local.month, week, local.weekday()

    def rule(self) -> tuple[object, ...]:
        """What must repeat every year for an RRULE to describe this change."""
        return (
            *self.yearly(),
            self.local.time(),
            self.offset_from,
            self.offset_to,
            self.name,
            self.daylight,
        )


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def vtimezone(zone_name: str, first: date, last: date) -> Timezone:
    """A VTIMEZONE for ``zone_name`` that is right from ``first`` to ``last`` (dates).

    Preferred form, as clients from Outlook to ical.js read it: one STANDARD and one
    DAYLIGHT observance with a yearly RRULE (e.g. last Sunday of March), used only when
    the zone's changes follow that rule in every year from the year before ``first`` to
    the year after ``last`` (checked against tzdata). A zone without changes there gets a
    single observance. Otherwise icalendar's ``Timezone.from_tzinfo`` over just that
    window, narrow on purpose: over wide ranges it writes RDATE lists, of which ical.js
    reads only the first value.
    """
    zone = ZoneInfo(zone_name)
    years = range(first.year - 1, last.year + 2)
    begin = datetime(years[0], 1, 1, tzinfo=UTC)
    end = datetime(years[-1] + 1, 1, 1, tzinfo=UTC)
    changes = _transitions(zone, begin, end)
    by_year: dict[int, list[_Transition]] = {year: [] for year in years}
    for change in changes:
        by_year.setdefault(change.local.year, []).append(change)
    rules = {tuple(c.rule() for c in by_year[year]) for year in years}

    tz = Timezone()
    tz.add("TZID", zone_name)
    if not changes:
        offset = _offset(zone, begin)
        fixed = TimezoneStandard()
        fixed.add("DTSTART", begin.replace(tzinfo=None))
        fixed.add("TZOFFSETFROM", offset)
        fixed.add("TZOFFSETTO", offset)
        fixed.add("TZNAME", begin.astimezone(zone).tzname() or zone_name)
        tz.add_component(fixed)
        return tz
    if len(rules) == 1 and all(len(by_year[year]) == 2 for year in years):
        for change in by_year[years[0]]:
            observance: TimezoneDaylight | TimezoneStandard = (
                TimezoneDaylight() if change.daylight else TimezoneStandard()
            )
            month, week, weekday = change.yearly()
            observance.add("DTSTART", change.local)
            observance.add(
                "RRULE", vRecur(freq="YEARLY", bymonth=month, byday=f"{week}{WEEKDAYS[weekday]}")
            )
            observance.add("TZOFFSETFROM", change.offset_from)
            observance.add("TZOFFSETTO", change.offset_to)
            observance.add("TZNAME", change.name)
            tz.add_component(observance)
        return tz
    return Timezone.from_tzinfo(
        zone,
        tzid=zone_name,
        first_date=first - timedelta(days=2),
        last_date=last + timedelta(days=2),
    )


def _transitions(zone: ZoneInfo, begin: datetime, end: datetime) -> list[_Transition]:
    """Every offset change of ``zone`` between two UTC instants, to the minute.

    zoneinfo does not publish its transitions, so scan hour by hour and narrow down:
    offsets never change twice within an hour in tzdata.
    """
    found: list[_Transition] = []
    step = timedelta(hours=1)
    moment = begin
    offset = _offset(zone, moment)
    while moment < end:
        following = moment + step
        new_offset = _offset(zone, following)
        if new_offset != offset:
            low, high = moment, following  # offset(low) is old, offset(high) is new
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            after = high.astimezone(zone)
            found.append(
                _Transition(
                    at=high,
                    offset_from=offset,
                    offset_to=new_offset,
                    name=after.tzname() or "",
                    daylight=bool(after.dst()),
                )
            )
            offset = new_offset
        moment = following
    return found


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta(0)


def _as_utc(stamp: datetime) -> datetime:
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)
