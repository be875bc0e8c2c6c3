"""`scheduler publish`: a static site of private calendar subscriptions.

    SITE/index.html                 the conference's name, nothing about anyone
    SITE/conference.ics             every event, no people (calendars/conference.ics)
    SITE/agendas/...                the city agendas (agendas/ of the run)
    SITE/feeds/<token>.ics          one participant's feed (calendars/<participant_id>.ics)
    SITE/feeds/<token>.html         their page: their events and both subscription links
    SITE/feeds/index.html           empty, so a directory listing shows nothing

A token is an HMAC-SHA256 of the participant id under a secret kept in a file outside the
outputs and outside the site (default ``~/.config/citypartner-scheduler/feed-secret``,
created on first use with mode 0600). The same secret gives the same URL after every
re-plan; ``--rotate-secret`` makes a new secret, so every old URL stops working (its feed
file is deleted). No file of the site is named by a participant id or an address.

Every file is written to a temporary name beside it and renamed into place, so a calendar
that fetches a feed during a publication gets the old feed or the new one, whole. What was
published is recorded in the outputs' delivery.sqlite (the tokens, not who they belong to),
so `send` can put each participant's links into their e-mails.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import icalendar

from scheduler.deliver.ledger import LEDGER_FILE, Ledger
from scheduler.deliver.mail import Subscription
from scheduler.errors import UserError

SITE_MARKER = ".citypartner-site"
FEEDS = "feeds"
EMPTY_INDEX = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title></title></head><body></body></html>\n'


def default_secret_file() -> Path:
    """Where the feed secret lives unless ``--secret`` says otherwise."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "citypartner-scheduler" / "feed-secret"


def load_secret(path: Path, *, create: bool = True, rotate: bool = False) -> tuple[bytes, bool]:
    """The secret in ``path`` and whether it was made now (first use or ``rotate``). A new
    secret is 32 random bytes, written as hex with mode 0600; a secret file that others can
    read is refused."""
    path = Path(path)
    made = False
    if rotate or not path.exists():
        if not create and not rotate:
            raise UserError(f"the feed secret {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(handle, (secrets.token_hex(32) + "\n").encode("ascii"))
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temp, path)
        made = True
    mode = path.stat().st_mode
    if mode & 0o077:
        raise UserError(
            f"the feed secret {path} can be read by others (mode {mode & 0o777:o}); "
            f"run `chmod 600 {path}`"
        )
    secret = path.read_bytes().strip()
    if len(secret) < 32:
        raise UserError(f"the feed secret {path} is too short (at least 32 characters)")
    return secret, made


def feed_token(secret: bytes, participant_id: str) -> str:
    """The participant's unguessable, stable token (128 bits, hex)."""
    digest = hmac.new(secret, b"feed\x1f" + participant_id.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def secret_fingerprint(secret: bytes) -> str:
    """Says which secret the site was published with, without revealing it."""
    return hmac.new(secret, b"fingerprint", hashlib.sha256).hexdigest()[:16]


def subscription_urls(base_url: str, token: str) -> Subscription:
    """The https:// and webcal:// links of a feed."""
    https = f"{base_url.rstrip('/')}/{FEEDS}/{token}.ics"
    return Subscription(https=https, webcal="webcal://" + https.split("://", 1)[1])


@dataclass(frozen=True)
class Published:
    """What one publication wrote."""

    site: Path
    feeds: int
    emptied: int  # feeds of people who no longer have events: kept, without events
    removed: int  # feeds of an earlier secret, deleted
    secret_file: Path
    secret_made: bool


def publish(
    outputs: Path,
    site: Path,
    base_url: str,
    *,
    secret_file: Path | None = None,
    rotate: bool = False,
) -> Published:
    """Publish the run in ``outputs`` as a static site in ``site`` (see the module doc)."""
    outputs, site = Path(outputs).absolute(), Path(site).absolute()
    secret_file = _checked_folders(outputs, site, base_url, secret_file)
    secret, made = load_secret(secret_file, rotate=rotate)
    fingerprint = secret_fingerprint(secret)

    site.mkdir(parents=True, exist_ok=True)
    _write(site / SITE_MARKER, b"written by citypartner-scheduler publish\n")
    written = _write_feeds(outputs / "calendars", site / FEEDS, secret, base_url)
    _write_public_pages(outputs, site)

    with Ledger(outputs / LEDGER_FILE) as ledger:
        before = json.loads(ledger.setting("site.feeds") or "[]")
        kept, emptied, removed = _retire_feeds(before, written, site / FEEDS, fingerprint, base_url)
        with ledger.transaction():
            ledger.set_setting("site.base_url", base_url.rstrip("/"))
            ledger.set_setting("site.secret_file", str(secret_file))
            ledger.set_setting("site.fingerprint", fingerprint)
            ledger.set_setting("site.feeds", json.dumps(kept))
    return Published(site, len(written), emptied, removed, secret_file, made)


def _checked_folders(outputs: Path, site: Path, base_url: str, secret_file: Path | None) -> Path:
    """The feed secret's file, after refusing, before anything is written: no run in
    ``outputs``, a base URL that is not http(s), a secret inside the outputs or the site,
    folders inside each other, or a site folder holding files this command did not write."""
    if not (outputs / "report.json").is_file() or not (outputs / "calendars").is_dir():
        raise UserError(f"no outputs in {outputs}: run `scheduler run INPUTS --out {outputs}`")
    if not base_url.startswith(("https://", "http://")) or "://" not in base_url[:8]:
        raise UserError(f"--base-url must start with https:// (got {base_url!r})")
    secret_file = Path(secret_file or default_secret_file()).absolute()
    for folder, what in ((outputs, "the outputs"), (site, "the site")):
        if secret_file.resolve().is_relative_to(folder.resolve()):
            raise UserError(f"the feed secret {secret_file} must be outside {what} ({folder})")
    if site.resolve().is_relative_to(outputs.resolve()) or outputs.resolve().is_relative_to(
        site.resolve()
    ):
        raise UserError(
            "the site and the outputs must be separate folders, neither inside the other"
        )
    if site.exists() and any(site.iterdir()) and not (site / SITE_MARKER).is_file():
        raise UserError(
            f"{site} is not empty and was not written by `scheduler publish`; choose an "
            "empty or new folder"
        )
    return secret_file


def _write_feeds(calendars: Path, feeds: Path, secret: bytes, base_url: str) -> set[str]:
    """Each participant's feed and page under its secret token; the tokens written."""
    feeds.mkdir(exist_ok=True)
    _write(feeds / "index.html", EMPTY_INDEX.encode())
    written: set[str] = set()
    for source in sorted(calendars.glob("*.ics")):
        if source.name == "conference.ics":
            continue
        token = feed_token(secret, source.stem)
        data = source.read_bytes()
        _write(feeds / f"{token}.ics", data)
        page = personal_page(data, subscription_urls(base_url, token))
        _write(feeds / f"{token}.html", page.encode("utf-8"))
        written.add(token)
    return written


def _write_public_pages(outputs: Path, site: Path) -> None:
    """The public part: the conference's feed, the agendas and the front page."""
    conference_feed = outputs / "calendars" / "conference.ics"
    if conference_feed.is_file():
        _write(site / "conference.ics", conference_feed.read_bytes())
    agendas = outputs / "agendas"
    if agendas.is_dir():
        for source in sorted(agendas.rglob("*")):
            if source.is_file():
                target = site / "agendas" / source.relative_to(agendas)
                _write(target, source.read_bytes())
        if not (agendas / "index.html").is_file():
            _write(site / "agendas" / "index.html", EMPTY_INDEX.encode())
    _write(site / "index.html", _index(outputs).encode("utf-8"))


def _retire_feeds(
    before: list[list[str]], written: set[str], feeds: Path, fingerprint: str, base_url: str
) -> tuple[list[list[str]], int, int]:
    """The feeds published before and not written now: emptied when they are of this
    secret (their person has no event any more), deleted when of an earlier one (their
    URL must stop working). Returns the feeds to remember, how many were emptied and
    how many removed."""
    emptied = removed = 0
    kept: list[list[str]] = [[token, fingerprint] for token in sorted(written)]
    for token, print_ in before:
        if token in written:
            continue
        path = feeds / f"{token}.ics"
        if print_ == fingerprint:  # this person has no event any more: empty their feed
            _write(path, _empty_feed())
            empty_page = personal_page(_empty_feed(), subscription_urls(base_url, token))
            _write(path.with_suffix(".html"), empty_page.encode("utf-8"))
            kept.append([token, fingerprint])
            emptied += 1
        elif path.is_file():  # a feed of an earlier secret: its URL must stop working
            path.unlink()
            path.with_suffix(".html").unlink(missing_ok=True)
            removed += 1
    return kept, emptied, removed


def subscription_for(ledger: Ledger, participant_id: str) -> Subscription | None:
    """The participant's links when a site was published from these outputs and holds
    their feed; None otherwise. Refuses a secret rotated since the publication (the links
    would not work until `publish` runs again)."""
    base_url = ledger.setting("site.base_url")
    if base_url is None:
        return None
    secret, _ = load_secret(Path(ledger.setting("site.secret_file") or ""), create=False)
    if secret_fingerprint(secret) != ledger.setting("site.fingerprint"):
        raise UserError(
            "the feed secret changed since the site was published: run `scheduler publish` "
            "again first, or the links in the e-mails would not work"
        )
    token = feed_token(secret, participant_id)
    published = {t for t, _ in json.loads(ledger.setting("site.feeds") or "[]")}
    return subscription_urls(base_url, token) if token in published else None


SUBSCRIBE = "Kalender abonnieren · Takvime abone ol · Subscribe to the calendar"
DOWNLOAD = "Datei · Dosya · File (.ics)"


def personal_page(feed: bytes, links: Subscription) -> str:
    """A participant's own page beside their feed: their events in their city's time (as
    the feed has them) and the two subscription links. Every value is escaped."""
    cal = icalendar.Calendar.from_ical(feed)
    title = str(cal.get("X-WR-CALNAME", ""))
    rows = []
    for event in sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("DTSTART")):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        zone = start.tzname() or ""
        when = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} {zone}".strip()
        url = str(event.get("URL", ""))
        link = html.escape(url)
        if url.startswith(("https://", "http://")):  # never a javascript: or data: link
            link = f'<a href="{link}">{link}</a>'
        link = f" {link}" if link else ""
        rows.append(
            f"<tr><td>{html.escape(when)}</td><td>{html.escape(str(event.get('SUMMARY', '')))}"
            f"{link}</td></tr>"
        )
    esc = html.escape
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{esc(title)}</title></head><body>\n<h1>{esc(title)}</h1>\n"
        f'<p><a href="{esc(links.webcal)}">{esc(SUBSCRIBE)}</a></p>\n'
        f'<p><a href="{esc(links.https)}">{esc(DOWNLOAD)}</a>: {esc(links.https)}</p>\n'
        "<table>\n" + "\n".join(rows) + "\n</table>\n</body></html>\n"
    )


def _index(outputs: Path) -> str:
    """The site's front page: the conference's name and its public calendar, nothing more."""
    name = ""
    conference = outputs / "calendars" / "conference.ics"
    if conference.is_file():
        for line in conference.read_text(encoding="utf-8").splitlines():
            if line.startswith("X-WR-CALNAME:"):
                name = line.split(":", 1)[1].replace("\\,", ",").replace("\\;", ";")
                break
    title = html.escape(name)
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body>\n<h1>{title}</h1>\n<p><a href="conference.ics">conference.ics</a></p>\n'
        "</body></html>\n"
    )


def _empty_feed() -> bytes:
    return (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//citypartner-scheduler//Conference "
        b"calendars//EN\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"
    )


def _write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
