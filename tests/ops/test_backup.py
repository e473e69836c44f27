"""Backup and point-in-time restore, as an operator runs them: `manage.py backup`, `restore`, `verify_backup`.

One embedded PostgreSQL (the default set-up) with its WAL archive in a backup repository:
bookings and a room photo at t1, more at t2, then the moment T, then more at t3 (a new
photo replaces t1's). Restored to T, exactly t1's and t2's data is there, every file the
database refers to is in the restored media folder, and the app serves the restored
database. A time before the first backup and a WAL file missing from the archive are
refused with a message that says so.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from ops import runtime
from ops.backup import BackupError, check_space
from ops.recovery import RestoredServer, parse_target
from tests.conftest import free_port, wait_until_ready
from tests.ops.pgcluster import app_env, make_root, manage, remove_root, start_gunicorn, stop_process

scenario = [pytest.mark.slow, pytest.mark.embedded_only]

# Run with `manage.py shell -c`: a room with a photo and three bookings named after the
# phase; prints what the test checks later as JSON on its last line.
PHASE = """
import io, json, os
from datetime import timedelta
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from bookings import services
from bookings.models import Building, Floor, Room, Site
from bookings.services.tokens import issue_token

tag = os.environ["PHASE"]
alice, created = User.objects.get_or_create(username="alice")
token = issue_token(user=alice, name="backup test")[1] if created else ""
site, _ = Site.objects.get_or_create(name="HQ")
building, _ = Building.objects.get_or_create(site=site, name="A")
floor, _ = Floor.objects.get_or_create(building=building, name="1")
room_name = os.environ.get("PHOTO_FOR") or "Room " + tag
room, _ = Room.objects.get_or_create(floor=floor, name=room_name, defaults={"capacity": 6})
image = io.BytesIO()
Image.new("RGB", (8, 8), (hash(tag) % 256, 120, 40)).save(image, "PNG")
room.photo.save(tag + ".png", ContentFile(image.getvalue()))
start = timezone.now().replace(microsecond=0) + timedelta(days=3 + int(tag[1:]))
for i in range(3):
    services.create_booking(
        room=room, organizer=alice, title=f"{tag}-{i}",
        start=start + timedelta(hours=i), end=start + timedelta(hours=i, minutes=30),
    )
print(json.dumps({"token": token, "photo": room.photo.name, "room": room.pk}))
"""


def phase(env: dict, tag: str, **extra: str) -> dict:
    out = manage({**env, "PHASE": tag, **extra}, "shell", "--no-imports", "-c", PHASE).stdout
    return json.loads(out.strip().splitlines()[-1])


def live_sql(live: Path, sql: str):
    with psycopg.connect(
        host=str(runtime.socket_dir(live)), user="postgres", dbname="rfr", autocommit=True
    ) as conn:
        return conn.execute(sql).fetchone()


@pytest.fixture(scope="module")
def scene():
    root = make_root("rfr-backup-")
    live, repo = root / "live", root / "repo"
    # An installation that runs before anyone configured backups ...
    env = app_env(live, None)
    try:
        manage(env, "migrate", "-v0")
        env = {**env, "RFR_BACKUP_DIR": str(repo)}
        # ... so the first backup must say that archiving needs a restart, and do it on request.
        refused = manage(env, "backup", check=False)
        first = manage(env, "backup", "--restart")
        t1 = phase(env, "t1")
        live_sql(live, "SELECT pg_switch_wal()")
        t2 = phase(env, "t2")
        (t2_wal,) = live_sql(live, "SELECT pg_walfile_name(pg_current_wal_lsn())")
        live_sql(live, "SELECT pg_switch_wal()")
        (moment,) = live_sql(live, "SELECT now()")
        time.sleep(1.0)
        # t3 replaces t1's photo: the restore must bring back the old one.
        t3 = phase(env, "t3", PHOTO_FOR="Room t1")
        live_sql(live, "SELECT pg_switch_wal()")
        second = manage(env, "backup")
        yield {
            "root": root,
            "live": live,
            "repo": repo,
            "env": env,
            "refused": refused,
            "first": first,
            "second": second,
            "t1": t1,
            "t2": t2,
            "t3": t3,
            "t2_wal": t2_wal,
            "T": moment,
        }
    finally:
        manage(app_env(live, None), "embedded", "stop", check=False)
        # Whatever a command left running if it failed half-way: restores, trial restores.
        for pid_file in [
            *root.glob("*/postgres/postmaster.pid"),
            *root.glob("repo/.verify-*/postgres/postmaster.pid"),
        ]:
            RestoredServer(root=pid_file.parent.parent).stop()
        remove_root(root)


@pytest.fixture(scope="module")
def restored(scene):
    target = scene["root"] / "restored"
    # As after a disaster: the old data folder is gone; the repository is all there is.
    lost = scene["root"] / "lost"
    env = {**scene["env"], "RFR_DATA_DIR": str(lost)}
    result = manage(env, "restore", "--to", scene["T"].isoformat(), "--target", str(target), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not lost.exists(), "restore started a database of its own in the lost data folder"
    return {"dir": target, "output": result.stdout}


def restored_sql(target: Path, sql: str) -> list[tuple]:
    with psycopg.connect(host=str(runtime.socket_dir(target)), user="postgres", dbname="rfr") as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_says_archiving_needs_one_restart_and_restarts_when_asked(scene):
    assert scene["refused"].returncode != 0
    assert "not active yet" in scene["refused"].stderr
    assert "backup --restart" in scene["refused"].stderr
    assert "Restarting the embedded PostgreSQL once" in scene["first"].stdout
    assert "Backup " in scene["first"].stdout and "done" in scene["first"].stdout


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_restores_exactly_the_data_up_to_the_chosen_moment(scene, restored):
    titles = [
        row[0] for row in restored_sql(restored["dir"], "SELECT title FROM bookings_booking ORDER BY title")
    ]

    assert titles == ["t1-0", "t1-1", "t1-2", "t2-0", "t2-1", "t2-2"]
    rooms = dict(restored_sql(restored["dir"], "SELECT name, photo FROM bookings_room"))
    assert rooms == {"Room t1": scene["t1"]["photo"], "Room t2": scene["t2"]["photo"]}
    # The live database went on to t3 and was not touched by the restore.
    assert live_sql(scene["live"], "SELECT count(*) FROM bookings_booking WHERE title LIKE 't3-%'") == (3,)
    # The second base backup finished after T: the restore had to start from the first.
    assert f"from base backup {sorted_labels(scene)[0]}" in restored["output"]
    assert "all 2 referenced media files are there" in restored["output"]


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_brings_back_every_media_file_the_restored_database_refers_to(scene, restored):
    media = restored["dir"] / "media"
    for (name,) in restored_sql(restored["dir"], "SELECT photo FROM bookings_room WHERE photo <> ''"):
        content = (media / name).read_bytes()
        # Content-addressed: the name is the file's sha256.
        assert Path(name).stem == hashlib.sha256(content).hexdigest()


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_serves_the_restored_database_with_the_app(scene, restored, tmp_path):
    port = free_port()
    # The restore is laid out like a data folder: the embedded set-up finds it.
    env = app_env(restored["dir"], None)
    server = start_gunicorn(env, port, tmp_path / "gunicorn.log", workers=1, threads=4)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/readyz", server, timeout=60)
        headers = {"Authorization": f"Bearer {scene['t1']['token']}", "Accept-Language": "en"}
        mine = httpx.get(f"{base}/api/v1/bookings", headers=headers, timeout=10)
        photo = httpx.get(f"{base}/media/{scene['t1']['photo']}", timeout=10)
        booked = httpx.post(
            f"{base}/api/v1/bookings",
            headers={**headers, "Idempotency-Key": "after-restore"},
            json={
                "room": scene["t2"]["room"],
                "title": "after restore",
                "start": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
                "end": (datetime.now(UTC) + timedelta(days=10, hours=1)).isoformat(),
            },
            timeout=10,
        )
    finally:
        stop_process(server)

    assert mine.status_code == 200, mine.text
    assert sorted(b["title"] for b in mine.json()) == ["t1-0", "t1-1", "t1-2", "t2-0", "t2-1", "t2-2"]
    assert photo.status_code == 200
    assert photo.content == (restored["dir"] / "media" / scene["t1"]["photo"]).read_bytes()
    # The restored server is a primary of its own: it takes bookings.
    assert booked.status_code == 201, booked.text


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_refuses_a_time_before_the_first_backup(scene):
    target = scene["root"] / "too-early"
    before = scene["T"] - timedelta(hours=2)

    result = manage(scene["env"], "restore", "--to", before.isoformat(), "--target", str(target), check=False)

    assert result.returncode != 0
    assert "is before the earliest backup" in result.stderr
    assert "the earliest point that can be restored is" in result.stderr
    assert not target.exists()


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_refuses_a_time_in_the_future(scene):
    later = datetime.now(UTC) + timedelta(hours=1)

    result = manage(
        scene["env"], "restore", "--to", later.isoformat(), "--target", str(scene["root"] / "x"), check=False
    )

    assert result.returncode != 0
    assert "lies in the future" in result.stderr


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_verifies_a_backup_by_restoring_it_on_trial(scene):
    result = manage(scene["env"], "verify_backup", check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "backup successfully verified" in result.stdout
    assert "9 bookings" in result.stdout  # the newest backup holds t1, t2 and t3
    assert "all 2 referenced media files present" in result.stdout  # t3 replaced a photo
    assert not list(scene["repo"].glob(".verify-*")), "the trial restore was not cleaned up"


@pytest.mark.slow
@pytest.mark.embedded_only
def test_it_names_a_wal_file_missing_from_the_archive(scene):
    missing = scene["repo"] / "wal" / scene["t2_wal"]
    aside = scene["root"] / scene["t2_wal"]
    shutil.move(missing, aside)
    try:
        restore = manage(
            scene["env"],
            "restore",
            "--to",
            scene["T"].isoformat(),
            "--target",
            str(scene["root"] / "gap"),
            check=False,
        )
        # The first base backup needs that file; the second one was taken after it.
        verify = manage(scene["env"], "verify_backup", "--backup", sorted_labels(scene)[0], check=False)
    finally:
        shutil.move(aside, missing)

    assert restore.returncode != 0
    assert f"Missing WAL: {scene['t2_wal']} is not in the archive" in restore.stderr
    assert verify.returncode != 0
    assert f"Missing WAL: {scene['t2_wal']}" in verify.stderr


def sorted_labels(scene) -> list[str]:
    return sorted(p.parent.name for p in (scene["repo"] / "base").glob("*/rfr-backup.json"))


def test_it_refuses_to_start_what_would_fill_the_disk(tmp_path):
    with pytest.raises(BackupError, match=r"Not enough space for the restore in .*: needs about .* free"):
        check_space(tmp_path / "new", 1 << 60, "the restore")


def test_it_rejects_a_time_it_cannot_read():
    with pytest.raises(BackupError, match="is not a time"):
        parse_target("yesterday at noon")
    assert parse_target("latest") is None
    assert parse_target("2026-03-29 02:30:00+02:00").utcoffset() == timedelta(hours=2)
