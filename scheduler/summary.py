"""What `scheduler validate` prints when the inputs are valid: the conference at a glance.

Organisers read it to see that the files say what they meant (how many cities, who can
follow which language, how much demand each theme has) before anything is solved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from scheduler.model import EVENT_LANGUAGES, ROLES, Conference

Line = str | tuple[str, object]  # a heading, or an indented label and its count


def _block(title: str, rows: Iterable[tuple[str, object]], indent: int = 2) -> list[Line]:
    """A heading and its "label  value" rows (aligned later, all blocks alike)."""
    return [title, *((" " * indent + label, value) for label, value in rows)]


def _aligned(lines: list[Line]) -> str:
    width = max((len(line[0]) for line in lines if isinstance(line, tuple)), default=0)
    return "\n".join(
        line if isinstance(line, str) else f"{line[0].ljust(width)}  {line[1]:>6}" for line in lines
    )


def summarize(conference: Conference) -> str:
    """A plain-text overview of a validated conference (cities, partnerships, participants,
    languages, sessions, total wanted weight), aligned for a terminal."""
    c = conference
    lines: list[Line] = [
        f"{c.name}",
        (
            f"  {c.start.isoformat()} to {c.end.isoformat()} ({c.timezone}),"
            f" {c.resources.rooms} room(s), {c.resources.interpreters} interpreter(s)"
        ),
        "",
    ]

    countries = Counter(city.country for city in c.cities)
    lines += _block(
        f"Cities: {len(c.cities)}",
        [(country, n) for country, n in sorted(countries.items())],
    )
    lines += ["", f"Partnerships: {len(c.partnerships)}", ""]

    country_of = {city.id: city.country for city in c.cities}
    roles = Counter(p.role for p in c.participants)
    lines += _block(
        f"Participants: {len(c.participants)}",
        [(role, roles.get(role, 0)) for role in ROLES]
        + [("delegates", sum(p.delegate for p in c.participants))],
    )
    by_country = Counter(country_of[p.city_id] for p in c.participants)
    lines += _block("  by country", [(k, n) for k, n in sorted(by_country.items())], indent=4)
    lines.append("")

    def speakers(language: str) -> int:
        return sum(language in p.languages for p in c.participants)

    # Those who need interpretation to follow the other side's language.
    only_one = sum(("de" in p.languages) != ("tr" in p.languages) for p in c.participants)
    lines += _block(
        "Languages (participants who can follow)",
        [
            ("de", speakers("de")),
            ("tr", speakers("tr")),
            ("en", speakers("en")),
            ("de and tr", sum({"de", "tr"} <= p.languages for p in c.participants)),
            ("only one of de, tr", only_one),
        ],
    )
    lines.append("")

    themes = Counter(s.theme for s in c.sessions)
    lines += _block(
        f"Sessions: {len(c.sessions)}",
        [(theme.name("en"), themes.get(theme.id, 0)) for theme in c.themes],
    )
    languages = Counter(s.language for s in c.sessions)
    lines += _block(
        "  by language", [(lang, languages.get(lang, 0)) for lang in EVENT_LANGUAGES], indent=4
    )
    lines += _block(
        "  other",
        indent=4,
        rows=[
            ("interpreted (de-tr)", sum(s.interpreted for s in c.sessions)),
            ("with fixed start", sum(s.fixed_start is not None for s in c.sessions)),
            ("with capacity limit", sum(s.capacity is not None for s in c.sessions)),
        ],
    )
    lines.append("")

    wanted = sum(w for _person, _session, w in c.wanted_pairs)
    lines += _block(
        "Demand",
        [
            ("total wanted weight", wanted),
            ("preferences given", len(c.preferences)),
            ("unavailability periods", len(c.unavailability)),
        ],
    )
    return _aligned(lines)
