"""cities.csv and partnerships.csv."""

from __future__ import annotations

import re

from scheduler.load.cells import (
    SINCE_YEARS,
    holiday_regions,
    meeting_id_clashes,
    parse_int,
    zone_problem,
)
from scheduler.load.files import Table
from scheduler.load.problems import Problems, Sheet, identifier, required_text
from scheduler.model import LANGUAGES, City, Partnership

DEFAULT_TIMEZONE = {"DE": "Europe/Berlin", "TR": "Europe/Istanbul"}
DEFAULT_LANGUAGE = {"DE": "de", "TR": "tr"}
RESERVED_CITIES = {"index": "agendas/index.html is the page that links every city's agenda"}


def read_cities(problems: Problems, table: Table | None) -> Sheet[City]:
    cities: Sheet[City] = Sheet()
    if table is None:
        return cities
    first_row: dict[str, tuple[str, int]] = {}
    unknown_countries: set[str] = set()
    for row, cells in table.rows:
        at = problems.at(table, row)
        problems_before = len(problems.problems)
        city_id = identifier(
            problems, table, row, cells, "city_id", first_row, "city", RESERVED_CITIES
        )
        name = required_text(problems, table, row, cells, "name")
        country = cells["country"].upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            at(
                "country",
                f"{cells['country']!r} is not a 2-letter country code (ISO 3166-1), e.g. DE or TR",
            )
            country = ""
        if country and country not in holiday_regions() and country not in unknown_countries:
            unknown_countries.add(country)
            problems.warnings.append(
                f"{table.file}, row {row}: the holidays package knows no public holidays "
                f"of country {country}; none are kept free there"
            )
        region = cells.get("region", "").upper() or None
        if region and country:
            region = checked_region(problems, table, row, country, region)
        zone = cells.get("timezone", "") or DEFAULT_TIMEZONE.get(country, "")
        if not zone:
            if country:
                at(
                    "timezone",
                    f"required for a city outside DE and TR (country {country}): an IANA zone like Europe/Vienna",
                )
        elif zone_wrong := zone_problem(zone):
            at("timezone", zone_wrong)
        language = cells.get("language", "").lower() or DEFAULT_LANGUAGE.get(country, "en")
        if language not in LANGUAGES:
            at(
                "language",
                f"{cells['language']!r} is not an agenda language: expected de, tr or en",
            )
        if city_id and problems.row_ok(table, row, problems_before):
            cities.valid[city_id] = City(city_id, name, country, region, zone, language)  # type: ignore[arg-type]
        elif city_id:
            cities.broken.add(city_id)  # known, but broken
    rows = {city_id: row for city_id, row in first_row.values()}
    for (a, b), (c, d) in meeting_id_clashes(rows):
        problems.problem(
            table.file,
            rows[c] if "-" in c else rows[d],
            "city_id",
            f"the meetings of {a} with {b} and of {c} with {d} would both be "
            f"called pm-{a}-{b} (a file name): city ids joined by '-' must not read "
            "alike; rename one of them",
        )
    return cities


def checked_region(
    problems: Problems, table: Table, row: int, country: str, region: str
) -> str | None:
    """An ISO 3166-2 code of the city's country that the holidays package accepts."""
    at = problems.at(table, row)
    prefix, _, code = region.partition("-")
    if prefix != country or not re.fullmatch(r"[A-Z0-9]{1,3}", code):
        at(
            "region",
            f"{region!r} is not a region of country {country}: expected an ISO 3166-2 "
            f"code like {country}-XX",
        )
        return None
    known = [c for c in holiday_regions().get(country, []) if c.isupper() or c.isdigit()]
    # Countries without subdivisions in the package (Turkey) have only country-wide
    # holidays, so any well-formed code is accepted there.
    if known and code not in known:
        at(
            "region",
            f"{region!r} is not a region known for public holidays of {country}: expected "
            "one of " + ", ".join(f"{country}-{c}" for c in known),
        )
        return None
    return region


def read_partnerships(
    problems: Problems, table: Table | None, cities: Sheet[City]
) -> list[Partnership]:
    partnerships: list[Partnership] = []
    if table is None:
        return partnerships
    seen: dict[frozenset[str], int] = {}
    for row, cells in table.rows:
        at = problems.at(table, row)
        a, b = cells["city_a"], cells["city_b"]
        ok = True
        for column, city in (("city_a", a), ("city_b", b)):
            if not city:
                at(column, "required: a city_id from cities.csv")
                ok = False
            elif not problems.known("cities", city, cities):
                at(
                    column,
                    f"unknown city {city!r}: expected a city_id from cities.csv",
                )
                ok = False
        since = None
        if cells.get("since"):
            since = parse_int(cells["since"])
            if since is None or not SINCE_YEARS[0] <= since <= SINCE_YEARS[1]:
                at(
                    "since",
                    f"{cells['since']!r} is not a year like 1988 "
                    f"({SINCE_YEARS[0]} to {SINCE_YEARS[1]})",
                )
                ok = False
        if not ok:
            continue
        if a == b:
            at("city_b", f"a city cannot be its own partner ({a})")
            continue
        pair = frozenset((a, b))
        if pair in seen:
            at(
                "city_b",
                f"the partnership {a}–{b} is already listed in row {seen[pair]}",
            )
            continue
        seen[pair] = row
        first, second = sorted((a, b))
        partnerships.append(Partnership(first, second, since))
    return partnerships
