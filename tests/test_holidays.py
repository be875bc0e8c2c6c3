"""Public holidays are resolved once, in load, onto each city; every stage reads them there."""

from __future__ import annotations

from datetime import date

from scheduler.load.holidays import with_holidays
from scheduler.model import City
from tests.builders import CANAKKALE, KILIS, MANNHEIM, OSNABRUECK, conference


def test_a_region_holiday_named_in_english_and_in_the_city_language() -> None:
    conf = conference(cities=(OSNABRUECK, MANNHEIM, CANAKKALE))
    man, osn = conf.cities_by_id["man"], conf.cities_by_id["osn"]
    corpus_christi = man.holiday(date(2020, 6, 11))
    assert corpus_christi is not None
    assert (corpus_christi.name, corpus_christi.local_name) == ("Corpus Christi", "Fronleichnam")
    assert osn.holiday(date(2020, 6, 11)) is None  # not a holiday in Lower Saxony
    assert osn.holiday(date(2020, 6, 10)) is None
    # country-wide ones too, over the whole year of the window
    unity = osn.holiday(date(2020, 10, 3))
    assert unity is not None and unity.local_name == "Tag der Deutschen Einheit"
    assert [h.day for h in man.holidays] == sorted(h.day for h in man.holidays)


def test_turkish_provinces_take_the_country_holidays() -> None:
    conf = conference(cities=(CANAKKALE, KILIS))
    for city in conf.cities:
        holiday = city.holiday(date(2020, 7, 15))
        assert holiday is not None
        assert holiday.local_name == "Demokrasi ve Millî Birlik Günü"
        assert holiday.name == "Democracy and National Unity Day"


def test_an_english_agenda_city_and_a_window_across_new_year() -> None:
    amsterdam = City("ams", "Amsterdam", "NL", None, "Europe/Amsterdam", "en")
    conf = conference(cities=(amsterdam,), start=date(2020, 12, 30), end=date(2020, 12, 31))
    new_year = conf.cities[0].holiday(date(2021, 1, 1))  # the day after: a local date still
    assert new_year is not None and new_year.name == new_year.local_name == "New Year's Day"
    assert with_holidays(conf) == conf  # resolving again changes nothing
