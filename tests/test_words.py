"""One glossary of fixed words (scheduler/export/words.py) serves the calendars and the
agendas: an event reads the same in a participant's calendar as on their city's page."""

from __future__ import annotations

from pathlib import Path

import icalendar

from scheduler.export.agendas import write_agendas
from scheduler.export.ical import write_calendars
from scheduler.export.words import WORDS, language_name
from tests.test_agendas import visible_text
from tests.test_ical import STAMP, example


def test_every_language_has_every_word() -> None:
    assert set(WORDS["de"]) == set(WORDS["tr"])
    assert set(WORDS["de"]) <= set(WORDS["en"])  # English: the index page's words too
    assert language_name("de-tr", "tr") == "Almanca/Türkçe"


def test_calendar_and_agenda_use_the_same_words(tmp_path: Path) -> None:
    conf, matchmaking, schedule = example()
    write_calendars(conf, matchmaking, schedule, tmp_path, stamp=STAMP)
    write_agendas(conf, matchmaking, schedule, tmp_path, pdf=False)
    for city_id, person, lang in (("osn", "osn-admin", "de"), ("can", "can-youth", "tr")):
        words = WORDS[lang]
        feed = icalendar.Calendar.from_ical((tmp_path / f"calendars/{person}.ics").read_bytes())
        (plenary,) = [e for e in feed.walk("VEVENT") if str(e["UID"]).startswith("s-digital@")]
        calendar_lines = str(plenary["DESCRIPTION"]).splitlines()
        agenda = visible_text((tmp_path / f"agendas/{city_id}.html").read_text("utf-8"))
        shared = [
            words["plenary"],
            f"{words['language']}: {language_name('de-tr', lang)}, {words['interpreted']}",
            f"{words['link']}: https://meet.example.org/s-digital",
        ]
        for text in shared:
            assert any(text in line for line in calendar_lines), (lang, text, calendar_lines)
            assert text in agenda, (lang, text)
