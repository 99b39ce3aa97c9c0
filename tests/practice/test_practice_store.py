"""The progress database: durability, schema versions and migration, concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from practice_helpers import DW, FIXTURES, SOFTMAX

from dlquiz.practice import scheduler as sched
from dlquiz.practice.paths import data_dir, database_path
from dlquiz.practice.store import SCHEMA_VERSION, Store, StoreError, parse_timestamp


def _fixture_db(path):  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "progress-v1.sql").read_text())
    conn.close()
    return path


def test_data_directory_follows_dlquiz_home(home, monkeypatch):
    assert data_dir() == home
    assert database_path() == home / "progress.db"
    monkeypatch.delenv("DLQUIZ_HOME")
    assert data_dir() != home  # the platform's user data directory
    assert data_dir().name == "dlquiz"


def test_fresh_database_is_current_and_in_wal_mode(home):
    with Store() as store:
        assert store.path == home / "progress.db"
        assert store.schema_version == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
        assert store.counts() == {"sessions": 0, "problems": 0, "attempts": 0, "cards": 0}


def test_an_attempt_is_committed_when_recorded(home, clock):
    store = Store()
    pid = store.start_problem(family=DW, topic="linear-regression", seed=4, at=clock())
    store.record_attempt(
        pid,
        answer="2*x",
        correct=False,
        mistake="factor",
        feedback="a factor",
        try_number=1,
        hints=0,
        seconds=3.5,
        at=clock(),
    )
    # Another connection (another process) sees it before this one closes or commits more.
    other = sqlite3.connect(store.path)
    rows = other.execute("SELECT answer, correct, mistake, try_number FROM attempts").fetchall()
    assert rows == [("2*x", 0, "factor", 1)]
    other.close()
    store.close()


def test_finishing_a_problem_reviews_the_family_card(home, clock):
    with Store() as store:
        pid = store.start_problem(family=DW, topic="linear-regression", seed=1, at=clock())
        card = store.finish_problem(
            pid,
            outcome=sched.WRONG,
            tries=3,
            hints=0,
            seconds=40,
            solution_viewed=True,
            at=clock(),
        )
        row = store.conn.execute("SELECT outcome, rating, ended_at FROM problems").fetchone()
        assert row[:2] == (sched.WRONG, sched.AGAIN)
        assert parse_timestamp(row[2]) == clock()
        assert store.card(DW).due == card.due == clock() + timedelta(minutes=1)
        assert store.conn.execute("SELECT reviews FROM cards").fetchone()[0] == 1


def test_cards_can_be_rebuilt_from_the_problems(home, clock):
    from dlquiz.practice.store import rebuild_cards

    with Store() as store:
        for outcome in (sched.RIGHT, sched.WRONG, sched.RIGHT_AFTER_HELP, sched.RIGHT):
            for family in (DW, SOFTMAX):
                pid = store.start_problem(family=family, topic="t", seed=1, at=clock())
                store.finish_problem(
                    pid,
                    outcome=outcome,
                    tries=1,
                    hints=0,
                    seconds=1,
                    solution_viewed=False,
                    at=clock(),
                )
                clock.advance(hours=7)
        incremental = store.cards()
        with store.transaction() as conn:
            assert rebuild_cards(conn) == 2
        assert store.cards() == incremental


def test_a_version_1_database_is_migrated_keeping_every_row(home):
    home.mkdir()
    path = _fixture_db(home / "progress.db")
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        problems = store.query("SELECT * FROM problems ORDER BY id")
        assert [p["family"] for p in problems] == [DW, DW, SOFTMAX, SOFTMAX, "mlp/old-family"]
        assert [p["topic"] for p in problems] == [
            "linear-regression",
            "linear-regression",
            "softmax-regression",
            "softmax-regression",
            "mlp",
        ]
        assert [p["rating"] for p in problems] == [3, 2, 1, 1, None]
        assert [p["seed"] for p in problems] == [11, 12, 5, 6, 3]
        attempts = store.query("SELECT * FROM attempts ORDER BY id")
        assert len(attempts) == 7
        assert [a["try_number"] for a in attempts] == [1, 1, 2, 1, 2, 3, 1]
        assert attempts[1]["answer"] == "4*(4*w + b - 1)"
        assert attempts[1]["mistake"] == "lost-factor"
        # The cards are what replaying the history gives.
        t = parse_timestamp
        dw = sched.review(None, DW, sched.GOOD, t("2025-03-01T09:01:00+00:00"))
        dw = sched.review(dw, DW, sched.HARD, t("2025-03-01T09:05:00+00:00"))
        assert store.card(DW) == dw
        assert (
            store.conn.execute("SELECT reviews FROM cards WHERE family = ?", (SOFTMAX,)).fetchone()[
                0
            ]
            == 2
        )
        assert store.card("mlp/old-family") is None  # never finished: no review
    # The old file was kept as a backup, still at version 1.
    backup = home / "progress.db.v1.bak"
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    assert old.execute("SELECT count(*) FROM attempts").fetchone()[0] == 7
    old.close()
    # Opening again changes nothing.
    with Store(path) as store:
        assert store.counts()["attempts"] == 7


def test_the_fixture_is_the_schema_version_1_migration_creates(tmp_path):
    """The fixture is faithful: the migration chain's version 1 makes the same tables."""
    from dlquiz.practice.store import MIGRATIONS

    made = sqlite3.connect(tmp_path / "made.db")
    MIGRATIONS[1](made)
    fixture = sqlite3.connect(_fixture_db(tmp_path / "fixture.db"))

    def schema(conn):  # type: ignore[no-untyped-def]
        rows = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
        return [(name, " ".join(sql.split())) for name, sql in rows]

    assert schema(made) == schema(fixture)


def test_a_newer_database_is_refused_untouched(home):
    home.mkdir()
    path = home / "progress.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer dlquiz"):
        Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_a_file_that_is_not_a_database_is_a_clear_error(home):
    home.mkdir()
    (home / "progress.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="progress database"):
        Store()


def test_reset_deletes_everything(home, clock):
    with Store() as store:
        sid = store.start_session(mode="adaptive", at=clock())
        pid = store.start_problem(family=DW, topic="x", seed=1, at=clock(), session_id=sid)
        store.finish_problem(
            pid,
            outcome=sched.SKIPPED,
            tries=0,
            hints=0,
            seconds=1,
            solution_viewed=False,
            at=clock(),
        )
        assert store.reset() == {"sessions": 1, "problems": 1, "attempts": 0, "cards": 1}
        assert store.counts() == {"sessions": 0, "problems": 0, "attempts": 0, "cards": 0}


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from dlquiz.practice.store import Store

    tag, count = sys.argv[1], int(sys.argv[2])
    store = Store()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(count):
        at = t0 + timedelta(seconds=i)
        pid = store.start_problem(family=sys.argv[3], topic="t", seed=i, at=at)
        store.record_attempt(pid, answer=f"{tag}-{i}", correct=False, mistake=None,
                             feedback="", try_number=1, hints=0, seconds=0.1, at=at)
        store.finish_problem(pid, outcome="wrong", tries=1, hints=0, seconds=0.1,
                             solution_viewed=False, at=at)
    store.close()
    """
)


def test_two_processes_writing_at_once_lose_nothing(home):
    Store().close()  # create it first, so both writers start on the same file
    count = 150
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, tag, str(count), family])
        for tag, family in (("a", DW), ("b", DW))
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    with Store() as store:
        answers = {a for (a,) in store.conn.execute("SELECT answer FROM attempts")}
        assert answers == {f"{tag}-{i}" for tag in "ab" for i in range(count)}
        assert store.counts()["problems"] == 2 * count
        # Both wrote the same family's card: every review counted, none lost.
        assert store.conn.execute("SELECT reviews FROM cards").fetchone()[0] == 2 * count


def _fixture_v2(path):  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "progress-v2.sql").read_text())
    conn.close()
    return path


def test_a_version_2_database_gains_family_versions_keeping_every_row(home):
    """Version 3 adds the family version of each problem; rows from before have none."""
    home.mkdir()
    path = _fixture_v2(home / "progress.db")
    before = sqlite3.connect(path)
    old_rows = before.execute("SELECT * FROM problems ORDER BY id").fetchall()
    old_attempts = before.execute("SELECT * FROM attempts ORDER BY id").fetchall()
    old_cards = before.execute("SELECT * FROM cards ORDER BY family").fetchall()
    before.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
        rows = store.query("SELECT * FROM problems ORDER BY id")
        assert [tuple(r)[: len(old_rows[0])] for r in rows] == old_rows
        assert [r["family_version"] for r in rows] == [None, None, None]
        assert [tuple(a) for a in store.query("SELECT * FROM attempts ORDER BY id")] == old_attempts
        assert [tuple(c) for c in store.query("SELECT * FROM cards ORDER BY family")] == old_cards
    backup = sqlite3.connect(home / "progress.db.v2.bak")
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 2
    backup.close()


def test_history_says_which_problems_an_older_bank_built(home, clock):
    from dlquiz.bank import families
    from dlquiz.practice.report import history

    current = families()[DW].version
    with Store() as store:
        for version in (current, "0123456789ab", None):
            store.start_problem(
                family=DW, topic="linear-regression", seed=3, at=clock(), family_version=version
            )
        store.start_problem(family="mlp/gone", topic="mlp", seed=1, at=clock(), family_version="x")
        rows = history(store)
    assert [r["older_bank"] for r in rows] == [True, True, True, False]  # newest first
    assert [r["family_version"] for r in rows] == ["x", None, "0123456789ab", current]


def test_the_history_command_flags_an_attempt_from_an_older_bank(home, clock):
    from typer.testing import CliRunner

    from dlquiz.cli import app

    with Store() as store:
        store.start_problem(
            family=DW, topic="linear-regression", seed=3, at=clock(), family_version="stale"
        )
    r = CliRunner().invoke(app, ["history"])
    assert r.exit_code == 0, r.output
    assert f"dlquiz show {DW} --seed 3` may now show another problem" in " ".join(r.stdout.split())
    data = __import__("json").loads(CliRunner().invoke(app, ["history", "--json"]).stdout)
    assert data["problems"][0]["older_bank"] is True
