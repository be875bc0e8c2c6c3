// Reads .ics files with ical.js (the parser inside Thunderbird) and prints, as JSON, every
// VEVENT's UID, DTSTART and DTEND as UTC ISO instants, with the zone ical.js resolved.
//   node ical_times.mjs a.ics b.ics ...  ->  [{"file", "uid", "start", "end", "zones"}, ...]
// No zone is registered globally: a TZID must resolve to the file's own VTIMEZONE, else
// ical.js falls back to floating time and "zones" shows it.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function instant(vevent, name) {
  const prop = vevent.getFirstProperty(name);
  const time = prop.getFirstValue();
  const iso = new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
  return { iso, tzid: prop.getParameter("tzid") || null, zone: time.zone ? time.zone.tzid : null };
}

const rows = [];
for (const file of process.argv.slice(2)) {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  for (const vevent of root.getAllSubcomponents("vevent")) {
    const start = instant(vevent, "dtstart");
    const end = instant(vevent, "dtend");
    rows.push({
      file,
      uid: vevent.getFirstPropertyValue("uid"),
      summary: vevent.getFirstPropertyValue("summary"),
      start: start.iso,
      end: end.iso,
      zones: [start.tzid, start.zone, end.tzid, end.zone],
    });
  }
}
process.stdout.write(JSON.stringify(rows));
