"""libical's iTIP check (the library inside Evolution) over .ics files.

Run with the SYSTEM python (Debian python3-gi + gir1.2-ical-3.0), not the project venv:

    /usr/bin/python3 tests/clients/libical_check.py a.ics b.ics ...

Prints JSON: {file: {"ok": bool, "parse_errors": [...], "itip_errors": [...]}}. "ok" is
libical's restriction check for the file's METHOD (RFC 5546: e.g. a REQUEST needs
ORGANIZER, ATTENDEE, DTSTAMP, UID); the lists are the X-LIC-ERROR properties libical adds
while parsing and while checking.
"""

from __future__ import annotations

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib


def errors_in(component: ICalGLib.Component) -> list[str]:
    """Every X-LIC-ERROR in the component tree."""
    found = []
    prop = component.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while prop is not None:
        found.append(prop.as_ical_string().strip())
        prop = component.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    child = component.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    while child is not None:
        found.extend(errors_in(child))
        child = component.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    return found


def check(path: str) -> dict[str, object]:
    with open(path, encoding="utf-8") as handle:
        component = ICalGLib.Component.new_from_string(handle.read())
    if component is None:
        return {
            "ok": False,
            "parse_errors": ["libical could not parse the file"],
            "itip_errors": [],
        }
    parse_errors = errors_in(component)
    ok = bool(ICalGLib.restriction_check(component))
    itip_errors = [e for e in errors_in(component) if e not in parse_errors]
    return {"ok": ok, "parse_errors": parse_errors, "itip_errors": itip_errors}


if __name__ == "__main__":
    print(json.dumps({path: check(path) for path in sys.argv[1:]}))
