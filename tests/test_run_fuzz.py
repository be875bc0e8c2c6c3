"""A whole small run with random Unicode in names and titles (issue 11): every plane,
control characters, bidi and combining marks, Turkish İıŞş in participant, city and
conference names and session titles. Either loading refuses the text (file and row
named), or the run publishes and every output reads back to the same text after the
documented folding (docs/inputs.md): the .ics in ical.js, the agendas as well-formed
HTML, the CSV tables as written.

One fixed and two generated examples in CI (each a real solve and export, a few
seconds); ``SCHEDULER_FUZZ_EXAMPLES=2000`` runs a hundred (one per 20 examples of the
loader's).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import event as count
from hypothesis import strategies as st
from test_load import CONFERENCE_TOML, csv_text, valid_tables, write_inputs

from scheduler.errors import InputErrors
from scheduler.export.ical import calendar_language
from scheduler.export.tables import read_tables, table_frames
from scheduler.model import Conference, Session
from scheduler.pipeline import run
from tests.conftest import ROOT, require

EXAMPLES = int(os.environ.get("SCHEDULER_FUZZ_EXAMPLES", "20"))
RUNS = max(2, EXAMPLES // 20)
CLIENTS = ROOT / "tests" / "clients"
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
FOLD = re.compile(
    "[ \t\n\v\f\r\x85\u2028\u2029]*[\t\n\v\f\r\x85\u2028\u2029][ \t\n\v\f\r\x85\u2028\u2029]*"
)
SPECIAL = (
    "\x00\t\n\r\x1b\x7f\x85\u2028\u2029\u202e\u202c\u200f\u200d\u0301\u0307İıŞşĞğ\"'<>&;,\\^:=+-@{}"
)

# Mostly text a run accepts (every plane but no C0/C1), some with refused characters.
NAMES = st.text(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
        st.sampled_from(SPECIAL),
    ),
    min_size=1,
    max_size=40,
)


def folded(text: str) -> str:
    """What the loader keeps of a name: stripped, line breaks and tabs one space."""
    return FOLD.sub(" ", text.strip())


def ical_texts(paths: list[Path]) -> list[dict]:
    node = shutil.which("node")
    require(
        node is not None and (CLIENTS / "node_modules" / "ical.js").is_dir(),
        "ical.js (node; `make clients` installs it into tests/clients)",
    )
    done = subprocess.run(
        [str(node), str(CLIENTS / "ical_texts.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """A page's text, checking that every element is closed in order (well-formed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open)
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def page_text(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    assert not CONTROL.search(html.replace("\n", "")), path
    page = Page()
    page.feed(html)
    page.close()
    assert page.open == [], (path, page.open)
    return re.sub(r"\s+", " ", "".join(page.text))


@settings(
    max_examples=RUNS,
    deadline=None,
    derandomize=RUNS <= 2,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    people=st.lists(NAMES, min_size=3, max_size=3),
    cities=st.lists(NAMES, min_size=3, max_size=3),
    titles=st.lists(NAMES, min_size=3, max_size=3),
    name=NAMES,
)
@example(  # always one run that publishes: each kind of text the issue names
    people=["Şule\r\nIşık", "İsmail \u202eGül\u202c", 'A\u0301nna "Ä" <b>&amp; ^n;,\\'],
    cities=["Tepebaşı\u2028Merkez", "Çanakkale\t\U0001f3db", "\u05e2\u05d9\u05e8 \U00020000"],
    titles=["Digitale\nStadt =1+1", "Dijital şehir @SUM(1)", "\U0001d4af\u200d\u0307x"],
    name="Konferenz\r2020 ĞğİıŞş",
)
def test_random_names_run_and_read_back(
    people: list[str], cities: list[str], titles: list[str], name: str
) -> None:
    tables = valid_tables()
    # Three cities, one partnership, three participants: a quick solve and three PDFs.
    tables["cities"] = tables["cities"][:3]
    tables["partnerships"] = tables["partnerships"][:1]
    tables["participants"] = tables["participants"][:3]
    for row, text in zip(tables["participants"], people, strict=True):
        row["name"] = text
    for row, text in zip(tables["cities"], cities, strict=True):
        row["name"] = text
    tables["sessions"][0].update(title_de=titles[0], title_tr=titles[1], title_en=titles[2])
    escaped = "".join(f"\\u{ord(c):04x}" if c < " " or c in '"\\\x7f' else c for c in name)
    toml = CONFERENCE_TOML.replace('name = "Testkonferenz"', f'name = "{escaped}"')
    with tempfile.TemporaryDirectory(prefix="run-fuzz-") as scratch:
        inputs = write_inputs(Path(scratch) / "in", tables, toml)
        for stem, rows in tables.items():  # quoted, as spreadsheets write them
            text = csv_text(rows, quoting=1)  # csv.QUOTE_ALL
            (inputs / f"{stem}.csv").write_text(text, encoding="utf-8", newline="")
        out = Path(scratch) / "out"
        try:
            result = run(inputs, out, time_limit=5, deterministic=True)
        except InputErrors as errors:
            assert all(p.row is not None or p.file == "conference.toml" for p in errors.problems)
            assert not out.exists()
            count("refused by load")
            return
        count("published")
        conference = result.conference
        people_by_id = conference.participants_by_id
        assert [people_by_id[p].name for p in ("p1", "p2", "p3")] == [folded(t) for t in people]
        assert [c.name for c in conference.cities] == [folded(t) for t in cities]
        assert conference.name == folded(name)
        s1 = conference.sessions_by_id["s1"]
        assert [s1.titles[lang] for lang in ("de", "tr", "en")] == [folded(t) for t in titles]

        assert_calendars_name_everyone(out, conference, s1)

        # The agendas, as well-formed HTML with the names in their text.
        for city in conference.cities:
            text = page_text(out / "agendas" / f"{city.id}.html")
            assert re.sub(r"\s+", " ", city.name).strip() in text
        index = page_text(out / "agendas" / "index.html")
        assert re.sub(r"\s+", " ", conference.name).strip() in index

        # The tables, read back as written.
        written = read_tables(out)
        expected = table_frames(conference, result.matchmaking, result.schedule)
        for table, frame in expected.items():
            pd.testing.assert_frame_equal(written[table], frame, check_dtype=False)


def assert_calendars_name_everyone(out: Path, conference: Conference, s1: Session) -> None:
    """The calendars, as ical.js reads them: the feeds' names and titles, and each
    invite's attendees and organiser, as the inputs give them."""
    files = sorted(out.rglob("*.ics"))
    by_file = {Path(f["file"]).relative_to(out).as_posix(): f for f in ical_texts(files)}
    feed = by_file["calendars/conference.ics"]
    assert feed["calname"] == conference.name
    language = calendar_language(conference)
    summaries = {e["uid"].split("@")[0]: e["summary"] for e in feed["events"]}
    if "s1" in summaries:
        assert summaries["s1"] == s1.title(language)
    for pid, person in conference.participants_by_id.items():
        own = by_file.get(f"calendars/{pid}.ics")
        if own is None:
            continue  # no events, no feed
        assert own["calname"] == f"{conference.name} – {person.name}"
        city = conference.city_of(person)
        for event in own["events"]:
            if event["uid"].startswith("s1@"):
                assert event["summary"] == s1.title(city.language)
        for path, invite in by_file.items():
            if path.startswith(f"invites/{pid}/"):
                names = invite["events"][0]["attendees"]
                assert person.name in names, (path, names)
                assert invite["events"][0]["organizer"] == conference.organizer.name
