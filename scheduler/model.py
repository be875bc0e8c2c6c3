"""The domain model: small frozen dataclasses shared by every stage of the pipeline.

    files --load--> Conference --match--> Matchmaking --solve--> Schedule --export--> files
                                                                    |
                                                                  check

Everything here is already resolved and validated by ``load``: defaults are filled in
(city time zone and language, participant languages and delegate flag), times are aware
datetimes (UTC unless said otherwise), ids are checked. No stage re-reads files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

Language = Literal["de", "tr", "en"]
EventLanguage = Literal["de", "tr", "en", "de-tr"]
Role = Literal["expert", "administration", "youth"]
SessionKind = Literal["plenary", "workshop"]
MeetingKind = Literal["partner_meeting", "new_contact_meeting"]
EventKind = Literal["plenary", "workshop", "partner_meeting", "new_contact_meeting"]
AttendanceRole = Literal["host", "delegate", "attendee"]

LANGUAGES: tuple[Language, ...] = ("de", "tr", "en")
EVENT_LANGUAGES: tuple[EventLanguage, ...] = ("de", "tr", "en", "de-tr")
ROLES: tuple[Role, ...] = ("expert", "administration", "youth")
SESSION_KINDS: tuple[SessionKind, ...] = ("plenary", "workshop")
INTERPRETED: EventLanguage = "de-tr"


def can_follow(languages: frozenset[str], event_language: str) -> bool:
    """Who can follow an event (docs/inputs.md, sessions.csv): its language is one of
    theirs, or it is interpreted (``de-tr``) and they speak German or Turkish."""
    if event_language == INTERPRETED:
        return "de" in languages or "tr" in languages
    return event_language in languages


def pick_title(titles: Mapping[str, str], language: str) -> str:
    """A title in ``language``, falling back to German, then English, then Turkish."""
    for lang in (language, "de", "en", "tr"):
        if titles.get(lang):
            return titles[lang]
    return ""


@dataclass(frozen=True)
class Theme:
    id: str
    names: Mapping[str, str]  # {"de": ..., "tr": ..., "en": ...}

    def name(self, language: str) -> str:
        return pick_title(self.names, language)


@dataclass(frozen=True)
class Holiday:
    """A public holiday of a city's region (country-wide ones included)."""

    day: date
    name: str  # in English: the checker's messages, the reasons in unscheduled.csv
    local_name: str  # in the city's language: its agenda


@dataclass(frozen=True)
class City:
    id: str
    name: str
    country: str  # ISO 3166-1 alpha-2, upper case
    region: str | None  # ISO 3166-2, e.g. "DE-BW"; None when not given
    timezone: str  # IANA name, resolved (defaults applied)
    language: Language  # agenda language, resolved
    # resolved by load (scheduler/load/holidays.py), sorted by day: every year the
    # conference window touches, whether or not calendar.public_holidays applies them
    holidays: tuple[Holiday, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _holidays_by_day(self) -> Mapping[date, Holiday]:
        return {h.day: h for h in self.holidays}

    def holiday(self, day: date) -> Holiday | None:
        """The public holiday on that local date, or None."""
        return self._holidays_by_day.get(day)


@dataclass(frozen=True)
class Partnership:
    city_a: str
    city_b: str
    since: int | None = None


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    email: str
    city_id: str
    organisation: str
    role: Role
    languages: frozenset[str]  # resolved: the city's language when the cell is blank
    delegate: bool  # resolved: default True for administration
    interests: Mapping[str, int]  # theme_id -> 0..3, every theme present

    def can_follow(self, event_language: str) -> bool:
        return can_follow(self.languages, event_language)


@dataclass(frozen=True)
class Unavailability:
    """A period a participant cannot attend anything, as UTC instants [start, end)."""

    participant_id: str
    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class Session:
    id: str
    theme: str
    titles: Mapping[str, str]  # "de", "tr" always; "en" when given
    kind: SessionKind
    duration_minutes: int
    language: EventLanguage
    capacity: int | None = None  # attendees including hosts; None = no limit
    hosts: tuple[str, ...] = ()
    audience: frozenset[str] | None = None  # roles allowed; None = all roles
    not_before: date | None = None  # organiser's zone, inclusive
    not_after: date | None = None
    fixed_start: datetime | None = None  # aware

    @property
    def interpreted(self) -> bool:
        return self.language == INTERPRETED

    def title(self, language: str) -> str:
        return pick_title(self.titles, language)


@dataclass(frozen=True)
class RoleRule:
    """Narrows the calendar's local day for one role (e.g. youth only after school)."""

    role: Role
    day_start: time | None = None
    day_end: time | None = None


@dataclass(frozen=True)
class CalendarRules:
    weekdays: frozenset[int]  # 0 = Monday ... 6 = Sunday
    day_start: time
    day_end: time
    grid_minutes: int
    buffer_minutes: int
    max_events_per_day: int
    public_holidays: bool


@dataclass(frozen=True)
class Resources:
    rooms: int
    interpreters: int


@dataclass(frozen=True)
class MatchmakingRules:
    partner_meetings: bool
    new_contacts_per_city: int
    meeting_minutes: int
    min_score: float


@dataclass(frozen=True)
class Organizer:
    name: str
    email: str

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]


@dataclass(frozen=True)
class Conference:
    """Everything the organisers' files say, validated."""

    name: str
    start: date  # first day, organiser's zone, inclusive
    end: date  # last day, inclusive
    timezone: str  # organiser's zone
    organizer: Organizer
    meeting_url: str | None  # may contain "{event_id}"
    calendar: CalendarRules
    resources: Resources
    matchmaking: MatchmakingRules
    themes: tuple[Theme, ...]
    role_rules: tuple[RoleRule, ...]
    cities: tuple[City, ...]
    partnerships: tuple[Partnership, ...]
    participants: tuple[Participant, ...]
    unavailability: tuple[Unavailability, ...]
    sessions: tuple[Session, ...]
    preferences: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # (participant_id, session_id) -> weight 0..3, replaces the theme interest

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def cities_by_id(self) -> Mapping[str, City]:
        return {c.id: c for c in self.cities}

    @cached_property
    def participants_by_id(self) -> Mapping[str, Participant]:
        return {p.id: p for p in self.participants}

    @cached_property
    def participants_by_city(self) -> Mapping[str, tuple[Participant, ...]]:
        """Each city's participants, in the order of participants.csv."""
        grouped: dict[str, list[Participant]] = {}
        for participant in self.participants:
            grouped.setdefault(participant.city_id, []).append(participant)
        return {city: tuple(people) for city, people in grouped.items()}

    @cached_property
    def sessions_by_id(self) -> Mapping[str, Session]:
        return {s.id: s for s in self.sessions}

    @cached_property
    def themes_by_id(self) -> Mapping[str, Theme]:
        return {t.id: t for t in self.themes}

    def city_of(self, participant: Participant) -> City:
        return self.cities_by_id[participant.city_id]

    def meeting_url_for(self, event_id: str) -> str | None:
        if not self.meeting_url:
            return None
        return self.meeting_url.replace("{event_id}", event_id)

    @cached_property
    def wanted_pairs(self) -> tuple[tuple[Participant, Session, int], ...]:
        """Every participant and session with ``wanted_weight`` > 0, and that weight, in the
        order of the participants and sessions: computed once for the solver, the report,
        the checker, the review and `validate`'s summary. (No interest in the theme and no
        preference: w is 0 without asking.)"""
        sessions_of_theme: dict[str | None, list[int]] = {}
        place = {}
        for i, session in enumerate(self.sessions):
            sessions_of_theme.setdefault(session.theme, []).append(i)
            place[session.id] = i
        preferred: dict[str, list[int]] = {}
        for participant_id, session_id in self.preferences:
            if session_id in place:
                preferred.setdefault(participant_id, []).append(place[session_id])
        pairs = []
        for participant in self.participants:
            candidates = set(preferred.get(participant.id, ()))
            for theme, interest in participant.interests.items():
                if interest:
                    candidates.update(sessions_of_theme.get(theme, ()))
            for i in sorted(candidates):
                session = self.sessions[i]
                if (w := self.wanted_weight(participant, session)) > 0:
                    pairs.append((participant, session, w))
        return tuple(pairs)

    def wanted_weight(self, participant: Participant, session: Session) -> int:
        """The wanted weight w (docs/inputs.md, preferences.csv): the preference weight if
        given, else the theme interest; 0 when the participant cannot follow the language
        or their role is not in the audience. (Hosts attend their sessions whatever w is.)"""
        if not participant.can_follow(session.language):
            return 0
        if session.audience is not None and participant.role not in session.audience:
            return 0
        preferred = self.preferences.get((participant.id, session.id))
        if preferred is not None:
            return preferred
        return participant.interests.get(session.theme, 0)


@dataclass(frozen=True)
class Meeting:
    """A partner meeting or new-contact meeting between the delegates of two cities."""

    id: str  # pm-<a>-<b> / nc-<a>-<b>, city ids sorted
    kind: MeetingKind
    city_a: str  # sorted: city_a < city_b
    city_b: str
    delegates: tuple[str, ...]  # participant ids of both cities' delegates
    language: EventLanguage
    duration_minutes: int
    titles: Mapping[str, str]  # de, tr, en
    score: float
    reasons: Mapping[str, str]  # de, tr, en: the shared themes in words

    @property
    def interpreted(self) -> bool:
        return self.language == INTERPRETED

    def title(self, language: str) -> str:
        return pick_title(self.titles, language)


@dataclass(frozen=True)
class Match:
    """A row of matches.csv: every partnership and every chosen new contact."""

    city_a: str
    city_b: str
    kind: Literal["partner", "new"]
    score: float
    reasons: Mapping[str, str]  # de, tr, en
    # its meeting's id, set by matchmaking whenever a meeting is wanted: planned (in
    # Matchmaking.meetings) or found impossible (in Matchmaking.impossible); None only when
    # no meeting is wanted (partner_meetings = false). Nobody else builds pm-/nc- ids.
    meeting_id: str | None


@dataclass(frozen=True)
class UnscheduledItem:
    item_id: str
    kind: EventKind
    reason: str  # in plain words, something a person can act on


@dataclass(frozen=True)
class Matchmaking:
    meetings: tuple[Meeting, ...]  # meetings to schedule
    matches: tuple[Match, ...]
    impossible: tuple[UnscheduledItem, ...]  # meetings that cannot happen (no delegate)

    @cached_property
    def meetings_by_id(self) -> Mapping[str, Meeting]:
        return {m.id: m for m in self.meetings}


@dataclass(frozen=True)
class ScheduledEvent:
    event_id: str
    kind: EventKind
    theme: str | None  # None for meetings
    titles: Mapping[str, str]
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    language: EventLanguage
    room: int  # 1..rooms

    @property
    def interpreted(self) -> bool:
        return self.language == INTERPRETED

    def title(self, language: str) -> str:
        return pick_title(self.titles, language)


@dataclass(frozen=True)
class Attendance:
    event_id: str
    participant_id: str
    role: AttendanceRole


@dataclass(frozen=True)
class Schedule:
    """What the solver decided. Exporters only present it; they decide nothing."""

    events: tuple[ScheduledEvent, ...]  # sorted by start, then event_id
    attendance: tuple[Attendance, ...]  # sorted by event_id, then participant_id
    # every session and meeting not in ``events``, the meetings matchmaking found
    # impossible included, each once, sorted by item_id: the one list, decided where the
    # schedule is assembled (solve/assemble.py) and verified by check.py; unscheduled.csv,
    # report.json, the agendas, the CLI and the notebooks show it as it is
    unscheduled: tuple[UnscheduledItem, ...]
    status: Literal["OPTIMAL", "FEASIBLE"]
    objective: float  # attended weight, sum of w over attended sessions
    bound: float  # proven upper bound on the same quantity (any schedule, same meetings)
    solve_seconds: float
    # a re-plan: published events that could not stay at their time, and why
    displaced: Mapping[str, str] = field(default_factory=dict)
    # a re-plan with --moves: the published events moved further, and the attended weight
    # each move bought
    extra_moves: Mapping[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return 0.0 if self.bound <= 0 else max(0.0, (self.bound - self.objective) / self.bound)

    @cached_property
    def events_by_id(self) -> Mapping[str, ScheduledEvent]:
        return {e.event_id: e for e in self.events}

    @cached_property
    def unscheduled_by_id(self) -> Mapping[str, UnscheduledItem]:
        return {u.item_id: u for u in self.unscheduled}

    def attendance_of(self, participant_id: str) -> tuple[Attendance, ...]:
        return self._by_participant.get(participant_id, ())

    def attendees_of(self, event_id: str) -> tuple[Attendance, ...]:
        return self._by_event.get(event_id, ())

    # grouped once, in the attendance's order: a re-plan and the exporters ask for every
    # event's and every person's entries
    @cached_property
    def _by_participant(self) -> dict[str, tuple[Attendance, ...]]:
        return _grouped(self.attendance, lambda a: a.participant_id)

    @cached_property
    def _by_event(self) -> dict[str, tuple[Attendance, ...]]:
        return _grouped(self.attendance, lambda a: a.event_id)


def _grouped(
    attendance: tuple[Attendance, ...], key: Callable[[Attendance], str]
) -> dict[str, tuple[Attendance, ...]]:
    groups: dict[str, list[Attendance]] = {}
    for a in attendance:
        groups.setdefault(key(a), []).append(a)
    return {k: tuple(v) for k, v in groups.items()}


@dataclass(frozen=True)
class PublishedPlan:
    """What a re-plan keeps where it can: the published version's starts, rooms and
    calendar entries (docs/workflow.md, "Re-planning")."""

    starts: Mapping[str, datetime]  # event id -> UTC start
    rooms: Mapping[str, int]  # event id -> room
    entries: frozenset[tuple[str, str]]  # (participant id, event id) on their calendars


@dataclass(frozen=True)
class Satisfaction:
    """Attended weight over wanted weight, overall and per city (cities with wanted > 0)."""

    overall: float
    by_city: Mapping[str, float]

    @property
    def worst_city(self) -> tuple[str, float] | None:
        if not self.by_city:
            return None
        city = min(self.by_city, key=lambda c: (self.by_city[c], c))
        return city, self.by_city[city]


def satisfaction(conference: Conference, schedule: Schedule) -> Satisfaction:
    """Satisfaction as report.json gives it (docs/workflow.md): attended w / wanted w,
    overall and per city."""
    attended_pairs = {(a.participant_id, a.event_id) for a in schedule.attendance}
    wanted_by_city: dict[str, float] = {}
    attended_by_city: dict[str, float] = {}
    for participant, session, w in conference.wanted_pairs:
        city = participant.city_id
        wanted_by_city[city] = wanted_by_city.get(city, 0) + w
        if (participant.id, session.id) in attended_pairs:
            attended_by_city[city] = attended_by_city.get(city, 0) + w
    wanted = sum(wanted_by_city.values())
    attended = sum(attended_by_city.values())
    by_city = {
        c: attended_by_city.get(c, 0) / wanted_by_city[c]
        for c in sorted(wanted_by_city)
        if wanted_by_city[c] > 0
    }
    return Satisfaction(overall=attended / wanted if wanted else 0.0, by_city=by_city)
