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
from scheduler.load.problems import (
    Problems,
    Row,
    Sheet,
    identifier,
    one_of,
    reference,
    required_text,
)
from scheduler.model import LANGUAGES, City, Partnership

DEFAULT_TIMEZONE = {"DE": "Europe/Berlin", "TR": "Europe/Istanbul"}
DEFAULT_LANGUAGE = {"DE": "de", "TR": "tr"}
RESERVED_CITIES = {"index": "agendas/index.html is the page that links every city's agenda"}


def read_cities(problems: Problems, table: Table | None) -> Sheet[City]:
    """cities.csv, row by row: the valid cities, and the ids of broken ones."""
    cities: Sheet[City] = Sheet()
    if table is None:
        return cities
    first_row: dict[str, tuple[str, int]] = {}
    warned: set[str] = set()  # countries without known holidays, warned about once
    for row in problems.rows(table):
        city_id = identifier(row, "city_id", first_row, "city", RESERVED_CITIES)
        city = read_city(row, city_id, warned)
        if city and row.ok():
            cities.valid[city.id] = city
        elif city_id:
            cities.broken.add(city_id)  # known, but broken
    report_meeting_id_clashes(problems, table, first_row)
    return cities


def read_city(row: Row, city_id: str | None, warned: set[str]) -> City | None:
    """One row of cities.csv checked column by column; None when it is no city."""
    name = required_text(row, "name")
    country = city_country(row, warned)
    region = row.get("region").upper() or None
    if region and country:
        region = checked_region(row, country, region)
    zone = city_zone(row, country)
    language = one_of(
        row,
        "language",
        LANGUAGES,
        "an agenda language: expected de, tr or en",
        default=DEFAULT_LANGUAGE.get(country, "en"),
    )
    if city_id is None or language is None:
        return None
    return City(city_id, name, country, region, zone, language)


def city_country(row: Row, warned: set[str]) -> str:
    """A 2-letter country code ("" when it is none); a warning, once per country, when
    the holidays package knows no public holidays of it."""
    country = row["country"].upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        row.problem(
            "country",
            f"{row['country']!r} is not a 2-letter country code (ISO 3166-1), e.g. DE or TR",
        )
        return ""
    if country not in holiday_regions() and country not in warned:
        warned.add(country)
        row.problems.warnings.append(
            f"{row.table.file}, row {row.number}: the holidays package knows no public "
            f"holidays of country {country}; none are kept free there"
        )
    return country


def city_zone(row: Row, country: str) -> str:
    """The city's IANA time zone: the cell, else the one of DE or TR."""
    zone = row.get("timezone") or DEFAULT_TIMEZONE.get(country, "")
    if not zone:
        if country:
            row.problem(
                "timezone",
                f"required for a city outside DE and TR (country {country}): an IANA zone like Europe/Vienna",
            )
    elif zone_wrong := zone_problem(zone):
        row.problem("timezone", zone_wrong)
    return zone


def report_meeting_id_clashes(
    problems: Problems, table: Table, first_row: dict[str, tuple[str, int]]
) -> None:
    """City ids whose meeting ids (pm-<a>-<b>) would read alike, at the hyphenated one."""
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


def checked_region(row: Row, country: str, region: str) -> str | None:
    """An ISO 3166-2 code of the city's country that the holidays package accepts."""
    prefix, _, code = region.partition("-")
    if prefix != country or not re.fullmatch(r"[A-Z0-9]{1,3}", code):
        row.problem(
            "region",
            f"{region!r} is not a region of country {country}: expected an ISO 3166-2 "
            f"code like {country}-XX",
        )
        return None
    known = [c for c in holiday_regions().get(country, []) if c.isupper() or c.isdigit()]
    # Countries without subdivisions in the package (Turkey) have only country-wide
    # holidays, so any well-formed code is accepted there.
    if known and code not in known:
        row.problem(
            "region",
            f"{region!r} is not a region known for public holidays of {country}: expected "
            "one of " + ", ".join(f"{country}-{c}" for c in known),
        )
        return None
    return region


def read_partnerships(
    problems: Problems, table: Table | None, cities: Sheet[City]
) -> list[Partnership]:
    """partnerships.csv: pairs of known cities, each pair once (in either order)."""
    partnerships: list[Partnership] = []
    if table is None:
        return partnerships
    seen: dict[frozenset[str], int] = {}
    for row in problems.rows(table):
        a, b = row["city_a"], row["city_b"]
        ok = partner_city(row, "city_a", cities)
        ok = partner_city(row, "city_b", cities) and ok
        since_ok, since = partnership_since(row)
        if not ok or not since_ok:
            continue
        if a == b:
            row.problem("city_b", f"a city cannot be its own partner ({a})")
            continue
        pair = frozenset((a, b))
        if pair in seen:
            row.problem("city_b", f"the partnership {a}–{b} is already listed in row {seen[pair]}")
            continue
        seen[pair] = row.number
        first, second = sorted((a, b))
        partnerships.append(Partnership(first, second, since))
    return partnerships


def partner_city(row: Row, column: str, cities: Sheet[City]) -> bool:
    """Whether city_a or city_b names a city of cities.csv (required)."""
    if not row[column]:
        row.problem(column, "required: a city_id from cities.csv")
        return False
    return reference(row, column, "cities", cities)


def partnership_since(row: Row) -> tuple[bool, int | None]:
    """Whether the cell is valid, and the year since when the cities are partners
    (None when blank)."""
    if not row.get("since"):
        return True, None
    since = parse_int(row["since"])
    if since is None or not SINCE_YEARS[0] <= since <= SINCE_YEARS[1]:
        row.problem(
            "since",
            f"{row['since']!r} is not a year like 1988 ({SINCE_YEARS[0]} to {SINCE_YEARS[1]})",
        )
        return False, None
    return True, since
