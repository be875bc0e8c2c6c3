"""Public holidays, resolved once: each city's, onto the model.

The solver (a holiday is not a free day), the checker (nobody attends on one) and the
agendas (which list them) all read ``City.holidays``; none asks the ``holidays`` package
itself. A city's holidays are its region's, country-wide ones included, over every year
the conference window touches with a margin of two days on either side (a participant's
local date may lie a day before or after the organiser's). When the package knows no
subdivisions for a country (Turkish provinces) the country's holidays apply; a country it
does not know has none.

Each holiday is named twice: in English (the checker's messages and the reasons in
unscheduled.csv) and in the city's language (its agenda). The package is always given a
language: without one the names follow the process locale.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import cache

import holidays

from scheduler.model import Conference, Holiday

# local dates of participants may lie this far outside the organiser's window
MARGIN = timedelta(days=2)
ENGLISH = "en_US"


def with_holidays(conference: Conference) -> Conference:
    """The conference with every city's public holidays resolved onto it."""
    first, last = conference.start - MARGIN, conference.end + MARGIN
    years = tuple(range(first.year, last.year + 1))
    cities = tuple(
        replace(city, holidays=city_holidays(city.country, city.region, city.language, years))
        for city in conference.cities
    )
    return replace(conference, cities=cities)


@cache
def city_holidays(
    country: str, region: str | None, language: str, years: tuple[int, ...]
) -> tuple[Holiday, ...]:
    """The public holidays of a region (country-wide ones included) in ``years``, by date,
    named in English and in ``language`` where the package has it (cities share their
    region's, hence the cache)."""
    subdiv = region.split("-", 1)[1] if region and "-" in region else region
    found = _calendar(country, subdiv, years, None)  # which subdivision, which languages
    if found is None:
        return ()  # a country the package does not know: no holidays to keep
    english = _calendar(country, found.subdiv, years, _language(found, ENGLISH))
    local = _calendar(country, found.subdiv, years, _language(found, language))
    assert english is not None and local is not None
    return tuple(Holiday(day, english[day], local[day]) for day in sorted(english))


def _calendar(
    country: str, subdiv: str | None, years: tuple[int, ...], language: str | None
) -> holidays.HolidayBase | None:
    """The package's holidays of the subdivision, else of the country; None when it does
    not know the country."""
    for attempt in (subdiv, None) if subdiv else (None,):
        try:
            return holidays.country_holidays(
                country, subdiv=attempt, years=years, language=language
            )
        except NotImplementedError:
            continue
    return None


def _language(calendar: holidays.HolidayBase, wanted: str) -> str | None:
    """The first of ``wanted``, its US variant, English and the country's own language
    that the package names this country's holidays in."""
    supported = getattr(calendar, "supported_languages", ())
    choices = (wanted, f"{wanted}_US", ENGLISH, getattr(calendar, "default_language", None))
    return next((c for c in choices if c and c in supported), None)
