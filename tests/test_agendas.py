"""Per-city agendas: what a city's organisers read, in their language and time zone.

A small Osnabrück–Çanakkale–Mannheim–Kilis–Amsterdam conference with a hand-made Schedule
(so these tests do not depend on the solver); pages are checked as text, in a real
browser (headless Chromium over the DevTools protocol, at a phone's 390 px) and as PDF.
"""

from __future__ import annotations

import base64
import dataclasses
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.export.agendas import PARALLEL_PDFS_FROM, city_view, render_pdfs, write_agendas
from scheduler.model import (
    Attendance,
    City,
    Conference,
    EventKind,
    EventLanguage,
    Match,
    Matchmaking,
    Meeting,
    Partnership,
    Schedule,
    ScheduledEvent,
    UnscheduledItem,
)
from tests.builders import CANAKKALE, KILIS, MANNHEIM, OSNABRUECK, conference, participant, session
from tests.conftest import SAMPLE_INPUTS, require

AMSTERDAM = City("ams", "Amsterdam", "NL", None, "Europe/Amsterdam", "en")
MARKUP = '<script>alert(1)</script> & "x"'
GERMAN_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag")
TURKISH_WEEKDAYS = ("Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma")
PHONE_WIDTH = 390
BROWSER_TIMEOUT_SECONDS = 60


def _conference() -> Conference:
    return conference(
        cities=(OSNABRUECK, CANAKKALE, MANNHEIM, KILIS, AMSTERDAM),
        partnerships=(Partnership("can", "osn", since=2004), Partnership("kil", "man")),
        participants=[
            participant(
                "o1", "osn", role="administration", languages=("de", "tr"), name="Jürgen Groß"
            ),
            participant("o2", "osn", name="Anna Weiß", interests={"youth": 3}),
            participant(
                "c1", "can", role="administration", languages=("tr", "de"), name="Ayşe Yılmaz"
            ),
            participant(
                "c2", "can", languages=("tr",), name="İsmail Doğan", organisation="Gençlik Merkezi"
            ),
            participant("m1", "man", role="administration", name="Mara Mannheimer"),
            participant("k1", "kil", role="administration", languages=("tr",), name="Kerem Işık"),
            participant("a1", "ams", role="administration", languages=("en",), name="Anne Vries"),
        ],
        sessions=[
            session("s1", language="de-tr", titles={"de": MARKUP, "tr": MARKUP}, hosts=("c2",)),
            session(
                "s2",
                theme="urban",
                language="tr",
                titles={
                    "de": "Beispiele aus İstanbul",
                    "tr": "İstanbul’dan örnekler: şehir ağaçları",
                },
            ),
            session(
                "s3",
                theme="youth",
                language="de",
                titles={"de": "Jugendbeteiligung in Straßen", "tr": "Sokaklarda gençlik"},
            ),
        ],
    )


def _meeting(mid: str, kind: str, a: str, b: str, delegates: tuple[str, ...]) -> Meeting:
    return Meeting(
        id=mid,
        kind=kind,  # type: ignore[arg-type]
        city_a=a,
        city_b=b,
        delegates=delegates,
        language="de" if kind == "partner_meeting" else "de-tr",
        duration_minutes=45,
        titles={"de": f"Treffen {a}–{b}", "tr": f"Toplantı {a}–{b}", "en": f"Meeting {a}–{b}"},
        score=0.9,
        reasons={
            "de": "Beide Städte: Digitalisierung",
            "tr": "İki şehir de: Dijitalleşme",
            "en": "Both cities: Digitalisation",
        },
    )


MEETINGS = (
    _meeting("nc-ams-can", "new_contact_meeting", "ams", "can", ("a1", "c1")),
    _meeting("nc-can-man", "new_contact_meeting", "can", "man", ("c1", "m1")),
    _meeting("pm-can-osn", "partner_meeting", "can", "osn", ("c1", "o1")),
    _meeting("pm-kil-man", "partner_meeting", "kil", "man", ("k1", "m1")),
)


def _matchmaking() -> Matchmaking:
    kinds = {"partner_meeting": "partner", "new_contact_meeting": "new"}
    return Matchmaking(
        meetings=MEETINGS,
        matches=tuple(
            Match(m.city_a, m.city_b, kinds[m.kind], m.score, m.reasons, m.id)  # type: ignore[arg-type]
            for m in MEETINGS
        ),
        impossible=(),
    )


def _event(conf: Conference, event_id: str, start: datetime, minutes: int) -> ScheduledEvent:
    if event_id in conf.sessions_by_id:
        s = conf.sessions_by_id[event_id]
        kind, theme, titles, language = s.kind, s.theme, s.titles, s.language
    else:
        m = next(m for m in MEETINGS if m.id == event_id)
        kind, theme, titles, language = m.kind, None, m.titles, m.language  # type: ignore[assignment]
    return ScheduledEvent(
        event_id, kind, theme, titles, start, start + timedelta(minutes=minutes), language, 1
    )


def _schedule(conf: Conference) -> Schedule:
    events = (
        # 07:00 UTC on Wednesday 3 June 2020: 09:00 in Osnabrück, 10:00 in Çanakkale.
        _event(conf, "s1", datetime(2020, 6, 3, 7, 0, tzinfo=UTC), 60),
        _event(conf, "pm-can-osn", datetime(2020, 6, 4, 12, 0, tzinfo=UTC), 45),
        _event(conf, "nc-can-man", datetime(2020, 6, 5, 8, 0, tzinfo=UTC), 45),
        _event(conf, "s2", datetime(2020, 6, 8, 9, 0, tzinfo=UTC), 60),
    )
    attendance = [
        Attendance("s1", "o1", "attendee"),
        Attendance("s1", "c1", "attendee"),
        Attendance("s1", "c2", "host"),
        Attendance("pm-can-osn", "o1", "delegate"),
        Attendance("pm-can-osn", "c1", "delegate"),
        Attendance("nc-can-man", "c1", "delegate"),
        Attendance("nc-can-man", "m1", "delegate"),
        Attendance("s2", "c2", "attendee"),
        Attendance("s2", "k1", "attendee"),
    ]
    return Schedule(
        events=events,
        attendance=tuple(sorted(attendance, key=lambda a: (a.event_id, a.participant_id))),
        unscheduled=(
            UnscheduledItem(
                "nc-ams-can", "new_contact_meeting", "no common free time of the delegates"
            ),
            UnscheduledItem(
                "pm-kil-man", "partner_meeting", "no common free time of the delegates"
            ),
            UnscheduledItem("s3", "workshop", "no free room"),
        ),
        status="OPTIMAL",
        objective=4,
        bound=4,
        solve_seconds=0.1,
    )


@pytest.fixture(scope="module")
def agendas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    conf = _conference()
    out = tmp_path_factory.mktemp("outputs")
    write_agendas(conf, _matchmaking(), _schedule(conf), out)
    return out / "agendas"


def page(agendas: Path, city_id: str) -> str:
    return (agendas / f"{city_id}.html").read_text(encoding="utf-8")


def visible_text(html: str) -> str:
    """The page's text without tags and the inline stylesheet (what a reader sees)."""
    import html as html_lib

    body = html.split("<body>", 1)[-1]
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


# --- files and content ----------------------------------------------------------------------


def test_writes_html_and_pdf_for_every_city_and_an_index(agendas: Path) -> None:
    names = sorted(p.name for p in agendas.iterdir())
    expected = sorted(
        [f"{c}.{ext}" for c in ("ams", "can", "kil", "man", "osn") for ext in ("html", "pdf")]
        + ["index.html"]
    )
    assert names == expected
    index = (agendas / "index.html").read_text(encoding="utf-8")
    for city_id in ("ams", "can", "kil", "man", "osn"):
        assert f'href="{city_id}.html"' in index
    assert 'href="../calendars/conference.ics"' in index
    # The public programme lists every scheduled event in the organisers' zone (Berlin).
    text = visible_text(index)
    assert "Wednesday 3 June 2020" in text and "09:00–10:00 CEST" in text
    assert "Beispiele aus İstanbul" in text and "İstanbul’dan örnekler" in text


def test_times_are_in_the_city_zone_with_the_zone_named(agendas: Path) -> None:
    osn, can = visible_text(page(agendas, "osn")), visible_text(page(agendas, "can"))
    assert "Mittwoch, 3. Juni 2020" in osn and "09:00–10:00 Uhr" in osn
    assert "3 Haziran 2020 Çarşamba" in can and "10:00–11:00" in can
    assert "Europe/Berlin" in osn and "MESZ" in osn
    assert "Europe/Istanbul" in can and "TSİ" in can
    # A meeting also shows the other city's local time.
    assert "14:00–14:45 Uhr" in osn
    assert "15:00–15:45 Uhr Ortszeit Çanakkale (Europe/Istanbul)" in osn
    assert "Osnabrück yerel saatiyle 14:00–14:45 (Europe/Berlin)" in can


def test_every_fixed_word_is_in_the_city_language(agendas: Path) -> None:
    for city_id in ("can", "kil"):
        html = page(agendas, city_id)
        assert '<html lang="tr">' in html
        for weekday in GERMAN_WEEKDAYS:
            assert weekday not in html, (city_id, weekday)
    can = visible_text(page(agendas, "can"))
    assert "Pazartesi" in can  # s2 on Monday 8 June
    assert "Dijitalleşme" in can and "Sürdürülebilir kentsel gelişim" in can
    assert "Almanca/Türkçe, simultane tercümeli" in can
    assert "İki şehir de: Dijitalleşme" in can
    for city_id in ("osn", "man"):
        html = page(agendas, city_id)
        assert '<html lang="de">' in html
        for weekday in TURKISH_WEEKDAYS:
            assert not re.search(rf"\b{weekday}\b", html), (city_id, weekday)
    osn = visible_text(page(agendas, "osn"))
    assert "Digitalisierung" in osn and "Beide Städte: Digitalisierung" in osn
    ams = page(agendas, "ams")
    assert '<html lang="en">' in ams
    assert "Agenda for Amsterdam" in ams and "Both cities: Digitalisation" in ams


def test_meetings_show_partner_delegates_reasons_and_what_was_not_scheduled(
    agendas: Path,
) -> None:
    can = visible_text(page(agendas, "can"))
    assert "Kardeş şehir: Osnabrück" in can and "2004 yılından beri" in can
    assert "Çanakkale heyeti: Ayşe Yılmaz" in can
    assert "Osnabrück heyeti: Jürgen Groß" in can
    assert "Yeni bağlantı: Mannheim" in can and "Mannheim heyeti: Mara Mannheimer" in can
    # The new contact with Amsterdam was not scheduled: the Schedule's reason is shown.
    assert "Yeni bağlantı: Amsterdam" in can
    assert "Planlanamadı: no common free time of the delegates" in can
    man = visible_text(page(agendas, "man"))
    assert "Partnerstadt: Kilis" in man
    assert "Nicht eingeplant: no common free time of the delegates" in man
    assert "Videokonferenz: https://meet.example.org/nc-can-man" in man


def test_day_by_day_lists_the_city_people_and_meeting_links(agendas: Path) -> None:
    can = visible_text(page(agendas, "can"))
    assert "Çanakkale katılımcıları: Ayşe Yılmaz, İsmail Doğan (yürütücü)" in can
    assert "Video konferans: https://meet.example.org/s1" in can
    osn = visible_text(page(agendas, "osn"))
    assert "Teilnehmende aus Osnabrück: Jürgen Groß" in osn
    # Days come in order, each with its events.
    days = visible_text(page(agendas, "osn").split('<section id="days">', 1)[1])
    assert days.index("Mittwoch, 3. Juni 2020") < days.index(MARKUP)
    assert days.index(MARKUP) < days.index("Donnerstag, 4. Juni 2020")
    assert days.index("Donnerstag, 4. Juni 2020") < days.index("Treffen can–osn")


def test_personal_agendas_link_calendars_only_for_people_with_events(agendas: Path) -> None:
    osn = page(agendas, "osn")
    assert 'href="../calendars/o1.ics"' in osn
    assert "../calendars/o2.ics" not in osn  # Anna Weiß has no events
    assert "Keine Termine." in visible_text(osn)


def test_holidays_of_the_city_region_in_the_window(agendas: Path) -> None:
    # Fronleichnam (11 June 2020) is a holiday in Baden-Württemberg, not in Lower Saxony.
    assert "Donnerstag, 11. Juni 2020: Fronleichnam" in visible_text(page(agendas, "man"))
    osn = visible_text(page(agendas, "osn"))
    assert "Fronleichnam" not in osn and "keinen gesetzlichen Feiertag" in osn


def test_unscheduled_note_lists_sessions_the_city_wanted(agendas: Path) -> None:
    osn = visible_text(page(agendas, "osn"))
    # Anna Weiß wants youth sessions; s3 was not placed.
    assert "Jugendbeteiligung in Straßen (Workshop): no free room" in osn
    assert "Die Gründe stehen so in der Datei unscheduled.csv (auf Englisch)." in osn
    assert "gewünscht von: Anna Weiß" in osn
    # The scheduler's reasons are English: marked so, for screen readers and translators.
    assert '<span lang="en">no free room</span>' in page(agendas, "osn")
    # Nobody in Çanakkale wants s3: it is not on their page.
    assert "Sokaklarda gençlik" not in page(agendas, "can")


def test_titles_with_markup_are_shown_as_text(agendas: Path) -> None:
    for name in ("can.html", "osn.html", "index.html"):
        html = (agendas / name).read_text(encoding="utf-8")
        assert "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;x&#34;" in html


def test_no_email_address_on_any_agenda(agendas: Path) -> None:
    conf = _conference()
    for file in agendas.glob("*.html"):
        html = file.read_text(encoding="utf-8")
        assert "@" not in visible_text(html), file.name
        assert "mailto:" not in html
        assert conf.organizer.email not in html
        for p in conf.participants:
            assert p.email not in html


def test_output_is_deterministic(agendas: Path, tmp_path: Path) -> None:
    conf = _conference()
    write_agendas(conf, _matchmaking(), _schedule(conf), tmp_path)
    for file in sorted(agendas.glob("*.html")):
        assert (tmp_path / "agendas" / file.name).read_bytes() == file.read_bytes(), file.name


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_keeps_turkish_and_german_letters(agendas: Path) -> None:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    can = _pdf_text(agendas / "can.pdf")
    for word in ("Çanakkale", "İstanbul", "Ayşe Yılmaz", "İsmail Doğan", "Dijitalleşme"):
        assert word in can, word
    assert "ş" in can and "ğ" in can and "ı" in can
    assert "Kerem Işık" in _pdf_text(agendas / "kil.pdf")
    osn = _pdf_text(agendas / "osn.pdf")
    for word in ("Osnabrück", "Jürgen Groß", "Anna Weiß", "09:00–10:00 Uhr"):
        assert word in osn, word
    fonts = subprocess.run(
        ["pdffonts", str(agendas / "can.pdf")], capture_output=True, text=True, check=True
    ).stdout
    embedded = [line.split()[0] for line in fonts.splitlines()[2:]]
    # Subsets of DejaVu Sans ("ABCDEF+DejaVuSans-Bold"), every one embedded.
    assert embedded and all(f.split("+")[-1].startswith("DejaVuSans") for f in embedded), embedded
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:]), fonts
    assert "@" not in can + osn


def _pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# --- a real browser --------------------------------------------------------------------------


def _above_nine(fd: int) -> int:
    """The same file as ``fd`` on a descriptor number of 10 or more."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Chromium:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (the DevTools protocol on
    file descriptors 3 and 4, NUL-separated JSON): no extra Python package needed, and the
    viewport can be set to a phone's width exactly (``--window-size`` has a minimum)."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.TemporaryDirectory()
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # The browser's ends are moved above 9 first, so that putting them on 3 and 4
        # below never overwrites one with the other.
        to_browser_r, from_browser_w = _above_nine(to_browser_r), _above_nine(from_browser_w)

        arguments = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={self.profile.name}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        # The protocol expects the pipes as fds 3 and 4: bash moves them there (no
        # preexec_fn, which is unsafe with threads; dash has no fds above 9).
        self.process = subprocess.Popen(
            [
                "bash",
                "-c",
                f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}',
                "bash",
                *arguments,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_browser_r, from_browser_w),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.send = os.fdopen(to_browser_w, "wb", buffering=0)
        self.receive = os.fdopen(from_browser_r, "rb", buffering=0)
        self.buffer = b""
        self.last_id = 0
        self.pending: list[dict[str, Any]] = []
        try:
            self._open_phone_tab()
        except Exception:
            self.close()
            raise

    def _open_phone_tab(self) -> None:
        """A tab with a phone's viewport (390 px wide, mobile: the meta viewport applies)."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            self.session,
            width=PHONE_WIDTH,
            height=800,
            deviceScaleFactor=1,
            mobile=True,
        )
        self.call("Page.enable", self.session)

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            # A hung browser fails the test instead of hanging the suite.
            ready, _, _ = select.select([self.receive], [], [], BROWSER_TIMEOUT_SECONDS)
            if not ready:
                raise RuntimeError(f"Chromium did not answer in {BROWSER_TIMEOUT_SECONDS} s")
            chunk = self.receive.read(1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.send.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.pending.append(reply)

    def _wait_for(self, method: str) -> None:
        for i, event in enumerate(self.pending):
            if event.get("method") == method:
                del self.pending[i]
                return
        while self._message().get("method") != method:
            pass

    def open(self, path: Path) -> dict[str, Any]:
        """Load a page; return its layout width, scripts, rendered text and a screenshot."""
        self.pending.clear()
        self.call("Page.navigate", self.session, url=path.resolve().as_uri())
        self._wait_for("Page.loadEventFired")
        probe = """JSON.stringify({
            scrollWidth: document.documentElement.scrollWidth,
            clientWidth: document.documentElement.clientWidth,
            scripts: document.scripts.length,
            lang: document.documentElement.lang,
            text: document.body.innerText})"""
        value = self.call("Runtime.evaluate", self.session, expression=probe, returnByValue=True)[
            "result"
        ]["value"]
        result: dict[str, Any] = json.loads(value)
        shot = self.call(
            "Page.captureScreenshot", self.session, format="png", captureBeyondViewport=True
        )
        result["screenshot"] = base64.b64decode(shot["data"])
        return result

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.send.close()
        self.receive.close()
        self.profile.cleanup()


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    executable = shutil.which("chromium")
    require(executable is not None, "chromium")
    assert executable is not None
    chromium = Chromium(executable)
    try:
        yield chromium
    finally:
        chromium.close()


def test_the_overflow_probe_sees_a_page_wider_than_a_phone(
    browser: Chromium, tmp_path: Path
) -> None:
    """The control for the test below: the probe does catch horizontal overflow."""
    wide = tmp_path / "wide.html"
    wide.write_text(
        '<!DOCTYPE html><html lang="en"><meta name="viewport" content="width=device-width">'
        '<body><div style="width:600px">wide</div></body></html>',
        encoding="utf-8",
    )
    assert browser.open(wide)["scrollWidth"] > PHONE_WIDTH


def test_every_page_renders_in_a_browser_on_a_phone_without_horizontal_overflow(
    browser: Chromium, agendas: Path, tmp_path: Path
) -> None:
    expected = {
        "osn": ["Mittwoch, 3. Juni 2020", "09:00–10:00 Uhr", MARKUP, "Jürgen Groß"],
        "can": ["3 Haziran 2020 Çarşamba", "10:00–11:00", MARKUP, "İstanbul’dan örnekler"],
        "man": ["Fronleichnam", "Treffen can–man", "10:00–10:45 Uhr"],
        "kil": ["8 Haziran 2020 Pazartesi", "12:00–13:00", "Planlanamadı"],
        "ams": ["Agenda for Amsterdam", "Not scheduled"],
        "index": ["Public programme", "Wednesday 3 June 2020", MARKUP],
    }
    languages = {"osn": "de", "can": "tr", "man": "de", "kil": "tr", "ams": "en", "index": "en"}
    for name, words in expected.items():
        result = browser.open(agendas / f"{name}.html")
        (tmp_path / f"{name}.png").write_bytes(result["screenshot"])
        assert result["screenshot"].startswith(b"\x89PNG") and len(result["screenshot"]) > 5000
        assert result["clientWidth"] == PHONE_WIDTH
        assert result["scrollWidth"] <= PHONE_WIDTH, (name, result["scrollWidth"])
        assert result["scripts"] == 0, name
        assert result["lang"] == languages[name], name
        for word in words:
            assert word in result["text"], (name, word)


# --- PDFs for many cities, solved conferences ------------------------------------------------


def _tiny_pdf_jobs(folder: Path, count: int) -> list[tuple[str, str]]:
    conf = _conference()
    view = city_view(conf, _matchmaking(), _schedule(conf), conf.cities_by_id["can"])
    data = json.dumps(view, ensure_ascii=False)
    return [(data, str(folder / f"{n}.pdf")) for n in range(count)]


def test_many_pdfs_are_rendered_by_helper_processes(tmp_path: Path) -> None:
    jobs = _tiny_pdf_jobs(tmp_path, PARALLEL_PDFS_FROM)
    render_pdfs(jobs, workers=2)
    for _, path in jobs:
        assert Path(path).read_bytes().startswith(b"%PDF")


def test_a_failing_helper_is_reported(tmp_path: Path) -> None:
    jobs = _tiny_pdf_jobs(tmp_path, PARALLEL_PDFS_FROM)
    data, _ = jobs[1]  # the second share goes to the helper process
    jobs[1] = (data, str(tmp_path / "missing-folder" / "1.pdf"))
    with pytest.raises(RuntimeError, match="rendering agenda PDFs failed"):
        render_pdfs(jobs, workers=2)


def test_agendas_of_a_solved_conference_show_every_event_of_the_city(tmp_path: Path) -> None:
    from scheduler.matchmaking import match
    from scheduler.solve import SolveOptions, solve

    conf = conference(
        participants=[
            participant("o1", "osn", role="administration", languages=("de", "tr")),
            participant("o2", "osn", interests={"digital": 3, "urban": 2}),
            participant("c1", "can", role="administration", languages=("tr", "de")),
            participant("c2", "can", languages=("tr",), interests={"urban": 3}),
        ],
        sessions=[
            session("s-de", language="de", theme="digital"),
            session("s-tr", language="tr", theme="urban"),
            session("s-both", language="de-tr", theme="urban"),
        ],
    )
    matchmaking = match(conf)
    schedule = solve(conf, matchmaking, SolveOptions(time_limit=10, deterministic=True))
    assert schedule.events
    write_agendas(conf, matchmaking, schedule, tmp_path)
    for city in conf.cities:
        text = visible_text((tmp_path / "agendas" / f"{city.id}.html").read_text("utf-8"))
        people = {p.id for p in conf.participants if p.city_id == city.id}
        for event in schedule.events:
            if people & {a.participant_id for a in schedule.attendees_of(event.event_id)}:
                local = event.start.astimezone(city.zone)
                assert event.title(city.language) in text
                assert local.strftime("%H:%M") in text
    unplaced = {item.item_id for item in schedule.unscheduled}
    osn = visible_text((tmp_path / "agendas" / "osn.html").read_text("utf-8"))
    assert ("Nicht eingeplant" in osn) == ("pm-can-osn" in unplaced)


def test_holidays_of_a_turkish_province_are_the_country_ones(tmp_path: Path) -> None:
    # 15 July is Demokrasi ve Millî Birlik Günü; the package has no Turkish provinces.
    conf = conference(start=date(2020, 7, 13), end=date(2020, 7, 17))
    write_agendas(conf, Matchmaking((), (), ()), _empty_schedule(), tmp_path, pdf=False)
    can = visible_text((tmp_path / "agendas" / "can.html").read_text("utf-8"))
    assert "15 Temmuz 2020 Çarşamba: Demokrasi ve Millî Birlik Günü" in can
    assert not (tmp_path / "agendas" / "can.pdf").exists()


def _empty_schedule() -> Schedule:
    return Schedule((), (), (), "OPTIMAL", 0, 0, 0.0)


def _rough_schedule(conf: Conference, matchmaking: Matchmaking) -> Schedule:
    """Every session and meeting at simple times, attended by those who want it (w >= 2):
    not a valid plan (the solver makes those), only something realistic to show."""
    days = [conf.start + timedelta(days=n) for n in range((conf.end - conf.start).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5]
    items: list[tuple[str, EventKind, str | None, Mapping[str, str], int, EventLanguage]] = [
        (s.id, s.kind, s.theme, s.titles, s.duration_minutes, s.language) for s in conf.sessions
    ]
    items += [
        (m.id, m.kind, None, m.titles, m.duration_minutes, m.language) for m in matchmaking.meetings
    ]
    events: list[ScheduledEvent] = []
    attendance: list[Attendance] = []
    for number, (event_id, kind, theme, titles, minutes, language) in enumerate(items):
        day = weekdays[number % len(weekdays)]
        start = datetime(
            day.year, day.month, day.day, 7 + (number // len(weekdays)) % 7, tzinfo=UTC
        )
        end = start + timedelta(minutes=minutes)
        events.append(ScheduledEvent(event_id, kind, theme, titles, start, end, language, 1))
        if event_id in matchmaking.meetings_by_id:
            for pid in matchmaking.meetings_by_id[event_id].delegates:
                attendance.append(Attendance(event_id, pid, "delegate"))
            continue
        s = conf.sessions_by_id[event_id]
        for p in conf.participants:
            if p.id in s.hosts:
                attendance.append(Attendance(event_id, p.id, "host"))
            elif conf.wanted_weight(p, s) >= 2:
                attendance.append(Attendance(event_id, p.id, "attendee"))
    return Schedule(
        events=tuple(sorted(events, key=lambda e: (e.start, e.event_id))),
        attendance=tuple(sorted(attendance, key=lambda a: (a.event_id, a.participant_id))),
        unscheduled=(),
        status="FEASIBLE",
        objective=0,
        bound=0,
        solve_seconds=0.0,
    )


def test_sample_conference_agendas_fit_a_phone_and_keep_to_their_language(
    browser: Chromium, tmp_path: Path
) -> None:
    from scheduler.matchmaking import match
    from scheduler.pipeline import load

    conf, _ = load(SAMPLE_INPUTS)
    matchmaking = match(conf)
    schedule = _rough_schedule(conf, matchmaking)
    write_agendas(conf, matchmaking, schedule, tmp_path, pdf=False)
    folder = tmp_path / "agendas"
    emails = [p.email for p in conf.participants] + [conf.organizer.email]
    for city in conf.cities:
        html = (folder / f"{city.id}.html").read_text("utf-8")
        assert f'<html lang="{city.language}">' in html
        assert not any(email in html for email in emails), city.id
        foreign = {"tr": GERMAN_WEEKDAYS, "de": TURKISH_WEEKDAYS}.get(city.language, ())
        assert not any(re.search(rf"\b{day}\b", visible_text(html)) for day in foreign), city.id
    # The longest pages and the index, in the browser at a phone's width.
    longest = sorted(folder.glob("*.html"), key=lambda f: (-f.stat().st_size, f.name))[:3]
    for file in [*longest, folder / "index.html"]:
        result = browser.open(file)
        assert result["scrollWidth"] <= PHONE_WIDTH, (file.name, result["scrollWidth"])


# --- one view, two templates ---------------------------------------------------------------

# Parts of the view that are not shown as text: ids, link targets, the whole glossary.
# The labels are checked apart: some are shown only in one case ("no meetings").
NOT_SHOWN = {"words", "labels", "lang", "city_id", "anchor", "calendar", "event_id", "interpreted"}


def _shown_strings(value: Any) -> Iterator[str]:
    """Every string of a page's view that the page shows."""
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_SHOWN:
                yield from _shown_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _shown_strings(item)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_html_and_pdf_show_every_string_of_the_same_view(agendas: Path) -> None:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    conf = _conference()
    for city in conf.cities:
        view = city_view(conf, _matchmaking(), _schedule(conf), city)
        html = _squeezed(visible_text(page(agendas, city.id)))
        pdf = _squeezed(_pdf_text(agendas / f"{city.id}.pdf"))
        shown = list(_shown_strings(view))
        assert len(shown) > 10, city.id
        for text in shown:
            assert _squeezed(text) in html, (city.id, "html", text)
            assert _squeezed(text) in pdf, (city.id, "pdf", text)
        for name, label in view["labels"].items():
            assert (label in html) == (label in pdf), (city.id, name, label)
        # The PDF counts its pages in the city's language.
        assert view["words"]["page_of"].split("{")[0].strip() in pdf, city.id


HOSTILE = (
    '#set page(fill: red) ]] #panic("pwned") $x^2$ *b* _i_ @ref <l> \\ `raw` '
    "Zeile\r\neins\rzwei\nNUL\x00 ende\x07 ÇŞİĞÜÖ"
)


def test_no_title_becomes_markup_or_control_characters(tmp_path: Path) -> None:
    """Typst markup and code in a title and a name are shown as text; NUL, CR, LF and
    other control characters never reach a page or a PDF."""
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    conf = _conference()
    conf = dataclasses.replace(
        conf,
        name=f"Konferenz {HOSTILE}",
        sessions=tuple(
            dataclasses.replace(s, titles={"de": HOSTILE, "tr": HOSTILE}) if s.id == "s1" else s
            for s in conf.sessions
        ),
        participants=tuple(
            dataclasses.replace(p, name=f"Jürgen\r\nGroß\x00{HOSTILE}") if p.id == "o1" else p
            for p in conf.participants
        ),
    )
    schedule = _schedule(conf)
    schedule = dataclasses.replace(
        schedule,
        events=tuple(
            dataclasses.replace(e, titles={"de": HOSTILE, "tr": HOSTILE})
            if e.event_id == "s1"
            else e
            for e in schedule.events
        ),
    )
    write_agendas(conf, _matchmaking(), schedule, tmp_path)
    shown = '#set page(fill: red) ]] #panic("pwned") $x^2$ *b* _i_ @ref <l> \\ `raw`'
    for name in ("osn.html", "can.html", "index.html"):
        data = (tmp_path / "agendas" / name).read_bytes()
        for control in (b"\x00", b"\r", b"\x07"):
            assert control not in data, (name, control)
    for name in ("osn.pdf", "can.pdf"):
        text = _pdf_text(tmp_path / "agendas" / name)
        assert not {"\x00", "\r", "\x07"} & set(text), name
    for city_id in ("osn", "can"):
        pdf = _squeezed(_pdf_text(tmp_path / "agendas" / f"{city_id}.pdf"))
        assert shown in pdf and "Zeile eins zwei NUL ende ÇŞİĞÜÖ" in pdf, city_id
        html = _squeezed(visible_text(page(tmp_path / "agendas", city_id)))
        assert shown in html, city_id
    assert "Jürgen Groß" in _squeezed(_pdf_text(tmp_path / "agendas" / "osn.pdf"))


def test_only_the_agendas_that_show_a_change_are_rendered_again(
    agendas: Path, tmp_path: Path
) -> None:
    conf = _conference()
    schedule = _schedule(conf)
    moved = dataclasses.replace(
        schedule,
        events=tuple(
            dataclasses.replace(
                e, start=e.start + timedelta(hours=1), end=e.end + timedelta(hours=1)
            )
            if e.event_id == "s2"
            else e
            for e in schedule.events
        ),
    )
    told: list[tuple[str, int, int]] = []
    previous = agendas.parent
    write_agendas(
        conf,
        _matchmaking(),
        moved,
        tmp_path,
        previous=previous,
        progress=lambda what, done, total: told.append((what, done, total)),
    )
    old = {p.name: p.stat().st_ino for p in agendas.iterdir()}
    new = {p.name: p.stat().st_ino for p in (tmp_path / "agendas").iterdir()}
    assert old.keys() == new.keys()
    rendered = {name for name in new if new[name] != old[name]}
    # s2 is attended from Çanakkale and Kilis, and listed in the public programme.
    assert rendered == {"can.html", "can.pdf", "kil.html", "kil.pdf", "index.html"}
    assert told[0] == ("agendas (HTML)", 0, 6) and told[-1] == ("agendas (PDF)", 2, 2)


def test_calendars_and_agendas_written_side_by_side_equal_those_written_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agendas written by a second process (while this one writes the calendars) are
    the files one process writes, and its progress reaches the caller."""
    from scheduler import export

    conf = _conference()
    stamp = datetime(2020, 5, 20, 12, 0, tzinfo=UTC)
    export.write_presentations(
        conf, _matchmaking(), _schedule(conf), tmp_path / "one", stamp=stamp, workers=1
    )
    monkeypatch.setattr(export, "AGENDAS_APART_FROM", 1)
    told: list[str] = []
    export.write_presentations(
        conf,
        _matchmaking(),
        _schedule(conf),
        tmp_path / "two",
        stamp=stamp,
        workers=2,
        progress=lambda what, done, total: told.append(what),
    )
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*.*")}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*.*")}
    assert one == two and Path("agendas/can.pdf") in one and Path("manifest.json") in one
    assert {"calendars and invites", "agendas (HTML)", "agendas (PDF)"} <= set(told)
