"""Calendars: personal feeds, the conference feed and one invitation per person and event.

Written from the Schedule alone: times come from its events, who is invited from its
attendance. Nothing here decides anything; it only presents.

    calendars/<participant_id>.ics        METHOD:PUBLISH, that person's events, no attendees
    calendars/conference.ics              METHOD:PUBLISH, every event, no attendees
    invites/<participant_id>/<event>.ics  METHOD:REQUEST, exactly one VEVENT

Times carry the TZID of the reader's city (the organiser's zone in conference.ics) with a
VTIMEZONE built here (see ``vtimezone``), because clients disagree on icalendar's default
RDATE-list VTIMEZONEs (ical.js, the parser in Thunderbird, shows them an hour off).
See docs/calendars.md.
"""

from __future__ import annotations

import calendar as _calendar
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from icalendar import (
    Alarm,
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vRecur,
)

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

# The fixed words of a DESCRIPTION, in the reader's agenda language.
WORDS: Mapping[str, Mapping[str, str]] = {
    "de": {
        "theme": "Thema",
        "language": "Sprache",
        "interpreted": "simultan gedolmetscht",
        "not_interpreted": "ohne Dolmetschung",
        "time": "Zeit",
        "link": "Videokonferenz",
        "delegations": "Delegationen",
        "reasons": "Warum dieses Treffen?",
        "partner_meeting": "Partnertreffen",
        "new_contact_meeting": "Neuer Kontakt",
        "plenary": "Plenum",
        "workshop": "Workshop",
    },
    "tr": {
        "theme": "Konu",
        "language": "Dil",
        "interpreted": "simultane tercümeli",
        "not_interpreted": "tercümesiz",
        "time": "Saat",
        "link": "Video konferans",
        "delegations": "Heyetler",
        "reasons": "Neden bu toplantı?",
        "partner_meeting": "Kardeş şehir toplantısı",
        "new_contact_meeting": "Yeni bağlantı",
        "plenary": "Genel oturum",
        "workshop": "Çalıştay",
    },
    "en": {
        "theme": "Theme",
        "language": "Language",
        "interpreted": "simultaneous interpretation",
        "not_interpreted": "no interpretation",
        "time": "Time",
        "link": "Video call",
        "delegations": "Delegations",
        "reasons": "Why this meeting?",
        "partner_meeting": "Partner meeting",
        "new_contact_meeting": "New contact",
        "plenary": "Plenary",
        "workshop": "Workshop",
    },
}

LANGUAGE_NAMES: Mapping[str, Mapping[str, str]] = {
    "de": {"de": "Deutsch", "tr": "Türkisch", "en": "Englisch", "de-tr": "Deutsch/Türkisch"},
    "tr": {"de": "Almanca", "tr": "Türkçe", "en": "İngilizce", "de-tr": "Almanca/Türkçe"},
    "en": {"de": "German", "tr": "Turkish", "en": "English", "de-tr": "German/Turkish"},
}


def write_calendars(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    folder: Path,
    *,
    stamp: datetime,
    sequences: Mapping[str, int] | None = None,
    cancellations: Iterable[Cancellation] = (),
) -> None:
    """Write ``calendars/`` and ``invites/`` into ``folder`` from the schedule.

    ``stamp`` becomes every DTSTAMP (a naive value is taken as UTC); with the same schedule
    and stamp the files are byte-for-byte the same. ``sequences`` is every event's
    SEQUENCE (default 0); each of ``cancellations`` becomes a METHOD:CANCEL message in
    ``invites/<participant_id>/<event_id>.ics``. Earlier calendar files in ``folder`` are
    removed first, so a participant who lost all events keeps no stale feed.
    """
    writer = _Writer(conference, matchmaking, schedule, _as_utc(stamp), sequences or {})
    calendars = Path(folder) / "calendars"
    invites = Path(folder) / "invites"
    # Stale files from an earlier run would contradict this schedule.
    shutil.rmtree(invites, ignore_errors=True)
    if calendars.is_dir():
        for old in calendars.glob("*.ics"):
            old.unlink()
    calendars.mkdir(parents=True, exist_ok=True)

    _write(calendars / "conference.ics", writer.conference_feed())
    for participant_id in sorted(writer.agenda):
        _write(calendars / f"{participant_id}.ics", writer.personal_feed(participant_id))
        for event in writer.agenda[participant_id]:
            path = invites / participant_id / f"{event.event_id}.ics"
            _write(path, writer.invite(participant_id, event))
    for cancel in cancellations:
        path = invites / cancel.participant_id / f"{cancel.event_id}.ics"
        _write(path, writer.cancellation(cancel))


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


class _Writer:
    """Builds the calendars of one schedule; all lookups prepared once."""

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
        agenda_ids: dict[str, set[str]] = {}
        for attendance in sorted(schedule.attendance, key=lambda a: (a.event_id, a.participant_id)):
            if attendance.event_id not in self.by_event:
                continue  # attendance of an unscheduled event: nothing to show
            self.by_event[attendance.event_id].append(attendance)
            agenda_ids.setdefault(attendance.participant_id, set()).add(attendance.event_id)
        self.agenda: dict[str, list[ScheduledEvent]] = {
            pid: [e for e in self.events if e.event_id in ids] for pid, ids in agenda_ids.items()
        }
        # Every VTIMEZONE is valid over the conference window, whatever the zone.
        first = min([conference.start] + [e.start.date() for e in self.events])
        last = max([conference.end] + [e.end.date() for e in self.events])
        self.window = (first, last)
        self.timezones: dict[str, Timezone] = {}  # built once, shared by every file
        self.serialised: dict[tuple[str, str | None], bytes] = {}  # see _event_ical
        self.invite_heads: dict[str, Calendar] = {}  # by zone: all but the event
        self.language = calendar_language(conference)  # of conference.ics

    # -- calendars -------------------------------------------------------------------------

    def conference_feed(self) -> bytes:
        zone = self.conference.timezone
        cal = self._calendar("PUBLISH", self.conference.name, zone)
        self._add_timezones(cal, [zone])
        return _with_events(cal, [self._event_ical(event, None) for event in self.events])

    def personal_feed(self, participant_id: str) -> bytes:
        participant = self.conference.participants_by_id[participant_id]
        city = self.conference.city_of(participant)
        name = f"{self.conference.name} – {participant.name}"
        cal = self._calendar("PUBLISH", name, city.timezone)
        self._add_timezones(cal, [city.timezone])
        events = [self._event_ical(event, city) for event in self.agenda[participant_id]]
        return _with_events(cal, events)

    def invite(self, participant_id: str, event: ScheduledEvent) -> bytes:
        participant = self.conference.participants_by_id[participant_id]
        city = self.conference.city_of(participant)
        if city.timezone not in self.invite_heads:
            cal = self._calendar("REQUEST", None, None)
            self._add_timezones(cal, [city.timezone])
            self.invite_heads[city.timezone] = cal
        people = Event()
        organizer = vCalAddress(f"mailto:{self.conference.organizer.email}")
        organizer.params["CN"] = self.conference.organizer.name
        people.add("ORGANIZER", organizer)
        # Privacy: a session invite names only its recipient; a meeting invite names
        # every member of the meeting, because they meet each other.
        if event.kind in SESSION_KINDS:
            members = [
                a for a in self.by_event[event.event_id] if a.participant_id == participant_id
            ]
        else:
            members = self.by_event[event.event_id]
        for attendance in members:
            people.add("ATTENDEE", self._attendee(attendance))
        vevent = _with_properties(self._event_ical(event, city), people)
        return _with_events(self.invite_heads[city.timezone], [vevent])

    def cancellation(self, cancel: Cancellation) -> bytes:
        """METHOD:CANCEL for one participant's entry: same UID, a higher SEQUENCE,
        STATUS:CANCELLED; times in UTC, so it needs no VTIMEZONE."""
        cal = self._calendar("CANCEL", None, None)
        vevent = Event()
        vevent.add("UID", uid(self.conference, cancel.event_id))
        vevent.add("DTSTAMP", self.stamp)
        vevent.add("SEQUENCE", cancel.sequence)
        vevent.add("DTSTART", cancel.start.astimezone(UTC))
        vevent.add("DTEND", cancel.end.astimezone(UTC))
        vevent.add("SUMMARY", cancel.title)
        vevent.add("STATUS", "CANCELLED")
        organizer = vCalAddress(f"mailto:{self.conference.organizer.email}")
        organizer.params["CN"] = self.conference.organizer.name
        vevent.add("ORGANIZER", organizer)
        address = vCalAddress(f"mailto:{cancel.email}")
        address.params["CN"] = cancel.name
        vevent.add("ATTENDEE", address)
        cal.add_component(vevent)
        return cal.to_ical()

    # -- pieces ----------------------------------------------------------------------------

    def _calendar(self, method: str, name: str | None, zone: str | None) -> Calendar:
        cal = Calendar()
        cal.add("PRODID", PRODID)
        cal.add("VERSION", "2.0")
        cal.add("CALSCALE", "GREGORIAN")
        cal.add("METHOD", method)
        if name:
            cal.add("X-WR-CALNAME", name)
        if zone:
            cal.add("X-WR-TIMEZONE", zone)
        return cal

    def _add_timezones(self, cal: Calendar, zones: Iterable[str]) -> None:
        for zone in sorted(set(zones)):
            if zone not in self.timezones:
                self.timezones[zone] = vtimezone(zone, *self.window)
            cal.add_component(self.timezones[zone])

    def _attendee(self, attendance: Attendance) -> vCalAddress:
        person = self.conference.participants_by_id[attendance.participant_id]
        address = vCalAddress(f"mailto:{person.email}")
        address.params["CN"] = person.name
        address.params["CUTYPE"] = "INDIVIDUAL"
        required = attendance.role in ("host", "delegate")
        address.params["ROLE"] = "REQ-PARTICIPANT" if required else "OPT-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
        return address

    def _event_ical(self, event: ScheduledEvent, city: City | None) -> bytes:
        """The serialised VEVENT of ``_event``. Serialising is the slow part (icalendar
        folds character by character) and an event reads the same in every feed of one
        city, so it is done once per event and city."""
        key = (event.event_id, city.id if city else None)
        if key not in self.serialised:
            self.serialised[key] = self._event(event, city).to_ical()
        return self.serialised[key]

    def _event(self, event: ScheduledEvent, city: City | None) -> Event:
        """One VEVENT as a reader in ``city`` sees it (None: the conference feed), without
        people: in the city's language and zone."""
        language = city.language if city else self.language
        zone = city.zone if city else self.conference.zone
        summary = event.title(language)
        vevent = Event()
        vevent.add("UID", uid(self.conference, event.event_id))
        vevent.add("DTSTAMP", self.stamp)
        vevent.add("SEQUENCE", self.sequences.get(event.event_id, 0))
        vevent.add("DTSTART", event.start.astimezone(zone))
        vevent.add("DTEND", event.end.astimezone(zone))
        vevent.add("SUMMARY", summary)
        vevent.add("DESCRIPTION", self._description(event, language, city))
        url = self.conference.meeting_url_for(event.event_id)
        if url:
            vevent.add("URL", url)
            vevent.add("LOCATION", url)
        vevent.add("CATEGORIES", [self._category(event, language)])
        vevent.add("STATUS", "CONFIRMED")
        vevent.add("TRANSP", "OPAQUE")
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", summary)
        alarm.add("TRIGGER", -ALARM_BEFORE)
        vevent.add_component(alarm)
        return vevent

    def _category(self, event: ScheduledEvent, language: str) -> str:
        theme = self.conference.themes_by_id.get(event.theme or "")
        return theme.name(language) if theme else WORDS[language][event.kind]

    def _description(self, event: ScheduledEvent, language: str, reader: City | None) -> str:
        words = WORDS[language]
        lines: list[str] = [words[event.kind]]
        theme = self.conference.themes_by_id.get(event.theme or "")
        if theme:
            lines.append(f"{words['theme']}: {theme.name(language)}")
        interpreted = words["interpreted"] if event.interpreted else words["not_interpreted"]
        spoken = LANGUAGE_NAMES[language][event.language]
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
                lines.append(f"{words['reasons']} {reasons}")
        url = self.conference.meeting_url_for(event.event_id)
        if url:
            lines.append(f"{words['link']}: {url}")
        return "\n".join(lines)

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
                label = get_timezone_location(organiser, locale=language, return_city=True)
                places.append((label, self.conference.zone))
        else:
            for city, _ in self._delegations(event, reader):
                places.append((city.name, city.zone))
        # Places on the same wall-clock time share one entry ("11:00–11:45 Wien, Osnabrück").
        by_time: dict[str, list[str]] = {}
        for label, zone in places:
            span = f"{event.start.astimezone(zone):%H:%M}–{event.end.astimezone(zone):%H:%M}"
            by_time.setdefault(span, []).append(label)
        return " / ".join(f"{span} {', '.join(labels)}" for span, labels in by_time.items())


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


def _with_events(cal: Calendar, events: Iterable[bytes]) -> bytes:
    """``cal`` serialised with the serialised ``events`` as its last components."""
    end = b"END:VCALENDAR\r\n"
    head = cal.to_ical()
    if not head.endswith(end):
        raise ValueError("unexpected serialisation of a calendar")
    return head[: -len(end)] + b"".join(events) + end


def _with_properties(vevent: bytes, extra: Event) -> bytes:
    """A serialised VEVENT with the properties of ``extra`` added after its own (before
    its VALARM: RFC 5545 puts a component's properties before its subcomponents)."""
    lines = extra.to_ical().split(b"\r\n")
    properties = b"\r\n".join(lines[1:-2]) + b"\r\n"  # without BEGIN/END:VEVENT
    alarm = vevent.index(b"BEGIN:VALARM\r\n")
    return vevent[:alarm] + properties + vevent[alarm:]


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
