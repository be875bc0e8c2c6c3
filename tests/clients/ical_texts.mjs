// Reads .ics files with ical.js (the parser inside Thunderbird) and prints, as JSON, the
// texts a person sees: the calendar's name and, per VEVENT, its summary, description,
// location, categories and the CN of its organiser and attendees.
//   node ical_texts.mjs a.ics b.ics ...  ->  [{"file", "calname", "events": [...]}, ...]
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const files = [];
for (const file of process.argv.slice(2)) {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  const events = root.getAllSubcomponents("vevent").map((vevent) => ({
    uid: vevent.getFirstPropertyValue("uid"),
    summary: vevent.getFirstPropertyValue("summary"),
    description: vevent.getFirstPropertyValue("description"),
    location: vevent.getFirstPropertyValue("location"),
    categories: vevent.getAllProperties("categories").flatMap((p) => p.getValues()),
    organizer: (vevent.getFirstProperty("organizer") || { getParameter: () => null }).getParameter("cn"),
    attendees: vevent.getAllProperties("attendee").map((p) => p.getParameter("cn")),
  }));
  files.push({ file, calname: root.getFirstPropertyValue("x-wr-calname"), events });
}
process.stdout.write(JSON.stringify(files));
