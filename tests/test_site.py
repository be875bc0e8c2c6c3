"""`scheduler publish`: private feeds under unguessable tokens that stay the same across
runs, change when the secret is rotated, and reveal nobody in a file name or a listing."""

from __future__ import annotations

import csv
import shutil
import stat
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from scheduler import pipeline
from scheduler.check import check_outputs
from scheduler.cli import main
from scheduler.deliver.site import feed_token, load_secret
from scheduler.generate import generate
from tests.test_ical import ical_js


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(inputs, outputs, outputs of a second run of the same inputs), both checked."""
    root = tmp_path_factory.mktemp("site")
    inputs = root / "inputs"
    generate(inputs, cities=4, participants=16, sessions=6, seed=2)
    rows = people(inputs)
    rows[0]["name"] = HOSTILE
    with (inputs / "participants.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    first, second = root / "first", root / "second"
    pipeline.run(inputs, first, time_limit=10, deterministic=True)
    pipeline.run(inputs, second, time_limit=10, seed=1)
    for outputs in (first, second):
        assert check_outputs(inputs, outputs) == []
    return inputs, first, second


@pytest.fixture
def outputs(runs: tuple[Path, Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "outputs"
    shutil.copytree(runs[1], copy)
    return copy


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    return tmp_path / "config" / "feed-secret"


BASE = "https://calendars.example.org/conf"
HOSTILE = "Eve <script>alert(1)</script> Weiß"


def publish(outputs: Path, site: Path, secret: Path, *extra: str) -> int:
    args = ["publish", str(outputs), "--site", str(site), "--base-url", BASE]
    return main([*args, "--secret", str(secret), *extra])


def feeds(site: Path) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in (site / "feeds").glob("*.ics")}


def people(inputs: Path) -> list[dict[str, str]]:
    with (inputs / "participants.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def personal_feeds(outputs: Path) -> dict[str, bytes]:
    return {
        p.stem: p.read_bytes()
        for p in (outputs / "calendars").glob("*.ics")
        if p.name != "conference.ics"
    }


def test_one_private_feed_per_participant_under_its_own_token(
    runs: tuple[Path, Path, Path], outputs: Path, secret: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    assert publish(outputs, site, secret) == 0
    published = feeds(site)
    mine = personal_feeds(outputs)
    assert len(published) == len(mine) > 5  # tokens differ per participant
    assert sorted(published.values()) == sorted(mine.values())  # each feed is theirs, whole
    assert all(len(token) == 32 and int(token, 16) >= 0 for token in published)
    assert (site / "conference.ics").read_bytes() == (
        outputs / "calendars" / "conference.ics"
    ).read_bytes()
    assert (site / "agendas" / "index.html").is_file()
    # The secret: created on first use, outside outputs and site, readable by its owner only.
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # Beside each feed its page: the person's events and both links, nothing unescaped.
    for token, feed in published.items():
        page = (site / "feeds" / f"{token}.html").read_text(encoding="utf-8")
        assert f'href="webcal://calendars.example.org/conf/feeds/{token}.ics"' in page
        assert f'href="{BASE}/feeds/{token}.ics"' in page
        assert page.count("<tr>") == feed.count(b"BEGIN:VEVENT")
        assert "<script" not in page
    assert any(
        "Eve &lt;script&gt;alert(1)&lt;/script&gt; Weiß" in p.read_text(encoding="utf-8")
        for p in (site / "feeds").glob("*.html")
    )
    # ical.js reads every feed.
    rows = ical_js(sorted((site / "feeds").glob("*.ics")))
    assert len(rows) == sum(f.count(b"BEGIN:VEVENT") for f in published.values())


def test_no_file_is_named_by_a_participant_and_no_listing_reveals_one(
    runs: tuple[Path, Path, Path], outputs: Path, secret: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    assert publish(outputs, site, secret) == 0
    everyone = people(runs[0])
    names = {p["participant_id"].lower() for p in everyone}
    names |= {p["email"].lower() for p in everyone} | {
        p["email"].split("@")[0].lower() for p in everyone
    }
    for path in site.rglob("*"):
        part = str(path.relative_to(site)).lower()
        assert not [n for n in names if n in part], part
        if path.is_dir():
            assert (path / "index.html").is_file(), path  # a listing shows a page instead
    front = (site / "index.html").read_text(encoding="utf-8").lower()
    assert not [n for n in names if n in front]
    assert "feeds/" not in front
    assert (site / "feeds" / "index.html").read_text(encoding="utf-8").count("<a") == 0


def test_tokens_stay_across_runs_and_change_when_the_secret_is_rotated(
    runs: tuple[Path, Path, Path], outputs: Path, secret: Path, tmp_path: Path, capsys: Any
) -> None:
    _, _, second = runs
    site = tmp_path / "site"
    assert publish(outputs, site, secret) == 0
    before = feeds(site)
    # A new run of the outputs (here: another solve of the same inputs) keeps every URL.
    again = tmp_path / "again"
    shutil.copytree(second, again)
    assert publish(again, site, secret) == 0
    after = feeds(site)
    key, _ = load_secret(secret, create=False)
    assert set(before) <= set(after)
    for pid, feed in personal_feeds(outputs).items():
        assert before[feed_token(key, pid)] == feed
    for pid, feed in personal_feeds(again).items():
        assert after[feed_token(key, pid)] == feed  # the same URL, the new content
    # Rotation: every token new, the old feeds gone.
    capsys.readouterr()
    assert publish(again, site, secret, "--rotate-secret") == 0
    rotated = feeds(site)
    assert len(rotated) == len(after) and not set(rotated) & set(after)
    assert {p.stem for p in (site / "feeds").glob("*.html")} == set(rotated) | {"index"}
    assert "feed(s) of the previous secret removed" in capsys.readouterr().out


def test_the_emails_carry_the_subscription_links(
    runs: tuple[Path, Path, Path], outputs: Path, secret: Path, tmp_path: Path
) -> None:
    inputs = runs[0]
    site = tmp_path / "site"
    assert publish(outputs, site, secret) == 0
    assert main(["send", str(inputs), str(outputs)]) == 0
    tokens = set(feeds(site))
    for eml in (outputs / "outbox").rglob("*.eml"):
        message = message_from_bytes(eml.read_bytes(), policy=default)
        plain = message.get_body(("plain",))
        assert plain is not None
        text = plain.get_content()
        links = [w for w in text.split() if w.startswith(("https://", "webcal://"))]
        feed_links = [w for w in links if "/feeds/" in w]
        assert len(feed_links) == 2, text
        https, webcal = feed_links
        assert https.startswith(BASE + "/feeds/") and webcal == "webcal://" + https[8:]
        assert https.rsplit("/", 1)[1].removesuffix(".ics") in tokens
        # ... and each participant's own: the link serves the feed of the addressee.
        served = (site / "feeds" / https.rsplit("/", 1)[1]).read_bytes()
        pid = eml.parent.name
        assert served == (outputs / "calendars" / f"{pid}.ics").read_bytes()


def test_the_secret_stays_out_of_outputs_and_site_and_foreign_folders_are_kept(
    outputs: Path, tmp_path: Path, capsys: Any
) -> None:
    site = tmp_path / "site"
    assert publish(outputs, site, outputs / "secret") == 2
    assert publish(outputs, site, site / "secret") == 2
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    assert publish(outputs, foreign, tmp_path / "s") == 2
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"
    loose = tmp_path / "loose"
    loose.write_text("x" * 64, encoding="utf-8")
    loose.chmod(0o644)
    assert publish(outputs, site, loose) == 2
    assert "chmod 600" in capsys.readouterr().err
