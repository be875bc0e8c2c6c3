"""The bundled sample conference in inputs/: facts the README and the docs promise."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler.load import load_conference
from scheduler.model import Conference
from tests.conftest import SAMPLE_INPUTS


@pytest.fixture(scope="module")
def sample() -> Conference:
    conference, warnings = load_conference(SAMPLE_INPUTS)
    assert warnings == []
    return conference


def test_sample_loads_without_errors_or_warnings(sample: Conference) -> None:
    assert sample.name == "Deutsch-Türkische Städtepartnerschaftskonferenz"
    assert (sample.start.isoformat(), sample.end.isoformat()) == ("2020-06-03", "2020-06-16")
    assert sample.timezone == "Europe/Berlin"


def test_sample_has_about_300_participants_and_the_23_partnerships(sample: Conference) -> None:
    assert 280 <= len(sample.participants) <= 320
    assert len(sample.partnerships) == 23
    assert 40 <= len(sample.cities) <= 50
    assert 35 <= len(sample.sessions) <= 45


def test_sample_has_the_four_themes_in_three_languages(sample: Conference) -> None:
    assert [t.id for t in sample.themes] == ["digital", "urban", "inclusion", "youth"]
    themes = sample.themes_by_id
    assert themes["urban"].names["de"] == "Nachhaltige Stadtentwicklung"
    assert themes["inclusion"].names["tr"] == "Dezavantajlı grupların ve mültecilerin korunması"
    assert themes["youth"].names["en"] == "Youth participation"
    assert {s.theme for s in sample.sessions} == set(themes)


def test_sample_opening_is_pinned_to_3_june_9_berlin(sample: Conference) -> None:
    opening = sample.sessions_by_id["opening"]
    assert opening.fixed_start == datetime(2020, 6, 3, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert opening.kind == "plenary" and opening.interpreted
    assert [s.id for s in sample.sessions if s.fixed_start] == ["opening"]


def test_sample_partnerships_are_the_documented_pairs(sample: Conference) -> None:
    pairs = {frozenset((p.city_a, p.city_b)) for p in sample.partnerships}
    assert frozenset(("osnabrueck", "canakkale")) in pairs
    assert frozenset(("mannheim", "kilis")) in pairs
    assert frozenset(("treptow-koepenick", "tepebasi")) in pairs
    # İstanbul and Beşiktaş have two German partners each, but are one city each
    assert sum("istanbul" in pair for pair in pairs) == 2
    assert sum("besiktas" in pair for pair in pairs) == 2
    berlin_istanbul = next(
        p for p in sample.partnerships if {p.city_a, p.city_b} == {"berlin", "istanbul"}
    )
    assert berlin_istanbul.since == 1989


def test_sample_keeps_turkish_and_german_letters(sample: Conference) -> None:
    names = {c.id: c.name for c in sample.cities}
    assert names["canakkale"] == "Çanakkale"
    assert names["istanbul"] == "İstanbul"
    assert names["tepebasi"] == "Tepebaşı (Eskişehir)"
    assert names["besiktas"] == "Beşiktaş (İstanbul)"
    assert names["osnabrueck"] == "Osnabrück"
    names_of_people = {p.name for p in sample.participants}
    assert {"Şule Işık", "Jörg Weiß"} <= names_of_people
    people = " ".join(names_of_people)
    for letter in "İıŞşğÇçÖöÜüß":  # no word starts with Ğ
        assert letter in people, letter


def test_every_partnered_city_has_a_delegate_but_one_city_has_none(sample: Conference) -> None:
    partnered = {c for p in sample.partnerships for c in (p.city_a, p.city_b)}
    with_delegate = {p.city_id for p in sample.participants if p.delegate}
    assert partnered <= with_delegate
    without = sorted({c.id for c in sample.cities} - with_delegate)
    assert without == ["leipzig"]


def test_sample_shows_the_variety_the_readme_promises(sample: Conference) -> None:
    roles = [p.role for p in sample.participants]
    assert 0.3 <= roles.count("expert") / len(roles) <= 0.5
    assert 0.2 <= roles.count("youth") / len(roles) <= 0.3
    assert any({"de", "tr"} <= p.languages for p in sample.participants)
    assert {s.language for s in sample.sessions} == {"de", "tr", "en", "de-tr"}
    assert any(s.audience == frozenset({"youth"}) for s in sample.sessions)
    assert any(s.capacity for s in sample.sessions)
    assert sample.cities_by_id["wien"].timezone == "Europe/Vienna"
    assert sample.cities_by_id["mannheim"].region == "DE-BW"  # Fronleichnam on 11 June
    assert len(sample.unavailability) >= 15
    assert len(sample.preferences) >= 20
    emails = [p.email.lower() for p in sample.participants]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith((".example.org", ".example.at", ".example.com.tr")) for e in emails)


def test_sample_is_comfortable_for_every_participant(sample: Conference) -> None:
    hosting: dict[str, int] = {}
    for session in sample.sessions:
        assert 60 <= session.duration_minutes <= 120 and session.duration_minutes % 15 == 0
        for host in session.hosts:
            person = sample.participants_by_id[host]
            assert person.can_follow(session.language)
            assert session.audience is None or person.role in session.audience
            hosting[host] = hosting.get(host, 0) + 1
    assert max(hosting.values()) <= 3
    for person in sample.participants:
        wanted = sum(1 for s in sample.sessions if sample.wanted_weight(person, s) > 0)
        assert wanted <= 20, person.id
