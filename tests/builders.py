"""Small conferences built in code for tests: sensible defaults, override what matters.

conf = conference(participants=[participant("p1")], sessions=[session("s1")])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from scheduler.load.holidays import with_holidays
from scheduler.model import (
    CalendarRules,
    City,
    Conference,
    MatchmakingRules,
    Organizer,
    Participant,
    Partnership,
    Resources,
    RoleRule,
    Session,
    Theme,
    Unavailability,
)

THEMES = (
    Theme("digital", {"de": "Digitalisierung", "tr": "Dijitalleşme", "en": "Digitalisation"}),
    Theme(
        "urban",
        {
            "de": "Nachhaltige Stadtentwicklung",
            "tr": "Sürdürülebilir kentsel gelişim",
            "en": "Sustainable urban development",
        },
    ),
    Theme(
        "inclusion",
        {
            "de": "Schutz von marginalisierten Gruppen und Geflüchteten",
            "tr": "Dezavantajlı grupların ve mültecilerin korunması",
            "en": "Protection of marginalised groups and refugees",
        },
    ),
    Theme(
        "youth",
        {"de": "Jugendpartizipation", "tr": "Gençlerin katılımı", "en": "Youth participation"},
    ),
)

OSNABRUECK = City("osn", "Osnabrück", "DE", "DE-NI", "Europe/Berlin", "de")
CANAKKALE = City("can", "Çanakkale", "TR", "TR-17", "Europe/Istanbul", "tr")
MANNHEIM = City("man", "Mannheim", "DE", "DE-BW", "Europe/Berlin", "de")
KILIS = City("kil", "Kilis", "TR", "TR-79", "Europe/Istanbul", "tr")


def calendar(**overrides: Any) -> CalendarRules:
    values: dict[str, Any] = {
        "weekdays": frozenset(range(5)),
        "day_start": time(9, 0),
        "day_end": time(18, 0),
        "grid_minutes": 15,
        "buffer_minutes": 15,
        "max_events_per_day": 3,
        "public_holidays": True,
    }
    values.update(overrides)
    return CalendarRules(**values)


def participant(
    pid: str,
    city_id: str = "osn",
    *,
    role: str = "expert",
    languages: Iterable[str] = ("de",),
    delegate: bool | None = None,
    interests: Mapping[str, int] | None = None,
    name: str | None = None,
    email: str | None = None,
    organisation: str = "",
) -> Participant:
    all_interests = {t.id: 0 for t in THEMES}
    all_interests.update(interests or {"digital": 2})
    return Participant(
        id=pid,
        name=name or f"Person {pid}",
        email=email or f"{pid}@example.org",
        city_id=city_id,
        organisation=organisation,
        role=role,  # type: ignore[arg-type]
        languages=frozenset(languages),
        delegate=(role == "administration") if delegate is None else delegate,
        interests=all_interests,
    )


def session(
    sid: str,
    *,
    theme: str = "digital",
    kind: str = "workshop",
    duration: int = 60,
    language: str = "de",
    **fields: Any,
) -> Session:
    titles = fields.pop(
        "titles", {"de": f"Sitzung {sid}", "tr": f"Oturum {sid}", "en": f"Session {sid}"}
    )
    return Session(
        id=sid,
        theme=theme,
        titles=titles,
        kind=kind,  # type: ignore[arg-type]
        duration_minutes=duration,
        language=language,  # type: ignore[arg-type]
        **fields,
    )


def unavailable(pid: str, start: datetime, end: datetime, reason: str = "") -> Unavailability:
    return Unavailability(pid, start, end, reason)


def conference(**overrides: Any) -> Conference:
    """A two-city conference (Osnabrück–Çanakkale) over the 2020 window; override anything.
    Its cities' public holidays are resolved as load resolves them."""
    values: dict[str, Any] = {
        "name": "Testkonferenz",
        "start": date(2020, 6, 3),
        "end": date(2020, 6, 16),
        "timezone": "Europe/Berlin",
        "organizer": Organizer("Konferenzbüro", "konferenz@example.org"),
        "meeting_url": "https://meet.example.org/{event_id}",
        "calendar": calendar(),
        "resources": Resources(rooms=4, interpreters=2),
        "matchmaking": MatchmakingRules(
            partner_meetings=True, new_contacts_per_city=2, meeting_minutes=45, min_score=0.5
        ),
        "themes": THEMES,
        "role_rules": (RoleRule("youth", day_start=time(14, 0)),),
        "cities": (OSNABRUECK, CANAKKALE),
        "partnerships": (Partnership("can", "osn"),),
        "participants": (),
        "unavailability": (),
        "sessions": (),
        "preferences": {},
    }
    values.update(overrides)
    for key in ("cities", "partnerships", "participants", "unavailability", "sessions", "themes"):
        values[key] = tuple(values[key])
    return with_holidays(Conference(**values))
